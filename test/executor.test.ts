import { createHash } from 'node:crypto';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { describeWithMariaDb } from './utils/services';
import { RawTable } from '../src/db/raw-table';
import { AccountEntity } from '../src/modules/identity/account.entity';
import { PortalLinkEntity } from '../src/modules/identity/portal-link.entity';
import { AccessLogEntity } from '../src/audit/access-log.entity';

const SCREEN = `query Screen($id: ID!) {
  client(id: $id) {
    appointments(when: ALL) { id start end type location online source practitioner { id name profession } }
    dashboard { upcomingAppointmentCount dossierPartCount nextAppointment { start practitioner { name } } }
    dossier { medications { id name dosage prescriber { name } } treatmentTeam { role from practitioner { id name } } reports { id date title } }
  }
}`;

/**
 * The rest of a portal, for the leaf values that come from our database rather than the EHR (counts,
 * flags, enums): served as the resolvers give them, they must have the types graphql-js would
 * serve, on MariaDB as on SQLite. No times (the two apps seed a moment apart) and nothing that
 * reading changes (the probes run twice on one app).
 */
const PORTAL = `query Portal($id: ID!) {
  me { displayName email notificationSettings { newMessage newDocument newAppointment newQuestionnaire } portals { relation isAdmin permissions client { name birthDate } } }
  client(id: $id) {
    dashboard { upcomingAppointmentCount dossierPartCount activity { appointmentsHeld newDocuments newMessages newReports } }
    conversations { kind subject archived unreadCount participants { kind name } }
    network { name email status permissions admin }
    consents { topic granted description }
    videoCall { ready joinUrl }
    dossier { treatmentPlan { status goals { description } } treatmentEffort { plannedMinutes realisedMinutes activities { minutes activity } } documents { name mediaType needsApproval } }
  }
}`;

const START_CONVERSATION = `mutation($clientId: ID!, $subject: String!, $recipientIds: [ID!]!, $body: String!) {
  startConversation(clientId: $clientId, subject: $subject, recipientIds: $recipientIds, body: $body) { id }
}`;

/** Answers that must not differ between the executors: data, and errors with their codes and paths. */
const PROBES: { name: string; query: string; who: 'client' | 'member' | 'stranger' }[] = [
  { name: 'a whole screen', query: SCREEN, who: 'client' },
  { name: 'the rest of the portal', query: PORTAL, who: 'client' },
  { name: 'a network member refused the dossier at its path', query: SCREEN, who: 'member' },
  { name: 'a stranger refused the client', query: SCREEN, who: 'stranger' },
  { name: 'a bad enum value', query: 'query($id: ID!) { client(id: $id) { appointments(when: SOMETIME) { id } } }', who: 'client' },
  {
    name: 'the questionnaires (from the EHR, with the portal’s drafts)',
    query: 'query($id: ID!) { client(id: $id) { questionnaires { id title status pages { questions { id type options answer } } } } }',
    who: 'client',
  },
  {
    name: 'the diary (the portal’s own records)',
    query: 'query($id: ID!) { client(id: $id) { diary { id text author createdAt } story { text } } }',
    who: 'client',
  },
];

const LOGINS = { client: 'client@demo.test', member: 'relative@demo.test', stranger: 'stranger@demo.test' } as const;

function executorSuite(database: 'sqlite' | 'mariadb') {
  let jit: TestApp;
  let reference: TestApp;
  beforeAll(async () => {
    jit = await startTestApp({ database, env: { GRAPHQL_EXECUTOR: 'jit' } });
    reference = await startTestApp({ database, env: { GRAPHQL_EXECUTOR: 'graphql-js' } });
    // The same conversation in both, so conversations and their counts come from the database.
    for (const t of [jit, reference]) {
      const token = await t.login(LOGINS.client);
      const [clientId] = await portalIds(t, token);
      const started = await t.gql(
        START_CONVERSATION,
        { clientId, subject: 'Vraag over medicatie', recipientIds: ['demo:pr-bakker'], body: 'Mag ik de dosis verlagen?' },
        token,
      );
      expect(started.body.errors).toBeUndefined();
    }
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
    it(`the same answer for ${probe.name}, also when asked again (the direct path)`, async () => {
      const [a, again, b] = [await answer(jit, probe), await answer(jit, probe), await answer(reference, probe)];
      // Client ids are per database; everything else must match byte for byte.
      const normalise = (x: unknown) => JSON.stringify(x).replace(/"[0-9a-f-]{36}"/g, '"<uuid>"');
      expect(a.status).toBe(b.status);
      expect(normalise(a.body)).toBe(normalise(b.body));
      expect(again.status).toBe(b.status);
      expect(normalise(again.body)).toBe(normalise(b.body));
    });
  }

  it('answers data for the whole screen, with a code on every error', async () => {
    const a = await answer(jit, PROBES[0]);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data.client.appointments.length).toBeGreaterThan(0);
    expect(a.body.data.client.appointments[0].practitioner.name).toBeTruthy();
    const member = await answer(jit, PROBES[2]);
    expect(member.body.errors?.every((e) => typeof e.extensions?.code === 'string')).toBe(true);
    const portal = await answer(jit, PROBES[1]);
    expect(portal.body.errors).toBeUndefined();
    expect(portal.body.data.client.conversations.length).toBeGreaterThan(0);
  });
}

describe('the compiled (graphql-jit) executor answers exactly what graphql-js answers (SQLite)', () => executorSuite('sqlite'));
describeWithMariaDb('the compiled (graphql-jit) executor answers exactly what graphql-js answers (MariaDB)', () => executorSuite('mariadb'));

describe('the direct path: a query text Apollo accepted before runs without its pipeline', () => {
  let t: TestApp;
  let token: string;
  let memberToken: string;
  let id: string;
  beforeAll(async () => {
    t = await startTestApp();
    token = await t.login(LOGINS.client);
    memberToken = await t.login(LOGINS.member);
    [id] = await portalIds(t, token);
  });
  afterAll(async () => t?.stop());

  async function post(query: string, bearer: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, ...headers },
      body: JSON.stringify({ query, variables: { id } }),
    });
    const text = await res.text();
    const sent = [...res.headers].filter(([name]) => !['x-request-id', 'date'].includes(name));
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      requestId: res.headers.get('x-request-id')!,
      text,
      headers: sent,
      body: JSON.parse(text),
    };
  }
  const direct = async () => (await t.app.services.metrics.graphqlDirect.get()).values[0]?.value ?? 0;
  const operations = async (outcome: string) =>
    (await t.app.services.metrics.graphqlOperations.get()).values.find((v) => v.labels.operation === 'Screen' && v.labels.outcome === outcome)?.value ?? 0;
  const logLines = (requestId: string) => t.app.db.getRepository(AccessLogEntity).countBy({ requestId });

  it('answers a repeated query directly, with the same data, the same access-log lines and the operation counted', async () => {
    const first = await post(SCREEN, token);
    const before = await direct();
    const okBefore = await operations('ok');
    const second = await post(SCREEN, token);
    expect(await direct()).toBe(before + 1);
    expect(await operations('ok')).toBe(okBefore + 1);
    expect(second.status).toBe(200);
    expect(second.type).toBe('application/json; charset=utf-8');
    // The same bytes and headers as Apollo's answer: a client (or a cache, or a benchmark checking bodies) sees no difference.
    expect(second.text).toBe(first.text);
    expect(second.headers).toEqual(first.headers);
    expect(await logLines(second.requestId)).toBe(await logLines(first.requestId));
    expect(await logLines(second.requestId)).toBeGreaterThan(0);
  });

  it('hands an answer with errors to Apollo without running it twice: same errors, same log lines, counted as an error', async () => {
    const first = await post(SCREEN, memberToken);
    const before = await direct();
    const errorsBefore = await operations('error');
    const second = await post(SCREEN, memberToken);
    expect(await direct()).toBe(before);
    expect(await operations('error')).toBe(errorsBefore + 1);
    expect(second.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(second.body).toEqual(first.body);
    // Executing a second time would write the agenda line twice.
    expect(await logLines(second.requestId)).toBe(await logLines(first.requestId));
  });

  it('answers Apollo Client 4 directly too (its Accept header and clientLibrary extension), with the content type Apollo chose for it and the same bytes', async () => {
    const accept = 'application/graphql-response+json,application/json;q=0.9';
    const asApolloClient = async () => {
      const res = await fetch(`${t.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: SCREEN, variables: { id }, extensions: { clientLibrary: { name: '@apollo/client', version: '4.0.0' } } }),
      });
      return {
        type: res.headers.get('content-type'),
        text: await res.text(),
        headers: [...res.headers].filter(([n]) => !['x-request-id', 'date'].includes(n)),
      };
    };
    const first = await asApolloClient();
    expect(first.type).toBe('application/graphql-response+json; charset=utf-8');
    const before = await direct();
    const second = await asApolloClient();
    expect(await direct()).toBe(before + 1);
    expect(second.text).toBe(first.text);
    expect(second.headers).toEqual(first.headers);
    expect(JSON.parse(second.text).data.client.appointments.length).toBeGreaterThan(0);
  });

  it('answers a GET as urql asks directly too (query in the URL, its Accept header, the preflight header), with the same bytes and headers as Apollo', async () => {
    const accept = 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';
    const search = new URLSearchParams({ query: SCREEN, operationName: 'Screen', variables: JSON.stringify({ id }) });
    const get = async (headers: Record<string, string>, params = search) => {
      const res = await fetch(`${t.base}/graphql?${params.toString()}`, { headers: { accept, authorization: `Bearer ${token}`, ...headers } });
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        requestId: res.headers.get('x-request-id')!,
        text: await res.text(),
        headers: [...res.headers].filter(([n]) => !['x-request-id', 'date'].includes(n)),
      };
    };
    const first = await get({ 'apollo-require-preflight': 'true' });
    expect(first.status).toBe(200);
    expect(first.type).toBe('application/graphql-response+json; charset=utf-8');
    const before = await direct();
    const second = await get({ 'apollo-require-preflight': 'true' });
    expect(await direct()).toBe(before + 1);
    expect(second.text).toBe(first.text);
    expect(second.headers).toEqual(first.headers);
    expect(JSON.parse(second.text).data.client.appointments.length).toBeGreaterThan(0);
    expect(await logLines(second.requestId)).toBe(await logLines(first.requestId));
    // Apollo's other header for CSRF prevention, and a GET with a JSON content type, also pass.
    expect((await get({ 'x-apollo-operation-name': 'Screen' })).text).toBe(first.text);
    expect((await get({ 'content-type': 'application/json' })).text).toBe(first.text);
    expect(await direct()).toBe(before + 3);

    // What Apollo refuses stays refused, by Apollo: no preflight header (a link a page could embed),
    // an empty one, another content type, a parameter given twice, variables that are not JSON.
    const refused = [
      await get({}),
      await get({ 'apollo-require-preflight': '' }),
      await get({ 'apollo-require-preflight': 'true', 'content-type': 'text/plain' }),
      await get({ 'apollo-require-preflight': 'true' }, new URLSearchParams([...search, ['query', SCREEN]])),
      await get({ 'apollo-require-preflight': 'true' }, new URLSearchParams({ query: SCREEN, variables: '{id' })),
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 400, 415, 400, 400]);
    expect(refused.every((r) => !r.text.includes('"data"'))).toBe(true);
    expect(await direct()).toBe(before + 3);
  });

  it('answers a persisted query sent by its hash alone (APQ) once Apollo has registered it, and leaves to Apollo a hash its cache does not hold', async () => {
    const hash = createHash('sha256').update(SCREEN).digest('hex');
    const persisted = (extensions: Record<string, unknown>, query?: string) =>
      fetch(`${t.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables: { id }, extensions }),
      });
    const read = async (res: Response) => ({
      status: res.status,
      text: await res.text(),
      headers: [...res.headers].filter(([n]) => !['x-request-id', 'date'].includes(n)),
    });
    const persistedQuery = { version: 1, sha256Hash: hash };
    await post(SCREEN, token);
    const before = await direct();
    // The text is known (asked as text before) but was never registered: Apollo's answer, not the direct path's.
    const miss = await read(await persisted({ persistedQuery }));
    expect(JSON.parse(miss.text).errors?.[0]?.message).toBe('PersistedQueryNotFound');
    const registered = await read(await persisted({ persistedQuery }, SCREEN));
    expect(JSON.parse(registered.text).data.client.appointments.length).toBeGreaterThan(0);
    expect(await direct()).toBe(before);
    // Registered: the hash alone (as Apollo Client's persisted-query link sends it, with its clientLibrary) is answered directly, by POST and by GET.
    const byHash = await read(await persisted({ clientLibrary: { name: '@apollo/client', version: '4.0.0' }, persistedQuery }));
    expect(byHash.text).toBe(registered.text);
    expect(byHash.headers).toEqual(registered.headers);
    const search = new URLSearchParams({ variables: JSON.stringify({ id }), extensions: JSON.stringify({ persistedQuery }) });
    const byGet = await fetch(`${t.base}/graphql?${search.toString()}`, { headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' } });
    expect(await byGet.text()).toBe(registered.text);
    expect(await direct()).toBe(before + 2);
    // Another version, or a text with a hash (a registration Apollo checks): Apollo's.
    expect((await persisted({ persistedQuery: { version: 2, sha256Hash: hash } })).status).toBe(400);
    expect((await read(await persisted({ persistedQuery }, SCREEN))).text).toBe(registered.text);
    expect(await direct()).toBe(before + 2);
  });

  it('never answers a GET that asks for the landing page, nor a mutation by GET', async () => {
    const search = new URLSearchParams({ query: SCREEN, variables: JSON.stringify({ id }) });
    const html = { accept: 'text/html,application/json;q=0.9', 'apollo-require-preflight': 'true', authorization: `Bearer ${token}` };
    const page = await fetch(`${t.base}/graphql?${search.toString()}`, { headers: html });
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    await page.text();
    const before = await direct();
    // Asked as a POST with the same Accept, Apollo answers JSON: learned for POST, not for GET.
    expect((await post(SCREEN, token, { accept: html.accept })).status).toBe(200);
    await post(SCREEN, token, { accept: html.accept });
    const again = await fetch(`${t.base}/graphql?${search.toString()}`, { headers: html });
    expect(again.headers.get('content-type')).toMatch(/^text\/html/);
    await again.text();
    const mutation = await fetch(`${t.base}/graphql?${new URLSearchParams({ query: 'mutation { logout }' }).toString()}`, {
      headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${token}` },
    });
    expect(mutation.status).toBe(405);
    expect(await direct()).toBe(before + 1);
  });

  it('leaves to Apollo what it would answer differently: another extension, or an Accept header it refuses', async () => {
    await post(SCREEN, token);
    const before = await direct();
    const withExtension = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: SCREEN, variables: { id }, extensions: { persistedQuery: { version: 1, sha256Hash: 'wrong' } } }),
    });
    expect(withExtension.status).toBe(400);
    const refused = await post(SCREEN, token, { accept: 'text/html' });
    expect(refused.status).toBe(406);
    expect(await direct()).toBe(before);
  });

  it('never takes a mutation, and a revoked session is refused on the direct path too', async () => {
    const session = await t.login(LOGINS.client);
    await post(SCREEN, session);
    const mutation = 'mutation { logout }';
    await post(mutation, session);
    const other = await t.login(LOGINS.client);
    const before = await direct();
    await post(mutation, other);
    expect(await direct()).toBe(before);
    const refused = await post(SCREEN, session);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(refused.body.data?.client ?? null).toBeNull();
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
      const raw = await new RawTable<AccountEntity | PortalLinkEntity>(t.app.db, entity).findIn(
        'id',
        rows.map((r) => r.id),
      );
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
