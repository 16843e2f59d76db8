import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { until } from './utils/live';
import { ehrAway, OUTAGE_ENV } from './utils/outage';

const documentsQuery = 'query($id: ID!) { client(id: $id) { dossier { documents { id name needsApproval approvedAt } } } }';
const planQuery = 'query($id: ID!) { client(id: $id) { dossier { treatmentPlan { id status approvedAt approvedBy } } } }';
const approveDocument = 'mutation($id: ID!) { approveDocument(documentId: $id) { id name needsApproval approvedAt } }';
const approvePlan = 'mutation($id: ID!) { approveTreatmentPlan(planId: $id) { id status approvedAt approvedBy responsiblePractitioners { name } } }';

const AGREEMENT = 'demo:dc-k-1';
const LETTER = 'demo:dc-k-2';
const PLAN = 'demo:bp-k-1';

/** The akkoord on a plan or document (issues 000, 002, 003), on the demo EHR with the EHR cache on. */
describe('approving a treatment plan or document', () => {
  let t: TestApp;
  let karenToken: string;
  let karenId: string;
  let demo: DemoEhrAdapter;
  const approvals = () => demo.calls.get('approve') ?? 0;
  const approveLines = async () => (await t.app.services.audit.list(karenId, 200)).filter((e) => e.eventType.endsWith('.approve'));
  /** Karen's sister Ellen (a network member) with these rights. */
  const ellen = async (permissions: Permission[]) => {
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, permissions, false);
    return t.login('relative@demo.test');
  };

  beforeAll(async () => {
    // The cache on: an approval must drop the cached documents and plan, or the next read hides it.
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '300' } });
    karenToken = await t.login('client@demo.test');
    [karenId] = (await portalIds(t, karenToken)) as [string];
    demo = t.app.services.registry.adapter('demo') as DemoEhrAdapter;
  });
  afterAll(async () => t?.stop());

  it('lets the client approve the treatment agreement: the answer and the next (cached) read carry approvedAt, and the access log has the line', async () => {
    const before = await t.gql(documentsQuery, { id: karenId }, karenToken);
    expect(before.body.data.client.dossier.documents.find((d: { id: string }) => d.id === AGREEMENT)).toMatchObject({ needsApproval: true, approvedAt: null });

    const started = Date.now();
    const { body } = await t.gql(approveDocument, { id: AGREEMENT }, karenToken);
    expect(body.errors).toBeUndefined();
    expect(body.data.approveDocument).toMatchObject({ id: AGREEMENT, name: 'Behandelovereenkomst.pdf', needsApproval: true });
    const approvedAt = body.data.approveDocument.approvedAt as string;
    expect(Date.parse(approvedAt)).toBeGreaterThanOrEqual(started - 1000);

    const after = await t.gql(documentsQuery, { id: karenId }, karenToken);
    expect(after.body.data.client.dossier.documents.find((d: { id: string }) => d.id === AGREEMENT)).toMatchObject({ approvedAt });

    expect(await approveLines()).toEqual([
      expect.objectContaining({
        action: 'U',
        eventType: 'dossier.document.approve',
        resource: 'Akkoord op document: Behandelovereenkomst.pdf',
        actorName: 'Karen Test',
        actorRole: 'SELF',
      }),
    ]);
    expect(approvals()).toBe(1);
  });

  it('answers an approved document unchanged when it is approved again, without writing to the EHR', async () => {
    const first = (await t.gql(documentsQuery, { id: karenId }, karenToken)).body.data.client.dossier.documents.find((d: { id: string }) => d.id === AGREEMENT);
    const { body } = await t.gql(approveDocument, { id: AGREEMENT }, karenToken);
    expect(body.errors).toBeUndefined();
    expect(body.data.approveDocument.approvedAt).toBe(first.approvedAt);
    expect(approvals()).toBe(1);
  });

  it('refuses a document that asks for no akkoord with BAD_USER_INPUT, and an unknown or malformed id with NOT_FOUND', async () => {
    const letter = await t.gql(approveDocument, { id: LETTER }, karenToken);
    expect(letter.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NOT_APPROVABLE' });
    for (const id of ['demo:dc-nope', 'no-colon', 'fhir:dc-k-1']) {
      const { body } = await t.gql(approveDocument, { id }, karenToken);
      expect(body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    expect((await t.gql(approvePlan, { id: 'demo:bp-nope' }, karenToken)).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(approvals()).toBe(1);
  });

  it('gives a stranger and a network member without DOSSIER_VIEW FORBIDDEN, and writes nothing', async () => {
    const linesBefore = (await approveLines()).length;
    const stranger = await t.login('stranger@demo.test');
    const agendaOnly = await ellen([Permission.AGENDA_VIEW]);
    for (const token of [stranger, agendaOnly]) {
      for (const [query, id] of [
        [approveDocument, 'demo:rp-k-5'],
        [approvePlan, PLAN],
      ] as const) {
        const { body } = await t.gql(query, { id }, token);
        expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(body.data).toBeNull();
      }
    }
    expect(approvals()).toBe(1);
    expect(await approveLines()).toHaveLength(linesBefore);
  });

  it('gives a network member who may see the dossier but not approve (no PLANS_APPROVE) FORBIDDEN, for the plan and for documents alike', async () => {
    const token = await ellen([Permission.AGENDA_VIEW, Permission.DOSSIER_VIEW]);
    const plan = await t.gql(approvePlan, { id: PLAN }, token);
    expect(plan.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION', action: 'APPROVE_PLAN' });
    const document = await t.gql(approveDocument, { id: AGREEMENT }, token);
    expect(document.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION', action: 'APPROVE_PLAN' });
    expect((await t.gql(planQuery, { id: karenId }, karenToken)).body.data.client.dossier.treatmentPlan).toMatchObject({
      status: 'AWAITING_APPROVAL',
      approvedAt: null,
    });
  });

  it("lets a network member with PLANS_APPROVE approve the plan: APPROVED with their name, logged as acting for the client; the client's approval then changes nothing", async () => {
    const token = await ellen([Permission.DOSSIER_VIEW, Permission.PLANS_APPROVE]);
    // Warm the cache with the plan awaiting approval.
    expect((await t.gql(planQuery, { id: karenId }, token)).body.data.client.dossier.treatmentPlan.status).toBe('AWAITING_APPROVAL');
    const { body } = await t.gql(approvePlan, { id: PLAN }, token);
    expect(body.errors).toBeUndefined();
    expect(body.data.approveTreatmentPlan).toMatchObject({
      id: PLAN,
      status: 'APPROVED',
      approvedBy: 'Ellen Test',
      responsiblePractitioners: [{ name: 'Jeroen Bakker' }, { name: 'Dr. Marieke de Groot' }],
    });
    const approvedAt = body.data.approveTreatmentPlan.approvedAt as string;
    expect(approvedAt).toBeTruthy();

    expect((await t.gql(planQuery, { id: karenId }, karenToken)).body.data.client.dossier.treatmentPlan).toMatchObject({
      status: 'APPROVED',
      approvedAt,
      approvedBy: 'Ellen Test',
    });
    const line = (await approveLines()).find((e) => e.eventType === 'dossier.treatmentplan.approve');
    expect(line).toMatchObject({
      action: 'U',
      resource: 'Akkoord op behandelplan',
      actorName: 'Ellen Test',
      actorRole: 'NETWORK_MEMBER',
      onBehalfOf: 'Karen Test',
    });

    const again = await t.gql(approvePlan, { id: PLAN }, karenToken);
    expect(again.body.data.approveTreatmentPlan).toMatchObject({ status: 'APPROVED', approvedAt, approvedBy: 'Ellen Test' });
    expect(approvals()).toBe(2);
  });
});

describe('approving a session report that asks for akkoord', () => {
  let t: TestApp;
  afterAll(async () => t?.stop());

  it('approves rp-k-5 once (the next read shows it, the access log has it, again changes nothing), refuses a report that asks nothing, and keeps a network member without PLANS_APPROVE out', async () => {
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '300' } });
    const token = await t.login('client@demo.test');
    const [karenId] = await portalIds(t, token);
    const demo = t.app.services.registry.adapter('demo') as DemoEhrAdapter;
    const reports = async () =>
      (await t.gql('query($id: ID!) { client(id: $id) { dossier { reports { id title needsApproval approvedAt } } } }', { id: karenId }, token)).body.data
        .client.dossier.reports as { id: string; needsApproval: boolean; approvedAt: string | null }[];
    expect((await reports()).find((r) => r.id === 'demo:rp-k-5')).toMatchObject({ needsApproval: true, approvedAt: null });
    const approve = (id: string, as = token) => t.gql('mutation($id: ID!) { approveReport(reportId: $id) { id title approvedAt } }', { id }, as);

    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.DOSSIER_VIEW], false);
    const refused = await approve('demo:rp-k-5', await t.login('relative@demo.test'));
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION' });

    const { body } = await approve('demo:rp-k-5');
    expect(body.errors).toBeUndefined();
    const approvedAt = body.data.approveReport.approvedAt as string;
    expect(approvedAt).toEqual(expect.any(String));
    expect((await reports()).find((r) => r.id === 'demo:rp-k-5')?.approvedAt).toBe(approvedAt);
    expect((await approve('demo:rp-k-5')).body.data.approveReport.approvedAt).toBe(approvedAt);
    expect(demo.calls.get('approve')).toBe(1);
    const lines = (await t.app.services.audit.list(karenId, 200)).filter((e) => e.eventType === 'dossier.report.approve');
    expect(lines.map((l) => l.action)).toEqual(['R', 'U']);
    expect(lines[1]).toMatchObject({ resource: 'Akkoord op verslag: Behandelsessie 2' });

    expect((await approve('demo:rp-k-4')).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NOT_APPROVABLE' });
    expect((await approve('demo:rp-nope')).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('approving at an EHR whose adapter cannot write approvals', () => {
  let t: TestApp;
  afterAll(async () => t?.stop());

  it('answers NOT_FOUND with reason NOT_IMPLEMENTED once the viewer is authorised, and a stranger still FORBIDDEN', async () => {
    const readOnly = Object.assign(new DemoEhrAdapter(), { approve: undefined });
    t = await startTestApp({ adapters: { demo: readOnly } });
    const token = await t.login('client@demo.test');
    const { body } = await t.gql(approveDocument, { id: AGREEMENT }, token);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'NOT_IMPLEMENTED' });
    expect(body.errors?.[0]?.message).toMatch(/not available/);
    const stranger = await t.login('stranger@demo.test');
    expect((await t.gql(approveDocument, { id: AGREEMENT }, stranger)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('an akkoord given while the EHR is away (the EHR write outbox)', () => {
  it('is shown as given with syncStatus PENDING (a second approve writes nothing more), and reaches the EHR once when it is back', async () => {
    const ehr = ehrAway('approve');
    const t = await startTestApp({ env: { ...OUTAGE_ENV, CACHE_TTL_SECONDS: '300' }, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const approve = () => t.gql('mutation($id: ID!) { approveDocument(documentId: $id) { id approvedAt syncStatus } }', { id: AGREEMENT }, token);
      const given = await approve();
      expect(given.body.errors).toBeUndefined();
      expect(given.body.data.approveDocument).toMatchObject({ approvedAt: expect.any(String), syncStatus: 'PENDING' });
      const listed = async () =>
        (
          (await t.gql('query($id: ID!) { client(id: $id) { dossier { documents { id approvedAt syncStatus } } } }', { id: karenId }, token)).body.data.client
            .dossier.documents as { id: string; approvedAt: string | null; syncStatus: string | null }[]
        ).find((d) => d.id === AGREEMENT)!;
      expect(await listed()).toMatchObject({ approvedAt: given.body.data.approveDocument.approvedAt, syncStatus: 'PENDING' });
      expect((await approve()).body.data.approveDocument.syncStatus).toBe('PENDING');
      const rows: { status: string }[] = await t.app.db.query("SELECT status FROM ehr_writes WHERE method = 'approve'");
      expect(rows).toEqual([{ status: 'pending' }]);

      ehr.down = false;
      await until(async () => ((await listed()).syncStatus === null ? true : undefined), 5000, 'the delivery');
      expect((await listed()).approvedAt).toEqual(expect.any(String));
      expect(ehr.calls.get('approve')).toBe(1); // the one that got through (the tries before it failed before the demo counted)
      expect(await t.app.db.query("SELECT status FROM ehr_writes WHERE method = 'approve'")).toEqual([{ status: 'delivered' }]);
    } finally {
      await t.stop();
    }
  });
});
