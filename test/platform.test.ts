import { generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/auth/tokens';
import { portalIds, startTestApp, type TestApp } from './utils/app';

const dashboardQuery = `query($id: ID!) { client(id: $id) { name dashboard { upcomingAppointmentCount dossierPartCount nextAppointment { start type practitioner { name } } } } }`;

describe('the gateway on its embedded defaults (SQLite, in-process, demo adapter)', () => {
  let t: TestApp;
  let karenToken: string;
  let karenId: string;

  beforeAll(async () => {
    t = await startTestApp();
    karenToken = await t.login('client@demo.test');
    [karenId] = await portalIds(t, karenToken);
  });
  afterAll(async () => t.stop());

  it('answers /healthz and /readyz with every dependency up', async () => {
    expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.base}/readyz`);
    const body = (await ready.json()) as { status: string; database: { ok: boolean }; adapters: Record<string, { state: string }> };
    expect(ready.status).toBe(200);
    expect(body.database.ok).toBe(true);
    expect(body.adapters.demo).toMatchObject({ state: 'closed' });
  });

  it('lets the demo client log in and see her own portal first, with her dashboard', async () => {
    const me = await t.gql('{ me { displayName email portals { relation isAdmin permissions client { id } } } }', undefined, karenToken);
    expect(me.body.data.me.displayName).toBe('Karen Test');
    expect(me.body.data.me.portals[0].relation).toBe('SELF');
    expect(me.body.data.me.portals[0].permissions).toContain('DOSSIER_VIEW');

    const { body } = await t.gql(dashboardQuery, { id: karenId }, karenToken);
    expect(body.errors).toBeUndefined();
    const dash = body.data.client.dashboard;
    expect(body.data.client.name).toBe('Karen Test');
    expect(dash.upcomingAppointmentCount).toBeGreaterThan(0);
    expect(dash.dossierPartCount).toBeGreaterThanOrEqual(5);
    expect(Date.parse(dash.nextAppointment.start)).toBeGreaterThan(Date.now());
    expect(dash.nextAppointment.practitioner.name).toBeTruthy();
  });

  it('lets a parent see both children, and not other clients', async () => {
    const token = await t.login('parent@demo.test');
    const { body } = await t.gql('{ me { portals { relation client { name birthDate } } } }', undefined, token);
    const portals = body.data.me.portals as { relation: string; client: { name: string } }[];
    expect(portals.map((p) => p.client.name).sort()).toEqual(['Daan de Vries', 'Sanne de Vries']);
    expect(portals.every((p) => p.relation === 'PARENT')).toBe(true);
    const other = await t.gql(dashboardQuery, { id: karenId }, token);
    expect(other.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses a stranger the client with FORBIDDEN and leaks nothing', async () => {
    const token = await t.login('stranger@demo.test');
    const { body } = await t.gql(dashboardQuery, { id: karenId }, token);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_RELATION' });
    expect(body.errors?.[0]?.path).toEqual(['client']);
    expect(body.data).toEqual({ client: null });
    const me = await t.gql('{ me { portals { relation } } }', undefined, token);
    expect(me.body.data.me.portals).toEqual([]);
  });

  it('gives a network member with only AGENDA_VIEW the agenda but FORBIDDEN on the dossier', async () => {
    const token = await t.login('relative@demo.test');
    const agendaQuery = 'query($id: ID!) { client(id: $id) { appointments(when: ALL) { start type } } }';
    const agenda = await t.gql(agendaQuery, { id: karenId }, token);
    expect(agenda.body.errors).toBeUndefined();
    expect(agenda.body.data.client.appointments.length).toBeGreaterThan(0);
    // The care organisation's own meeting about Karen (organisation-only) needs AGENDA_VIEW_ORGANISATION: she sees it, he does not.
    const types = (body: { data?: { client: { appointments: { type: string }[] } } }) => body.data!.client.appointments.map((a) => a.type);
    expect(types((await t.gql(agendaQuery, { id: karenId }, karenToken)).body)).toContain('Multidisciplinair overleg');
    expect(types(agenda.body)).not.toContain('Multidisciplinair overleg');
    expect(types(agenda.body).length).toBe(types((await t.gql(agendaQuery, { id: karenId }, karenToken)).body).length - 1);
    const dossier = await t.gql('query($id: ID!) { client(id: $id) { dossier { medications { name } } } }', { id: karenId }, token);
    expect(dossier.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const log = await t.gql('query($id: ID!) { client(id: $id) { accessLog { actor } } }', { id: karenId }, token);
    expect(log.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('writes every dossier read to the access log the client can see', async () => {
    await t.gql('query($id: ID!) { client(id: $id) { dossier { medications { name } allergies { substance } } } }', { id: karenId }, karenToken);
    const { body } = await t.gql(
      'query($id: ID!) { client(id: $id) { accessLog(first: 20) { actor actorRole action resource } } }',
      { id: karenId },
      karenToken,
    );
    const resources = body.data.client.accessLog.map((e: { resource: string }) => e.resource);
    expect(resources).toEqual(expect.arrayContaining(['Medicatie', 'Allergieën']));
    expect(body.data.client.accessLog[0]).toMatchObject({ actor: 'Karen Test', actorRole: 'SELF', action: 'read' });
  });

  it("logs a read of the client's name and birth date once per request, however many of them are asked", async () => {
    const before = (await t.app.services.audit.list(karenId, 100)).filter((e) => e.eventType === 'client.profile.read').length;
    const { body } = await t.gql('query($id: ID!) { client(id: $id) { name birthDate } }', { id: karenId }, karenToken);
    expect(body.data.client.name).toBe('Karen Test');
    const after = (await t.app.services.audit.list(karenId, 100)).filter((e) => e.eventType === 'client.profile.read');
    expect(after).toHaveLength(before + 1);
    expect(after[0]).toMatchObject({ resource: 'Naam en geboortedatum', actorRole: 'SELF', action: 'R' });
  });

  it('refuses the access log being changed: it is append-only in the database', async () => {
    await expect(t.app.db.query('UPDATE access_log SET actor_name = ?', ['someone else'])).rejects.toThrow(/append-only/);
    await expect(t.app.db.query('DELETE FROM access_log')).rejects.toThrow(/append-only/);
  });

  it('streams a document through its signed URL, and refuses a tampered or foreign one', async () => {
    const { body } = await t.gql('query($id: ID!) { client(id: $id) { dossier { documents { name downloadUrl } } } }', { id: karenId }, karenToken);
    const doc = body.data.client.dossier.documents[0];
    // Absolute, so a page on the frontend's own origin can open it (PUBLIC_URL; unset: where the gateway listens).
    expect(doc.downloadUrl.startsWith(`${t.base}/files/`)).toBe(true);
    const res = await fetch(doc.downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toContain(encodeURIComponent(doc.name));
    expect((await res.text()).startsWith('%PDF-')).toBe(true);
    expect((await fetch(t.local(doc.downloadUrl.replace(/sig=[^&]+/, 'sig=AAAA')))).status).toBe(403);
    const stranger = await t.login('stranger@demo.test');
    expect((await fetch(t.local(doc.downloadUrl), { headers: { authorization: `Bearer ${stranger}` } })).status).toBe(403);
  });

  it('answers UNAUTHENTICATED without a token', async () => {
    const { body } = await t.gql('{ me { id } }');
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses tokens signed with another key, with alg none, expired, or for another audience', async () => {
    const { sub, sid } = jwt.decode(karenToken) as { sub: string; sid: string };
    const header = jwt.decode(karenToken, { complete: true })!.header;
    const claims = { sid, sub, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, jti: 'x' };
    const otherKey = jwt.sign(claims, randomBytes(32).toString('hex'), { algorithm: 'HS256', keyid: header.kid, expiresIn: 60 });
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: header.kid })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url')}.`;
    const secret = t.config.sessionKey.kind === 'secret' ? t.config.sessionKey.secret : '';
    const expired = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 120 }, secret, { algorithm: 'HS256', keyid: header.kid });
    const wrongAudience = jwt.sign({ ...claims, aud: 'someone-else' }, secret, { algorithm: 'HS256', keyid: header.kid, expiresIn: 60 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsa = jwt.sign(claims, privateKey, { algorithm: 'RS256', keyid: header.kid, expiresIn: 60 });
    for (const token of [otherKey, none, expired, wrongAudience, rsa]) {
      const { body } = await t.gql('{ me { id } }', undefined, token);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('rotates refresh tokens, and a reused one ends the session', async () => {
    const res = await fetch(`${t.base}/auth/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'client@demo.test' }),
    });
    const first = (await res.json()) as { accessToken: string; refreshToken: string };
    const refreshed = await t.gql('mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken } }', { r: first.refreshToken });
    const second = refreshed.body.data.refreshSession;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await t.gql('{ me { id } }', undefined, second.accessToken)).body.data.me.id).toBeTruthy();
    const reuse = await t.gql('mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }', { r: first.refreshToken });
    expect(reuse.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const after = await t.gql('{ me { id } }', undefined, second.accessToken);
    expect(after.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('stops an access token at once after logout', async () => {
    const token = await t.login('client@demo.test');
    expect((await t.gql('mutation { logout }', undefined, token)).body.data.logout).toBe(true);
    expect((await t.gql('{ me { id } }', undefined, token)).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses hostile documents with a code before executing them', async () => {
    const depth = await t.gql(`{ me { ${'portals { client { id } } '.repeat(1)} } }`, undefined, karenToken);
    expect(depth.body.errors).toBeUndefined();
    const nested = `{ me { ${Array.from({ length: 20 }, () => 'portals { client {').join(' ')} id ${'} }'.repeat(20)} } }`;
    const deepRes = await t.gql(nested, undefined, karenToken);
    expect(deepRes.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(deepRes.body.errors!.map((e) => e.message).join(' ')).toMatch(/depth/i);
    expect(deepRes.body.data).toBeUndefined();
    const aliases = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    const aliasRes = await t.gql(aliases, undefined, karenToken);
    expect(aliasRes.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(aliasRes.body.data).toBeUndefined();
    const huge = `{ me { id } } # ${'x'.repeat(1024 * 1024)}`;
    const hugeRes = await t.gql(huge, undefined, karenToken);
    expect(hugeRes.status).toBe(413);
    expect(hugeRes.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('closes a WebSocket that does not authenticate in time with 4401', async () => {
    const fast = await startTestApp({ env: { WS_AUTH_TIMEOUT_MS: '300' } });
    try {
      const ws = new WebSocket(`${fast.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
      expect(code).toBe(4401);
    } finally {
      await fast.stop();
    }
  });

  it('keeps a WebSocket that answers pings open, and drops one whose client stopped answering', async () => {
    const quick = await startTestApp({ env: { WS_KEEPALIVE_MS: '150' } });
    try {
      const token = await quick.login('client@demo.test');
      const connect = async () => {
        const ws = new WebSocket(`${quick.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        await new Promise((resolve) => ws.on('open', resolve));
        ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
        await new Promise((resolve) => ws.once('message', resolve));
        return ws;
      };
      const [alive, gone] = [await connect(), await connect()];
      let pings = 0;
      alive.on('ping', () => pings++);
      const goneClosed = new Promise<number>((resolve) => gone.on('close', (c) => resolve(c)));
      // The peer vanishes without a FIN: its side reads nothing more, so it answers no ping.
      (gone as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      await new Promise((r) => setTimeout(r, 1000));
      (gone as unknown as { _socket: { resume(): void } })._socket.resume();
      // Terminated by the server (no close frame): the client sees an abnormal closure.
      expect(await goneClosed).toBe(1006);
      expect(pings).toBeGreaterThanOrEqual(3);
      expect(alive.readyState).toBe(WebSocket.OPEN);
      alive.close();
    } finally {
      await quick.stop();
    }
  });

  it('closes a WebSocket whose connection_init carries a bad token with 4401', async () => {
    const ws = new WebSocket(`${t.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => ws.on('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-token' } }));
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    expect(code).toBe(4401);
  });

  it('closes an open WebSocket with 4401 once its session is logged out', async () => {
    const quick = await startTestApp({ env: { WS_SESSION_CHECK_MS: '200' } });
    try {
      const token = await quick.login('client@demo.test');
      const ws = new WebSocket(`${quick.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      await new Promise((resolve) => ws.on('open', resolve));
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      const ack = await new Promise<string>((resolve) => ws.once('message', (m) => resolve(String(m))));
      expect(JSON.parse(ack).type).toBe('connection_ack');
      const closed = new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
      await quick.gql('mutation { logout }', undefined, token);
      expect(await closed).toBe(4401);
    } finally {
      await quick.stop();
    }
  });

  it('exposes Prometheus metrics with operation counts and adapter calls', async () => {
    await t.gql('query Dash($id: ID!) { client(id: $id) { dashboard { upcomingAppointmentCount } } }', { id: karenId }, karenToken);
    const text = await (await fetch(`${t.base}/metrics`)).text();
    expect(text).toMatch(/gateway_graphql_operations_total\{operation="Dash",type="query",outcome="ok"\} \d+/);
    expect(text).toMatch(/gateway_adapter_calls_total\{adapter="demo",method="listAppointments",outcome="ok"\}/);
  });
});
