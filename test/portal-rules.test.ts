import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { DEMO_BSN } from '../adapters/demo/demo-data';
import { clientIdOf, portalIds, startTestApp, type TestApp } from './utils/app';

const DAY = 86_400_000;
const yearsAgo = (years: number) => new Date(Date.now() - years * 365.25 * DAY).toISOString().slice(0, 10);

describe('who may see a portal: minors from 16, and the end of treatment', () => {
  let t: TestApp;
  const demo = new DemoEhrAdapter();
  const record = (externalId: string) => demo.data.clients.find((c) => c.client.externalId === externalId)!;
  beforeAll(async () => {
    t = await startTestApp({ adapters: { demo }, env: { TREATMENT_END_GRACE_DAYS: '0', TREATMENT_END_READ_ONLY_DAYS: '30' } });
  });
  afterAll(async () => t.stop());

  it('lets a child from 16 decide whether the parents still see the portal', async () => {
    record('cl-sanne').client.birthDate = yearsAgo(16.5);
    const parent = await t.login('parent@demo.test');
    const sanneToken = await t.login({ bsn: DEMO_BSN.sanne });
    const [sanneId] = await portalIds(t, sanneToken);
    const q = 'query($id: ID!) { client(id: $id) { appointments { id } } }';

    const refused = await t.gql(q, { id: sanneId }, parent);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'CHILD_DECIDES' });

    const consents = await t.gql('query($id: ID!) { client(id: $id) { consents { id granted } } }', { id: sanneId }, sanneToken);
    const consent = consents.body.data.client.consents[0];
    expect(consent.granted).toBe(false);

    const byParent = await t.gql('mutation($c: ID!) { setConsent(consentId: $c, granted: true) { granted } }', { c: consent.id }, parent);
    expect(byParent.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bySanne = await t.gql('mutation($c: ID!) { setConsent(consentId: $c, granted: true) { granted changedAt } }', { c: consent.id }, sanneToken);
    expect(bySanne.body.data.setConsent.granted).toBe(true);
    expect((await t.gql(q, { id: sanneId }, parent)).body.errors).toBeUndefined();

    await t.gql('mutation($c: ID!) { setConsent(consentId: $c, granted: false) { granted } }', { c: consent.id }, sanneToken);
    expect((await t.gql(q, { id: sanneId }, parent)).body.errors?.[0]?.extensions?.reason).toBe('CHILD_DECIDES');
  });

  it('does not look among the documents of a child of 16 who has not given the parent access: approving one of them is NOT_FOUND, and nothing is approved', async () => {
    record('cl-sanne').client.birthDate = yearsAgo(16.5);
    const sanne = record('cl-sanne');
    sanne.documents.push({
      externalId: 'dc-s-akkoord',
      name: 'Behandelplan Sanne.pdf',
      mediaType: 'application/pdf',
      uploadedBy: 'M. Jansen',
      uploadedAt: new Date().toISOString(),
      needsApproval: true,
      approvedAt: null,
      content: 'Behandelplan.',
    });
    try {
      const parent = await t.login('parent@demo.test');
      const { body } = await t.gql('mutation($id: ID!) { approveDocument(documentId: $id) { id approvedAt } }', { id: 'demo:dc-s-akkoord' }, parent);
      // The parent still sees Daan's portal, so the id is looked for there, not in Sanne's.
      expect(body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(sanne.documents.find((d) => d.externalId === 'dc-s-akkoord')?.approvedAt).toBeNull();
    } finally {
      sanne.documents = sanne.documents.filter((d) => d.externalId !== 'dc-s-akkoord');
    }
  });

  it('keeps a parent’s access to a child under 16', async () => {
    record('cl-daan').client.birthDate = yearsAgo(9);
    const parent = await t.login('parent@demo.test');
    const daanId = await clientIdOf(t, 'cl-daan');
    const { body } = await t.gql('query($id: ID!) { client(id: $id) { name } }', { id: daanId }, parent);
    expect(body.errors).toBeUndefined();
    expect(body.data.client.name).toBe('Daan de Vries');
  });

  it('turns a portal read-only after treatment ends, and closes it after the read-only period', async () => {
    const karen = record('cl-karen').client;
    const token = await t.login('client@demo.test');
    const [id] = await portalIds(t, token);
    const read = 'query($id: ID!) { client(id: $id) { appointments { id } consents { id } } }';
    try {
      karen.inTreatment = false;
      karen.treatmentEndedAt = new Date(Date.now() - 10 * DAY).toISOString();
      const { body } = await t.gql(read, { id }, token);
      expect(body.errors).toBeUndefined();
      const write = await t.gql('mutation($c: ID!) { setConsent(consentId: $c, granted: true) { granted } }', { c: body.data.client.consents[0].id }, token);
      expect(write.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PORTAL_READ_ONLY' });
      // An akkoord is a change too: refused, and nothing reaches the EHR.
      const approval = await t.gql('mutation { approveDocument(documentId: "demo:dc-k-1") { approvedAt } }', undefined, token);
      expect(approval.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PORTAL_READ_ONLY' });
      expect(demo.calls.get('approve')).toBeUndefined();

      karen.treatmentEndedAt = new Date(Date.now() - 40 * DAY).toISOString();
      const closed = await t.gql(read, { id }, token);
      expect(closed.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'TREATMENT_ENDED' });
    } finally {
      karen.inTreatment = true;
      karen.treatmentEndedAt = null;
    }
  });
});
