import type { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { until } from './utils/live';
import { ehrAway, OUTAGE_ENV } from './utils/outage';

const UPCOMING = 'query($c: ID!) { client(id: $c) { appointments(when: UPCOMING) { id start type } } }';
const PAST = 'query($c: ID!) { client(id: $c) { appointments(when: PAST) { id } } }';
const CANCEL = 'mutation($a: ID!, $r: String) { cancelAppointment(appointmentId: $a, reason: $r) }';

/** Agenda management (Caren): calling off an upcoming appointment where the care organisation allows it. */
describe('cancelling an appointment', () => {
  let t: TestApp;
  let token: string;
  let karenId: string;
  let demo: DemoEhrAdapter;
  beforeAll(async () => {
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '300' } });
    token = await t.login('client@demo.test');
    [karenId] = await portalIds(t, token);
    demo = t.app.services.registry.adapter('demo') as DemoEhrAdapter;
    // One tomorrow morning, soon enough that the demo organisation wants a phone call.
    const karen = demo.data.clients.find((c) => c.client.externalId === 'cl-karen')!;
    const soon = new Date(Date.now() + 3 * 3_600_000).toISOString();
    karen.appointments.push({
      externalId: 'ap-k-soon',
      start: soon,
      end: new Date(Date.parse(soon) + 45 * 60_000).toISOString(),
      type: 'Behandeling',
      practitionerId: 'pr-elamrani',
      online: true,
    });
  });
  afterAll(async () => t.stop());
  const upcoming = async (as = token) =>
    (await t.gql(UPCOMING, { c: karenId }, as)).body.data.client.appointments as { id: string; start: string; type: string }[];

  it('calls off an appointment days ahead with a reason: it goes from the agenda (the cache too), the EHR has who and why, and the access log has it', async () => {
    const target = (await upcoming()).find((a) => Date.parse(a.start) - Date.now() > 48 * 3_600_000)!;
    const { body } = await t.gql(CANCEL, { a: target.id, r: '  Ik ben die week op vakantie.  ' }, token);
    expect(body.errors).toBeUndefined();
    expect(body.data.cancelAppointment).toBe(true);
    expect((await upcoming()).map((a) => a.id)).not.toContain(target.id);
    expect(demo.cancelled.get(`cl-karen:${target.id.slice('demo:'.length)}`)).toMatchObject({
      reason: 'Ik ben die week op vakantie.',
      by: { name: 'Karen Test', kind: 'CLIENT' },
    });
    expect((await t.app.services.audit.list(karenId, 50)).find((e) => e.eventType === 'agenda.appointment.cancel')).toMatchObject({
      action: 'U',
      resource: `Afspraak afgezegd: ${target.type}`,
    });
  });

  it('writes one agenda read to the access log for the dashboard’s next appointment and count, asked alone or together', async () => {
    const reads = async () => (await t.app.services.audit.list(karenId, 500)).filter((e) => e.eventType === 'agenda.read').length;
    const before = await reads();
    expect((await t.gql('query($c: ID!) { client(id: $c) { dashboard { nextAppointment { id } } } }', { c: karenId }, token)).body.errors).toBeUndefined();
    expect(await reads()).toBe(before + 1);
    const both = await t.gql('query($c: ID!) { client(id: $c) { dashboard { upcomingAppointmentCount nextAppointment { id } } } }', { c: karenId }, token);
    expect(both.body.errors).toBeUndefined();
    expect(await reads()).toBe(before + 2);
  });

  it('refuses what the organisation does not allow (within 24 hours, one held already), an unknown id, and a member without AGENDA_MANAGE', async () => {
    expect((await t.gql(CANCEL, { a: 'demo:ap-k-soon' }, token)).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_CANCELLABLE' });
    const [held] = (await t.gql(PAST, { c: karenId }, token)).body.data.client.appointments as { id: string }[];
    expect((await t.gql(CANCEL, { a: held.id }, token)).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_CANCELLABLE' });
    expect((await t.gql(CANCEL, { a: 'demo:ap-nope' }, token)).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], false);
    const viewer = await t.login('relative@demo.test');
    const next = (await upcoming(viewer)).find((a) => Date.parse(a.start) - Date.now() > 48 * 3_600_000)!;
    expect((await t.gql(CANCEL, { a: next.id }, viewer)).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION' });
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW, Permission.AGENDA_MANAGE], false);
    const manager = await t.login('relative@demo.test');
    expect((await t.gql(CANCEL, { a: next.id, r: 'Karen is ziek' }, manager)).body.data?.cancelAppointment).toBe(true);
    expect(demo.cancelled.get(`cl-karen:${next.id.slice('demo:'.length)}`)?.by.kind).toBe('NETWORK_MEMBER');
  });
});

describe('cancelling an appointment while the EHR is away', () => {
  it('is accepted and shown as called off (PENDING, not the next appointment, not counted), reaches the EHR once it is back, and is not sent twice', async () => {
    const ehr = ehrAway('cancelAppointment');
    const t = await startTestApp({ env: OUTAGE_ENV, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const AGENDA = `query($c: ID!) { client(id: $c) {
        appointments(when: UPCOMING) { id start cancelledAt syncStatus }
        dashboard { upcomingAppointmentCount nextAppointment { id } }
      } }`;
      const read = async () => (await t.gql(AGENDA, { c: karenId }, token)).body.data.client;
      const before = await read();
      const target = (before.appointments as { id: string; start: string }[]).find((a) => Date.parse(a.start) - Date.now() > 48 * 3_600_000)!;
      const { body } = await t.gql(CANCEL, { a: target.id, r: 'Verhuizing' }, token);
      expect(body.errors).toBeUndefined();
      expect(body.data.cancelAppointment).toBe(true);

      const during = await read();
      expect(during.appointments.find((a: { id: string }) => a.id === target.id)).toMatchObject({ cancelledAt: expect.any(String), syncStatus: 'PENDING' });
      expect(during.dashboard.upcomingAppointmentCount).toBe(before.dashboard.upcomingAppointmentCount - 1);
      expect(during.dashboard.nextAppointment?.id).not.toBe(target.id);
      // Asked again while it waits: the same answer, no second write.
      expect((await t.gql(CANCEL, { a: target.id }, token)).body.data.cancelAppointment).toBe(true);
      expect(await t.app.db.query("SELECT status FROM ehr_writes WHERE method = 'cancelAppointment'")).toEqual([{ status: 'pending' }]);

      ehr.down = false;
      await until(async () => ((await read()).appointments.some((a: { id: string }) => a.id === target.id) ? undefined : true), 5000, 'the EHR to take it');
      expect(ehr.cancelled.get(`cl-karen:${target.id.slice('demo:'.length)}`)).toMatchObject({ reason: 'Verhuizing', by: { kind: 'CLIENT' } });
      expect(await t.app.db.query("SELECT status FROM ehr_writes WHERE method = 'cancelAppointment'")).toEqual([{ status: 'delivered' }]);
    } finally {
      await t.stop();
    }
  });
});
