import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import type { EhrAdapter } from '../adapters/ports';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/auth/tokens';
import { SessionEntity } from '../src/modules/identity/session.entity';
import { SyncEventEntity } from '../src/events/sync-event.entity';
import { signSyncBody } from '../src/events/sync.signature';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { until } from './utils/live';
import { MARIADB_URL } from './utils/services';

/** A demo adapter that counts its calls: a hostile document must be refused before any resolver reads the EHR. */
function countingDemo(): { adapter: EhrAdapter; calls: () => number } {
  const demo = new DemoEhrAdapter();
  let calls = 0;
  const adapter = new Proxy(demo, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { adapter, calls: () => calls };
}

const deep = (n: number) => `{ me { ${Array.from({ length: n }, () => 'portals { client {').join(' ')} id ${'} }'.repeat(n)} } }`;
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
const directives = (n: number) => `{ me { id ${'@include(if: true) '.repeat(n)} } }`;
const manyTokens = (n: number) => `{ me { ${'id '.repeat(n)} } }`;
/** Each fragment spreads the previous one twice: 2^n fields from a short text. */
const expansion = (n: number) =>
  [
    `query { me { ...F${n} } }`,
    'fragment F0 on Viewer { id displayName }',
    ...Array.from({ length: n }, (_, i) => `fragment F${i + 1} on Viewer { ...F${i} ...F${i} }`),
  ].join('\n');
const DOSSIER = 'dossier { medications { name } allergies { substance } }';

/**
 * Documents a hostile client sends, each refused with a contract code before anything is executed.
 * `client` marks the ones that name the client (its dossier would reach the EHR if they ran).
 */
function hostileDocuments(clientId: string): { name: string; body: unknown; status: number }[] {
  const client = (inner: string) => `query { client(id: "${clientId}") { ${inner} } }`;
  return [
    { name: 'depth 20', body: { query: deep(20) }, status: 400 },
    {
      name: 'depth 9 on the dossier',
      body: { query: client(`dossier { treatmentPlan { responsiblePractitioners { id } } } ${deep(8).slice(2, -2)}`) },
      status: 400,
    },
    { name: '500 aliases', body: { query: aliases(500) }, status: 400 },
    {
      name: '16 aliases of the dossier',
      body: { query: `query { ${Array.from({ length: 16 }, (_, i) => `c${i}: client(id: "${clientId}") { ${DOSSIER} }`).join(' ')} }` },
      status: 400,
    },
    { name: '60 directives', body: { query: directives(60) }, status: 400 },
    { name: '3 000 tokens', body: { query: manyTokens(3000) }, status: 400 },
    { name: 'a fragment cycle', body: { query: 'query { me { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }' }, status: 400 },
    { name: 'a fragment spreading itself', body: { query: 'query { me { ...A } } fragment A on Viewer { id ...A }' }, status: 400 },
    { name: 'fragment expansion to 2^16 fields', body: { query: expansion(16) }, status: 400 },
    { name: 'a batch of operations', body: [{ query: '{ me { id } }' }, { query: '{ me { id } }' }], status: 400 },
    { name: 'a syntax error', body: { query: client('dossier { medications { name }') }, status: 400 },
    { name: 'a NUL byte in the document', body: { query: `{ me { id \u0000 } }` }, status: 400 },
    { name: 'an unknown field', body: { query: client('dossier { medicationz { name } }') }, status: 400 },
    { name: 'an unknown argument', body: { query: `query { client(id: "${clientId}", as: "admin") { id } }` }, status: 400 },
    { name: 'a wrongly typed literal', body: { query: 'query { client(id: 5.5) { id } }' }, status: 400 },
    { name: 'a missing variable', body: { query: `query($id: ID!) { client(id: $id) { ${DOSSIER} } }` }, status: 400 },
    { name: 'a null variable', body: { query: `query($id: ID!) { client(id: $id) { ${DOSSIER} } }`, variables: { id: null } }, status: 400 },
    { name: 'an ill-typed variable', body: { query: `query($id: ID!) { client(id: $id) { ${DOSSIER} } }`, variables: { id: { $ne: null } } }, status: 400 },
    { name: 'an unused variable', body: { query: 'query($x: Int) { me { id } }' }, status: 400 },
    { name: 'variables that are not an object', body: { query: '{ me { id } }', variables: [1, 2] }, status: 400 },
    { name: 'a query that is not a string', body: { query: { kind: 'Document' } }, status: 400 },
    { name: 'no query at all', body: { variables: {} }, status: 400 },
    { name: 'two operations without a name', body: { query: 'query A { me { id } } query B { me { id } }' }, status: 400 },
    { name: 'an unknown operation name', body: { query: 'query A { me { id } }', operationName: 'Z' }, status: 400 },
    { name: 'a subscription over HTTP', body: { query: `subscription { videoCallStatusChanged(clientId: "${clientId}") { ready } }` }, status: 400 },
    // graphql-over-http lets an application/json answer to a request error be 200; Apollo answers this one so.
    { name: 'an unknown persisted-query hash (APQ)', body: { extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }, status: 200 },
    { name: 'a fragment on a type that cannot be there', body: { query: 'query { me { ... on Dossier { overview { diagnosis } } } }' }, status: 400 },
    { name: 'a field on a scalar', body: { query: 'query { me { id { x } } }' }, status: 400 },
    { name: 'a mutation sent with a query', body: { query: 'mutation { logout } query { me { id } }' }, status: 400 },
  ];
}

/** Every configuration the hostile corpus runs in: the embedded defaults, and production on MariaDB. */
const configurations: { name: string; production: boolean }[] = [
  { name: 'development (SQLite)', production: false },
  ...(MARIADB_URL ? [{ name: 'production (MariaDB)', production: true }] : []),
];

describe.each(configurations)('hostile input, in $name', ({ production }) => {
  let t: TestApp;
  let token: string;
  let karenId: string;
  let calls: () => number;
  let storageDir: string;

  beforeAll(async () => {
    const counting = countingDemo();
    calls = counting.calls;
    t = await startTestApp({
      production,
      database: production ? 'mariadb' : 'sqlite',
      adapters: { demo: counting.adapter },
      env: { UPLOAD_MAX_BYTES: String(1024 * 1024), UPLOAD_IDLE_TIMEOUT_MS: '1000', WS_SESSION_CHECK_MS: '200', SESSION_IDLE_MINUTES: '1' },
    });
    token = await t.login('client@demo.test');
    [karenId] = await portalIds(t, token);
    storageDir = t.config.FILE_STORAGE_URL.slice('file:'.length);
  });
  afterAll(async () => t.stop());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const errorLines = () => t.logs.filter((l) => l.includes('"level":50'));

  it('refuses every hostile document over HTTP with BAD_USER_INPUT before anything runs, and logs none of them as our error', async () => {
    const before = { calls: calls(), log: (await t.app.services.audit.list(karenId, 100)).length, errors: errorLines().length };
    const wrong: string[] = [];
    for (const doc of hostileDocuments(karenId)) {
      const res = await post(doc.body);
      const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
      const code = body.errors?.[0]?.extensions?.code;
      if (res.status !== doc.status || code !== 'BAD_USER_INPUT' || (body.data !== undefined && body.data !== null))
        wrong.push(`${doc.name}: ${res.status} ${code} ${JSON.stringify(body).slice(0, 160)}`);
      if (production && body.errors?.some((e) => /Did you mean/.test(e.message))) wrong.push(`${doc.name}: hands out field suggestions`);
    }
    expect(wrong).toEqual([]);
    expect(calls()).toBe(before.calls);
    expect((await t.app.services.audit.list(karenId, 100)).length).toBe(before.log);
    expect(errorLines().length).toBe(before.errors);
  });

  it('refuses a body over the limit (413), invalid JSON (400), a GET mutation (405) and the CSRF variants', async () => {
    expect((await post({ query: `{ me { id } } # ${'x'.repeat(200 * 1024)}` })).status).toBe(413);
    expect((await post('{"query": ')).status).toBe(400);
    const getMutation = await fetch(`${t.base}/graphql?query=${encodeURIComponent('mutation { logout }')}`, {
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': '1' },
    });
    expect(getMutation.status).toBe(405);
    // A page on another site can send these without a preflight: Apollo's CSRF prevention refuses them.
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await fetch(`${t.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'mutation { logout }' }),
      });
      expect([contentType, res.status]).toEqual([contentType, 400]);
    }
    const simpleGet = await fetch(`${t.base}/graphql?query=${encodeURIComponent('{ me { id } }')}`, { headers: { authorization: `Bearer ${token}` } });
    expect(simpleGet.status).toBe(400);
    // The session survived all of it: none of these ran.
    expect((await t.gql('{ me { id } }', undefined, token)).body.data?.me?.id).toBeTruthy();
  });

  it('answers introspection only in development', async () => {
    const res = await post({ query: '{ __schema { types { name } } }' });
    const body = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    if (production) expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    else expect(body.errors).toBeUndefined();
  });

  it('answers execution errors with their own codes, also in production: no token, a stranger, and a partial answer', async () => {
    const anonymous = await t.gql('{ me { id } }');
    expect([anonymous.status, anonymous.body.errors?.[0]?.extensions?.code]).toEqual([200, 'UNAUTHENTICATED']);
    const stranger = await t.login('stranger@demo.test');
    const refused = await t.gql('query($id: ID!) { me { displayName } client(id: $id) { name } }', { id: karenId }, stranger);
    expect(refused.status).toBe(200);
    expect(refused.body.data).toEqual({ me: { displayName: 'Sam Vreemd' }, client: null });
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_RELATION' });
    const notFound = await t.gql('mutation { approveDocument(documentId: "demo:nope") { id } }', undefined, token);
    expect(notFound.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses every hostile document over graphql-ws with BAD_USER_INPUT (the same validation, no hints in production)', async () => {
    const before = calls();
    const ws = await openSocket(t, token);
    const documents = [
      ...hostileDocuments(karenId)
        .filter((d) => typeof d.body === 'object' && d.body !== null && !Array.isArray(d.body) && typeof (d.body as { query?: unknown }).query === 'string')
        // Variables that are no object break graphql-ws's message format itself: that socket is closed 4400 (below).
        .filter((d) => !/subscription over HTTP|APQ|not an object/.test(d.name))
        .map((d) => ({ name: d.name, payload: d.body as Record<string, unknown> })),
      { name: 'a query over the socket', payload: { query: '{ me { id } }' } },
      { name: 'a mutation over the socket', payload: { query: 'mutation { logout }' } },
      { name: 'a misspelt subscription field', payload: { query: `subscription { messageAdded(clientId: "${karenId}") { kindd } }` } },
      { name: 'a subscription without its variable', payload: { query: 'subscription($c: ID!) { messageAdded(clientId: $c) { kind } }' } },
      {
        name: 'a subscription with a null variable',
        payload: { query: 'subscription($c: ID!) { messageAdded(clientId: $c) { kind } }', variables: { c: null } },
      },
    ];
    const wrong: string[] = [];
    for (const [i, doc] of documents.entries()) {
      const answer = await ws.ask(String(i), doc.payload);
      const errors = answer.payload as
        { message: string; extensions?: { code?: string } }[] | { errors?: { message: string; extensions?: { code?: string } }[] };
      const list = Array.isArray(errors) ? errors : (errors.errors ?? []);
      if (list[0]?.extensions?.code !== 'BAD_USER_INPUT') wrong.push(`${doc.name}: ${JSON.stringify(answer).slice(0, 160)}`);
      if (production && list.some((e) => /Did you mean/.test(e.message))) wrong.push(`${doc.name}: hands out field suggestions`);
    }
    ws.close();
    expect(wrong).toEqual([]);
    expect(calls()).toBe(before);
  });

  it('closes a socket for protocol abuse: an oversized message, no JSON, subscribing before connection_init, a duplicate id, more than 20 subscriptions', async () => {
    const big = await rawSocket(t);
    big.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}`, pad: 'x'.repeat(70 * 1024) } }));
    expect(await big.closed).toBe(1009);
    const garbage = await rawSocket(t);
    garbage.send('not json');
    expect(await garbage.closed).toBe(4400);
    const badVariables = await openSocket(t, token);
    badVariables.send({
      type: 'subscribe',
      id: '1',
      payload: { query: `subscription { videoCallStatusChanged(clientId: "${karenId}") { ready } }`, variables: [1, 2] },
    });
    expect(await badVariables.closed).toBe(4400);
    const early = await rawSocket(t);
    early.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: `subscription { videoCallStatusChanged(clientId: "${karenId}") { ready } }` } }));
    expect(await early.closed).toBe(4401);
    const dup = await openSocket(t, token);
    const sub = { query: `subscription { videoCallStatusChanged(clientId: "${karenId}") { ready } }` };
    dup.send({ type: 'subscribe', id: 'same', payload: sub });
    dup.send({ type: 'subscribe', id: 'same', payload: sub });
    expect(await dup.closed).toBe(4409);
    const many = await openSocket(t, token);
    for (let i = 0; i < 20; i++) many.send({ type: 'subscribe', id: `s${i}`, payload: sub });
    const over = await many.ask('s20', sub);
    expect(JSON.stringify(over.payload)).toContain('RATE_LIMITED');
    many.close();
  });

  it('refuses every token attack on both transports', async () => {
    const session = await t.login('client@demo.test');
    const claims = jwt.decode(session) as Record<string, unknown>;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const secret = t.config.sessionKey.kind === 'secret' ? t.config.sessionKey.secret : 'x';
    const sign = (payload: object, key: string | object = secret, options: jwt.SignOptions = {}) =>
      jwt.sign(payload, key as jwt.Secret, { algorithm: 'HS256', keyid: 'k1', ...options });
    const base = { sub: claims.sub, sid: claims.sid, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE };
    const [header, payload] = session.split('.');
    const revoked = await t.login('client@demo.test');
    await t.gql('mutation { logout }', undefined, revoked);
    const attacks: [string, string][] = [
      ['alg none', `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`],
      ['another key', sign(base, randomBytes(32).toString('hex'))],
      ['RS256 with a key of its own', jwt.sign(base, privateKey, { algorithm: 'RS256', keyid: 'k1' })],
      ['expired', sign({ ...base, exp: Math.floor(Date.now() / 1000) - 3600 })],
      ['not yet valid', sign({ ...base, nbf: Math.floor(Date.now() / 1000) + 3600 })],
      ['another audience', sign({ ...base, aud: 'someone-else' })],
      ['another issuer', sign({ ...base, iss: 'https://evil.example' })],
      ['an unknown key id', sign(base, secret, { keyid: 'k9' })],
      ['a swapped subject', `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${session.split('.')[2]}`],
      ['a truncated signature', session.slice(0, -5)],
      ['garbage', 'not.a.token'],
      ['a revoked session', revoked],
      ['a refresh token as access token', randomBytes(32).toString('base64url')],
      ['an empty bearer', ''],
      ['a session that does not exist', sign({ ...base, sid: '00000000-0000-4000-8000-000000000000' })],
      ['a huge token', 'a'.repeat(16 * 1024)],
    ];
    const wrong: string[] = [];
    for (const [name, attack] of attacks) {
      const res = await fetch(`${t.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${attack}` },
        body: JSON.stringify({ query: `query { me { id } client(id: "${karenId}") { name } }` }),
      });
      // Node itself refuses headers over 16 KiB (431) before the gateway sees the request.
      if (res.status === 431) continue;
      const body = (await res.json()) as { data?: { me?: unknown; client?: unknown } | null; errors?: { extensions?: { code?: string } }[] };
      if (body.data?.me || body.data?.client || body.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED')
        wrong.push(`HTTP ${name}: ${JSON.stringify(body).slice(0, 120)}`);
      const ws = await rawSocket(t);
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${attack}` } }));
      const code = await ws.closed;
      if (code !== 4401) wrong.push(`WebSocket ${name}: closed ${code}`);
    }
    expect(wrong).toEqual([]);
  });

  it('refuses every forged sync event and stores nothing', async () => {
    const rows = () => t.app.db.getRepository(SyncEventEntity).count();
    const before = await rows();
    const secret = t.config.syncSecret;
    const event = (over: Record<string, unknown> = {}) =>
      JSON.stringify({
        id: `forged-${randomBytes(4).toString('hex')}`,
        type: 'videocall.ready',
        source: 'demo',
        clientId: karenId,
        data: { practitionerId: 'pr-elamrani', joinUrl: 'https://video.example/room' },
        ...over,
      });
    const now = Math.floor(Date.now() / 1000);
    const send = (raw: string, headers: Record<string, string>) =>
      fetch(`${t.base}/sync/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
    const signed = (raw: string, ts = now, key = secret) => ({ 'x-signature-timestamp': String(ts), 'x-signature': signSyncBody(key, ts, raw) });
    const raw = event();
    const forged: [string, Promise<Response>, number][] = [
      ['no signature', send(raw, {}), 401],
      ['no timestamp', send(raw, { 'x-signature': signed(raw)['x-signature'] }), 401],
      ['another key', send(raw, signed(raw, now, randomBytes(24).toString('hex'))), 401],
      ['a signature of another body', send(event(), signed(raw)), 401],
      ['a body changed after signing', send(raw.replace('pr-elamrani', 'pr-degroot'), signed(raw)), 401],
      ['a timestamp 10 minutes old (replay)', send(raw, signed(raw, now - 600)), 401],
      ['a timestamp 10 minutes ahead', send(raw, signed(raw, now + 600)), 401],
      [
        'a signature over the body only',
        send(raw, { 'x-signature-timestamp': String(now), 'x-signature': `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}` }),
        401,
      ],
      ['a malformed signature header', send(raw, { 'x-signature-timestamp': String(now), 'x-signature': 'md5=abc' }), 401],
      ['a timestamp that is not a number', send(raw, { ...signed(raw), 'x-signature-timestamp': 'yesterday' }), 401],
      ['an unknown type, signed', ((r) => send(r, signed(r)))(event({ type: 'client.deleted' })), 400],
      ['a javascript: join link, signed', ((r) => send(r, signed(r)))(event({ data: { practitionerId: 'pr-elamrani', joinUrl: 'javascript:alert(1)' } })), 400],
      [
        'a plain-http join link, signed',
        ((r) => send(r, signed(r)))(event({ data: { practitionerId: 'pr-elamrani', joinUrl: 'http://video.example/room' } })),
        400,
      ],
      ['no clientId, signed', ((r) => send(r, signed(r)))(event({ clientId: undefined })), 400],
      ['a body that is not JSON, signed', send('{"id":', signed('{"id":')), 400],
      ['a body over the limit', ((r) => send(r, signed(r)))(event({ pad: 'x'.repeat(300 * 1024) })), 413],
    ];
    const wrong: string[] = [];
    for (const [name, res, status] of forged) {
      const r = await res;
      if (r.status !== status) wrong.push(`${name}: ${r.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await rows()).toBe(before);
  });

  describe('hostile uploads', () => {
    const upload = (content: Buffer, name: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) => {
      const form = new FormData();
      form.append('file', new Blob([content]), name);
      return fetch(`${t.base}/files`, { method: 'POST', headers, body: form });
    };
    const parts = () => readdirSync(storageDir).filter((f) => f.endsWith('.part'));

    it('refuses an upload without a session, by cookie without x-requested-with, from an account without a portal, and of executables and archives', async () => {
      const pdf = Buffer.from('%PDF-1.4\n%demo\n');
      expect((await upload(pdf, 'a.pdf', {})).status).toBe(401);
      expect((await upload(pdf, 'a.pdf', { cookie: `${t.app.services.cookies.sessionName}=${token}` })).status).toBe(403);
      const stranger = await upload(pdf, 'a.pdf', { authorization: `Bearer ${await t.login('stranger@demo.test')}` });
      expect(stranger.status).toBe(403);
      expect((await upload(Buffer.concat([Buffer.from('MZ'), randomBytes(200)]), 'setup.exe')).status).toBe(415);
      expect((await upload(Buffer.from('504b0304140000000800', 'hex'), 'a.zip')).status).toBe(415);
      expect((await upload(Buffer.from('\u007fELF\u0002\u0001\u0001'), 'a')).status).toBe(415);
      expect(
        (
          await fetch(`${t.base}/files`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=x' },
            body: '--x--\r\n',
          })
        ).status,
      ).toBe(400);
      expect(
        (await fetch(`${t.base}/files`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' }))
          .status,
      ).toBe(400);
    });

    it('answers 413 as soon as a chunked upload at network pace passes the limit, and keeps no partial file', async () => {
      const started = Date.now();
      const { status, sentAll } = await slowUpload(t.base, token, { totalBytes: 1.5 * 1024 * 1024, chunkBytes: 64 * 1024, everyMs: 40 });
      expect(status).toBe(413);
      expect(sentAll).toBe(false);
      expect(Date.now() - started).toBeLessThan(5000);
      await until(() => (parts().length === 0 ? true : undefined), 3000, 'no partial files');
    });

    it('gives up a stalled upload after UPLOAD_IDLE_TIMEOUT_MS and removes its partial file', async () => {
      await slowUpload(t.base, token, { totalBytes: 256 * 1024, chunkBytes: 64 * 1024, everyMs: 10, stallAfterBytes: 128 * 1024 });
      await until(() => (parts().length === 0 ? true : undefined), 5000, 'the partial file to be removed');
    });

    it('removes uploads that no message took within UPLOAD_UNUSED_TTL_HOURS', async () => {
      const res = await upload(Buffer.from('%PDF-1.4\n%unused\n'), 'vergeten.pdf');
      const { id } = (await res.json()) as { id: string };
      expect(await t.app.services.attachments.find(id)).not.toBeNull();
      const filesBefore = readdirSync(storageDir).length;
      expect(
        await t.app.services.attachments.removeUnused(
          t.config.UPLOAD_UNUSED_TTL_HOURS * 3_600_000,
          Date.now() + t.config.UPLOAD_UNUSED_TTL_HOURS * 3_600_000 + 1000,
        ),
      ).toBeGreaterThanOrEqual(1);
      expect(await t.app.services.attachments.find(id)).toBeNull();
      expect(readdirSync(storageDir).length).toBeLessThan(filesBefore);
    });
  });

  it('keeps /metrics answering after thousands of made-up operation names, with bounded labels', async () => {
    for (let i = 0; i < 400; i++) await post({ query: `query Op${i}_${'x'.repeat(i % 2 ? 2000 : 10)} { __typename }` });
    const res = await fetch(`${t.base}/metrics`);
    expect(res.status).toBe(200);
    const labels = new Set([...(await res.text()).matchAll(/gateway_graphql_operations_total\{operation="([^"]*)"/g)].map((m) => m[1]));
    expect(labels.size).toBeLessThanOrEqual(202);
    expect(labels).toContain('__other__');
    expect([...labels].every((l) => l.length <= 64)).toBe(true);
  });

  it('closes a socket once its session could no longer be refreshed (idle, or past its maximum); activity on the socket counts as use', async () => {
    const idleToken = await t.login('client@demo.test');
    const activeToken = await t.login('client@demo.test');
    const sid = (tok: string) => (jwt.decode(tok) as { sid: string }).sid;
    const sessions = t.app.db.getRepository(SessionEntity);
    const ago = new Date(Date.now() - 5 * 60_000);
    // The active session was last used long ago; its socket opens now and keeps sending.
    await sessions.update({ id: sid(activeToken) }, { lastUsedAt: ago });
    const idle = await openSocket(t, idleToken);
    const active = await openSocket(t, activeToken);
    // connection_init was use of the idle session too: let a sweep count it before it is made idle.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sessions.update({ id: sid(idleToken) }, { lastUsedAt: ago });
    const keepBusy = setInterval(() => active.send({ type: 'ping' }), 50);
    try {
      expect(await idle.closed).toBe(4401);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(active.isOpen()).toBe(true);
      expect((await sessions.findOneBy({ id: sid(activeToken) }))!.lastUsedAt.getTime()).toBeGreaterThan(ago.getTime() + 60_000);
      await sessions.update({ id: sid(activeToken) }, { expiresAt: new Date(Date.now() - 1000) });
      expect(await active.closed).toBe(4401);
    } finally {
      clearInterval(keepBusy);
    }
  });
});

interface TestSocket {
  send(message: object): void;
  ask(id: string, payload: Record<string, unknown>): Promise<{ type: string; payload?: unknown }>;
  closed: Promise<number>;
  isOpen(): boolean;
  close(): void;
}

async function rawSocket(t: TestApp): Promise<WebSocket & { closed: Promise<number> }> {
  const ws = new WebSocket(`${t.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws') as WebSocket & { closed: Promise<number> };
  ws.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/** A graphql-ws socket after connection_ack, speaking the protocol by hand (so refusals are seen as sent). */
async function openSocket(t: TestApp, token: string): Promise<TestSocket> {
  const ws = await rawSocket(t);
  const messages: { id?: string; type: string; payload?: unknown }[] = [];
  ws.on('message', (m) => messages.push(JSON.parse(String(m))));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await until(() => (messages.some((m) => m.type === 'connection_ack') ? true : undefined), 2000, 'connection_ack');
  return {
    send: (message) => ws.send(JSON.stringify(message)),
    async ask(id, payload) {
      ws.send(JSON.stringify({ type: 'subscribe', id, payload }));
      return until(() => messages.find((m) => m.id === id && (m.type === 'error' || m.type === 'next')), 2000, `an answer to ${id}`);
    },
    closed: ws.closed,
    isOpen: () => ws.readyState === WebSocket.OPEN,
    close: () => ws.close(),
  };
}

/** A multipart upload sent in chunks at a pace (Transfer-Encoding: chunked), optionally stalling. */
function slowUpload(
  base: string,
  token: string,
  o: { totalBytes: number; chunkBytes: number; everyMs: number; stallAfterBytes?: number },
): Promise<{ status: number | null; sentAll: boolean }> {
  const boundary = 'hostile-boundary';
  const url = new URL(`${base}/files`);
  return new Promise((resolve) => {
    let sent = 0;
    let sentAll = false;
    let status: number | null = null;
    const req = request({
      host: url.hostname,
      port: url.port,
      path: '/files',
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      status = res.statusCode ?? null;
      res.resume();
      res.on('end', () => finish());
    });
    req.on('error', () => finish());
    req.on('close', () => finish());
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      resolve({ status, sentAll });
    };
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="groot.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n`);
    const timer = setInterval(() => {
      if (o.stallAfterBytes !== undefined && sent >= o.stallAfterBytes) return;
      if (sent >= o.totalBytes) {
        sentAll = true;
        clearInterval(timer);
        req.end(`\r\n--${boundary}--\r\n`);
        return;
      }
      if (req.destroyed) return;
      req.write(Buffer.alloc(o.chunkBytes, 0x41));
      sent += o.chunkBytes;
    }, o.everyMs);
  });
}
