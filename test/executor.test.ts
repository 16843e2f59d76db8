import { portalIds, startTestApp, type TestApp } from './utils/app';
import { describeWithMariaDb } from './utils/services';
import { RawTable } from '../src/db/raw-table';
import { AccountEntity } from '../src/auth/account.entity';
import { PortalLinkEntity } from '../src/auth/portal-link.entity';
import { AccessLogEntity } from '../src/audit/access-log.entity';

const SCREEN = `query Screen($id: ID!) {
  client(id: $id) {
    appointments(when: ALL) { id start end type location online source practitioner { id name profession } }
    dashboard { upcomingAppointmentCount dossierPartCount nextAppointment { start practitioner { name } } }
    dossier { medications { id name dosage prescriber { name } } treatmentTeam { role from practitioner { id name } } reports { id date title } }
  }
}`;

/** Answers that must not differ between the executors: data, and errors with their codes and paths. */
const PROBES: { name: string; query: string; who: 'client' | 'member' | 'stranger' }[] = [
  { name: 'a whole screen', query: SCREEN, who: 'client' },
  { name: 'a network member refused the dossier at its path', query: SCREEN, who: 'member' },
  { name: 'a stranger refused the client', query: SCREEN, who: 'stranger' },
  { name: 'a bad enum value', query: 'query($id: ID!) { client(id: $id) { appointments(when: SOMETIME) { id } } }', who: 'client' },
  { name: 'a later issue’s field', query: 'query($id: ID!) { client(id: $id) { diary { id } } }', who: 'client' },
];

const LOGINS = { client: 'client@demo.test', member: 'relative@demo.test', stranger: 'stranger@demo.test' } as const;

describe('the compiled (graphql-jit) executor answers exactly what graphql-js answers', () => {
  let jit: TestApp;
  let reference: TestApp;
  beforeAll(async () => {
    jit = await startTestApp({ env: { GRAPHQL_EXECUTOR: 'jit' } });
    reference = await startTestApp({ env: { GRAPHQL_EXECUTOR: 'graphql-js' } });
  });
  afterAll(async () => {
    await jit?.stop();
    await reference?.stop();
  });

  async function answer(t: TestApp, probe: (typeof PROBES)[number]) {
    const clientToken = await t.login(LOGINS.client);
    const [id] = await portalIds(t, clientToken);
    const token = probe.who === 'client' ? clientToken : await t.login(LOGINS[probe.who]);
    return t.gql(probe.query, { id }, token);
  }

  for (const probe of PROBES) {
    it(`the same answer for ${probe.name}`, async () => {
      const [a, b] = [await answer(jit, probe), await answer(reference, probe)];
      // Client ids are per database; everything else must match byte for byte.
      const normalise = (x: unknown) => JSON.stringify(x).replace(/"[0-9a-f-]{36}"/g, '"<uuid>"');
      expect(a.status).toBe(b.status);
      expect(normalise(a.body)).toBe(normalise(b.body));
    });
  }

  it('answers data for the whole screen, with a code on every error', async () => {
    const a = await answer(jit, PROBES[0]!);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data.client.appointments.length).toBeGreaterThan(0);
    expect(a.body.data.client.appointments[0].practitioner.name).toBeTruthy();
    const member = await answer(jit, PROBES[1]!);
    expect(member.body.errors?.every((e) => typeof e.extensions?.code === 'string')).toBe(true);
  });
});

/** RawTable must read and write rows exactly as typeorm's repositories do, on every database. */
function rawTableSuite(database: 'sqlite' | 'mariadb') {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ database });
  });
  afterAll(async () => t?.stop());

  it('reads accounts and portal links as the repository does (dates, booleans, permission lists)', async () => {
    for (const entity of [AccountEntity, PortalLinkEntity] as const) {
      const repository = t.app.db.getRepository<AccountEntity | PortalLinkEntity>(entity);
      const rows = await repository.find({ order: { createdAt: 'ASC', id: 'ASC' } });
      expect(rows.length).toBeGreaterThan(2);
      const raw = await new RawTable<AccountEntity | PortalLinkEntity>(t.app.db, entity).findIn('id', rows.map((r) => r.id));
      expect(raw.map((r) => ({ ...r })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(rows.map((r) => ({ ...r })).sort((a, b) => a.id.localeCompare(b.id)));
    }
  });

  it('writes access-log lines the repository reads back unchanged', async () => {
    const at = new Date('2026-11-23T10:11:12.345Z');
    const line: AccessLogEntity = {
      id: `00000000-0000-4000-8000-${Date.now().toString().padStart(12, '0').slice(-12)}`,
      at,
      action: 'R',
      eventType: 'test.read',
      resource: 'Medicatie',
      clientId: 'c1',
      accountId: null,
      actorName: 'Tester',
      actorRole: 'SELF',
      onBehalfOf: null,
      accessPoint: '127.0.0.1',
      requestId: 'r1',
      authorisationApplied: true,
      treatmentRelationship: false,
      consentApplied: true,
      emergencyAccess: false,
    };
    await new RawTable(t.app.db, AccessLogEntity).insertMany([line]);
    const stored = await t.app.db.getRepository(AccessLogEntity).findOneByOrFail({ id: line.id });
    expect({ ...stored }).toEqual(line);
  });
}

describe('RawTable on SQLite', () => rawTableSuite('sqlite'));
describeWithMariaDb('RawTable on MariaDB', () => rawTableSuite('mariadb'));
