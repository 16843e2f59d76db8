import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { until } from './utils/live';
import { ehrAway, OUTAGE_ENV } from './utils/outage';
import { requeueFailedWrites } from '../src/modules/ehr/ehr-writes';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';

const CONSENTS = 'query($c: ID!) { client(id: $c) { consents { id topic description granted changedAt } } }';
const SET = 'mutation($id: ID!, $g: Boolean!) { setConsent(consentId: $id, granted: $g) { id topic description granted changedAt } }';
type Consent = { id: string; topic: string; description: string | null; granted: boolean; changedAt: string | null };

/** The EHR's consents (toestemming: the GP, ROM, research), changed by the client only and written back. */
describe('consents from the EHR', () => {
  let t: TestApp;
  let token: string;
  let karenId: string;
  let demo: DemoEhrAdapter;
  beforeAll(async () => {
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '300' } });
    token = await t.login('client@demo.test');
    [karenId] = await portalIds(t, token);
    demo = t.app.services.registry.adapter('demo') as DemoEhrAdapter;
  });
  afterAll(async () => t.stop());
  /** The EHR's ones (the portal's own PARENT_ACCESS is listed first for a client of 16 or older). */
  const consents = async (as = token) =>
    ((await t.gql(CONSENTS, { c: karenId }, as)).body.data.client.consents as Consent[]).filter((c) => c.id.startsWith('ehr:'));
  const research = () => `ehr:${karenId}:demo:onderzoek`;

  it('shows the EHR’s consents with their descriptions, and the client’s change goes to the EHR, shows at once and on the next (cached) read, logged', async () => {
    const before = await consents();
    expect(before.map((c) => [c.id, c.granted])).toEqual([
      [`ehr:${karenId}:demo:huisarts`, true],
      [`ehr:${karenId}:demo:rom`, true],
      [research(), false],
    ]);
    expect(before[2].description).toBe('Benaderd worden voor wetenschappelijk onderzoek');
    const { body } = await t.gql(SET, { id: research(), g: true }, token);
    expect(body.errors).toBeUndefined();
    expect(body.data.setConsent).toMatchObject({ id: research(), granted: true, description: 'Benaderd worden voor wetenschappelijk onderzoek' });
    expect((await consents()).find((c) => c.id === research())).toMatchObject({ granted: true, changedAt: body.data.setConsent.changedAt });
    expect(demo.consents.get('cl-karen')?.get('onderzoek')).toMatchObject({ granted: true, by: { name: 'Karen Test', kind: 'CLIENT' } });
    const lines = (await t.app.services.audit.list(karenId, 100)).filter((e) => e.eventType === 'consent.update');
    expect(lines[0]).toMatchObject({ action: 'U', resource: 'Toestemming: Benaderd worden voor wetenschappelijk onderzoek (gegeven)' });
  });

  it('lets only the client change them: a network member who may see them cannot, and an unknown topic is NOT_FOUND', async () => {
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.DOSSIER_VIEW], false);
    const ellen = await t.login('relative@demo.test');
    expect((await consents(ellen)).length).toBe(3);
    expect((await t.gql(SET, { id: research(), g: false }, ellen)).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'CLIENT_ONLY' });
    expect(demo.consents.get('cl-karen')?.get('onderzoek')?.granted).toBe(true);
    expect((await t.gql(SET, { id: `ehr:${karenId}:demo:bestaat-niet`, g: true }, token)).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('shows the insurance the care organisation records, read-only, in the dossier', async () => {
    const { body } = await t.gql('query($c: ID!) { client(id: $c) { dossier { insurance { insurer policyNumber from until } } } }', { c: karenId }, token);
    expect(body.data.client.dossier.insurance).toEqual([{ insurer: 'Zilveren Kruis', policyNumber: '123456789', from: '2026-01-01', until: '2026-12-31' }]);
  });
});

describe('a consent changed while the EHR is away (the EHR write outbox)', () => {
  it('shows the change at once with syncStatus PENDING; changed twice, the EHR ends as the client left it', async () => {
    const ehr = ehrAway('setConsent');
    const t = await startTestApp({
      env: OUTAGE_ENV,
      adapters: { demo: ehr },
    });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const id = `ehr:${karenId}:demo:onderzoek`;
      const set = (g: boolean) =>
        t.gql('mutation($id: ID!, $g: Boolean!) { setConsent(consentId: $id, granted: $g) { granted syncStatus } }', { id, g }, token);
      const shown = async () =>
        (
          (await t.gql('query($c: ID!) { client(id: $c) { consents { id granted syncStatus } } }', { c: karenId }, token)).body.data.client.consents as {
            id: string;
            granted: boolean;
            syncStatus: string | null;
          }[]
        ).find((c) => c.id === id)!;
      expect((await set(true)).body.data.setConsent).toEqual({ granted: true, syncStatus: 'PENDING' });
      expect(await shown()).toMatchObject({ granted: true, syncStatus: 'PENDING' });
      expect((await set(false)).body.data.setConsent).toEqual({ granted: false, syncStatus: 'PENDING' });
      expect(await shown()).toMatchObject({ granted: false, syncStatus: 'PENDING' });
      expect((await t.app.db.query("SELECT status FROM ehr_writes WHERE method = 'setConsent' ORDER BY created_at")) as { status: string }[]).toEqual([
        { status: 'superseded' },
        { status: 'pending' },
      ]);
      ehr.down = false;
      await until(async () => ((await shown()).syncStatus === null ? true : undefined), 5000, 'the delivery');
      expect(await shown()).toMatchObject({ granted: false, syncStatus: null });
      expect(ehr.consents.get('cl-karen')?.get('onderzoek')?.granted).toBe(false);
    } finally {
      await t.stop();
    }
  });
});

describe('a consent changed again while the EHR is still taking the first change (a slow EHR)', () => {
  it('hands the second change over only after the first settled, so the EHR ends as the client left it', async () => {
    const ehr = new DemoEhrAdapter();
    const real = ehr.setConsent.bind(ehr);
    let release: (() => void) | undefined;
    const calls: boolean[] = [];
    ehr.setConsent = async (clientId, choice, ctx) => {
      calls.push(choice.granted);
      // The first change takes the EHR a while; it is applied when it finally answers.
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return real(clientId, choice, ctx);
    };
    const t = await startTestApp({ env: { ...OUTAGE_ENV, ADAPTER_TIMEOUT_MS: '10000' }, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const id = `ehr:${karenId}:demo:onderzoek`;
      const set = (g: boolean) =>
        t.gql('mutation($id: ID!, $g: Boolean!) { setConsent(consentId: $id, granted: $g) { granted syncStatus } }', { id, g }, token);
      const granting = set(true);
      await until(() => release, 5000, 'the first change at the EHR');
      // Revoked while the grant is still under way: it waits for the grant, shown as the client chose it.
      expect((await set(false)).body.data.setConsent).toEqual({ granted: false, syncStatus: 'PENDING' });
      expect(calls).toEqual([true]);
      release!();
      // Its answer shows the client's latest choice (the revocation, waiting).
      expect((await granting).body.data.setConsent).toMatchObject({ granted: false });
      await until(() => (calls.length === 2 ? true : undefined), 5000, 'the second change at the EHR');
      await until(async () => (ehr.consents.get('cl-karen')?.get('onderzoek')?.granted === false ? true : undefined), 5000, 'the revocation applied');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(calls).toEqual([true, false]);
      expect(ehr.consents.get('cl-karen')?.get('onderzoek')?.granted).toBe(false);
    } finally {
      await t.stop();
    }
  });
});

describe('a consent change the EHR never takes (a dead letter of the EHR write outbox)', () => {
  it('shows FAILED after OUTBOX_MAX_ATTEMPTS (degraded /readyz), and goes once it is requeued and the EHR is back', async () => {
    const ehr = ehrAway('setConsent');
    const t = await startTestApp({ env: { ...OUTAGE_ENV, OUTBOX_MAX_ATTEMPTS: '3' }, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const id = `ehr:${karenId}:demo:onderzoek`;
      expect(
        (await t.gql('mutation($id: ID!) { setConsent(consentId: $id, granted: true) { syncStatus } }', { id }, token)).body.data.setConsent.syncStatus,
      ).toBe('PENDING');
      const state = async () =>
        (
          (await t.gql('query($c: ID!) { client(id: $c) { consents { id syncStatus } } }', { c: karenId }, token)).body.data.client.consents as {
            id: string;
            syncStatus: string | null;
          }[]
        ).find((c) => c.id === id)!.syncStatus;
      await until(async () => ((await state()) === 'FAILED' ? true : undefined), 5000, 'the dead letter');
      expect(ehr.tries).toBe(3);
      expect((await (await fetch(`${t.base}/readyz`)).json()) as { status: string; outbox: { failed: number } }).toMatchObject({
        status: 'degraded',
        outbox: { failed: 1 },
      });
      ehr.down = false;
      expect(await requeueFailedWrites(t.app.db)).toBe(1);
      await until(async () => ((await state()) === null ? true : undefined), 5000, 'the delivery after the requeue');
      expect(ehr.consents.get('cl-karen')?.get('onderzoek')?.granted).toBe(true);
    } finally {
      await t.stop();
    }
  });
});

describe('a consent change the EHR refuses (its own rules, changed there meanwhile)', () => {
  it('answers CONFLICT with the consent as the EHR has it now, and shows it so', async () => {
    /** The EHR keeps research consent as its own team set it: it refuses the client's change. */
    class KeptEhr extends DemoEhrAdapter {
      override async setConsent(): Promise<{ done: false; refusal: 'NOT_CHANGEABLE'; reason: string }> {
        return { done: false, refusal: 'NOT_CHANGEABLE', reason: 'Changed by the care organisation meanwhile.' };
      }
    }
    const t = await startTestApp({ env: OUTAGE_ENV, adapters: { demo: new KeptEhr() } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const id = `ehr:${karenId}:demo:onderzoek`;
      const before = ((await t.gql(CONSENTS, { c: karenId }, token)).body.data.client.consents as Consent[]).find((c) => c.id === id)!;
      const reads = async () => (await t.app.services.audit.list(karenId, 200)).filter((e) => e.eventType === 'consents.read').length;
      const readsBefore = await reads();
      const { body } = await t.gql(SET, { id, g: !before.granted }, token);
      expect(body.errors?.[0]?.extensions).toEqual({ code: 'CONFLICT', current: { id, granted: before.granted, changedAt: before.changedAt } });
      // The consent that left with the refusal is in the client's access log as a read.
      expect(await reads()).toBe(readsBefore + 1);
      expect(((await t.gql(CONSENTS, { c: karenId }, token)).body.data.client.consents as Consent[]).find((c) => c.id === id)).toEqual(before);
      expect(await t.app.db.query("SELECT status FROM ehr_writes WHERE method = 'setConsent'")).toEqual([{ status: 'refused' }]);
    } finally {
      await t.stop();
    }
  });
});
