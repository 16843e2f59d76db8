import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MemoryMailer } from '../adapters/mail/mail';
import { ROUTES } from '../src/auth/operations';
import { DEMO_PASSWORD } from '../src/modules/portal/demo-seed';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { postSignedSync, subscribeTo } from './utils/live';
import { Jar } from './utils/cookie-jar';

/** The portal frontend on its own origin (another port, as a Vite dev server), and a page that is not one. */
const FRONTEND = 'http://localhost:5173';
const OTHER = 'http://evil.localhost:5173';

describe('browser mode: cookie sessions from a frontend on its own origin (CORS_ORIGINS)', () => {
  let t: TestApp;
  const mail = new MemoryMailer();
  const syncSecret = randomBytes(24).toString('hex');
  beforeAll(async () => {
    t = await startTestApp({ mail, env: { CORS_ORIGINS: FRONTEND, SYNC_SECRET: syncSecret, WS_SESSION_CHECK_MS: '200' } });
  });
  afterAll(async () => t.stop());

  /** A fetch as a page on `origin` makes it with credentials: 'include'. */
  const call = (jar: Jar, path: string, init: { method?: string; body?: unknown; origin?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${t.base}${path}`, {
      method: init.method ?? 'POST',
      headers: { origin: init.origin ?? FRONTEND, 'content-type': 'application/json', cookie: jar.header(path), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const devLogin = async (email = 'client@demo.test') => {
    const jar = new Jar();
    const res = await call(jar, '/auth/dev/login', { body: { email, cookie: true } });
    expect(res.status).toBe(200);
    jar.take(res);
    return { jar, body: (await res.json()) as Record<string, unknown> };
  };
  const me = async (jar: Jar) =>
    (await (await call(jar, '/graphql', { body: { query: '{ me { displayName } }' } })).json()) as {
      data?: { me: { displayName: string } | null };
      errors?: { extensions: { code: string } }[];
    };

  it('answers the preflight of every route frontends call, with credentials, for an allowed origin only', async () => {
    const preflight = (path: string, origin: string) =>
      fetch(`${t.base}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-apollo-operation-name' },
      });
    const browserRoutes = Object.values(ROUTES).filter((r) => 'browser' in r);
    expect(browserRoutes.map((r) => r.path).sort()).toEqual([
      '/auth/dev/login',
      '/auth/session/code',
      '/auth/session/logout',
      '/auth/session/refresh',
      '/export',
      '/files',
      '/files/',
      '/graphql',
    ]);
    for (const route of browserRoutes) {
      const path = route.path === '/files/' ? '/files/some-id' : route.path;
      const allowed = await preflight(path, FRONTEND);
      expect([path, allowed.status, allowed.headers.get('access-control-allow-origin'), allowed.headers.get('access-control-allow-credentials')]).toEqual([
        path,
        204,
        FRONTEND,
        'true',
      ]);
      expect(allowed.headers.get('access-control-allow-headers')).toMatch(/x-apollo-operation-name/);
      expect(allowed.headers.get('access-control-allow-methods')).toContain(route.browser.split(',')[0]);
      const refused = await preflight(path, OTHER);
      expect([path, refused.headers.get('access-control-allow-origin')]).toEqual([path, null]);
    }
    // Routes no page calls answer no CORS at all.
    expect((await preflight('/sync/events', FRONTEND)).headers.get('access-control-allow-origin')).toBeNull();
    // A page may read the reference to quote to support.
    const answer = await call(new Jar(), '/graphql', { body: { query: '{ __typename }' } });
    expect(answer.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
  });

  it('logs in by dev login with "cookie": true: httpOnly cookies, no token in the body, the refresh cookie only for the session routes', async () => {
    const { jar, body } = await devLogin();
    expect(Object.keys(body).sort()).toEqual(['accountId', 'expiresAt']);
    const session = jar.cookies.get('portal_session')!.line;
    expect(session).toMatch(/Path=\/;.*HttpOnly; SameSite=Strict/);
    expect(jar.cookies.get('portal_refresh')!.line).toMatch(/Path=\/auth\/session;.*HttpOnly; SameSite=Strict/);
    expect(jar.header('/graphql')).not.toContain('portal_refresh');
    expect((await me(jar)).data?.me?.displayName).toBe('Karen Test');
  });

  it('logs an own account in by cookie: the mutation login, then POST /auth/session/code; a wrong code gets 401 with the tries left', async () => {
    const { body } = await t.gql('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId } }', {
      e: 'client@demo.test',
      p: DEMO_PASSWORD,
    });
    const challengeId = body.data.login.challengeId as string;
    const code = /(\d{6})/.exec(mail.last('client@demo.test')!.text)![1];
    const wrong = await call(new Jar(), '/auth/session/code', { body: { challengeId, code: code === '000000' ? '111111' : '000000' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0]).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      message: expect.stringMatching(/tries left/),
    });
    const jar = new Jar();
    const res = await call(jar, '/auth/session/code', { body: { challengeId, code } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ expiresAt: expect.any(String), mustChangePassword: false });
    jar.take(res);
    expect((await me(jar)).data?.me?.displayName).toBe('Karen Test');
    const malformed = await call(new Jar(), '/auth/session/code', { body: { code } });
    expect(malformed.status).toBe(400);
  });

  it('pushes live over a socket the session cookie authenticated (no token in connection_init), from an allowed Origin', async () => {
    const { jar } = await devLogin();
    const [karenId] = await portalIds(t, await t.login('client@demo.test'));
    const cookie = jar.header('/graphql');
    class BrowserSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { origin: FRONTEND, cookie } });
      }
    }
    const client = createClient({ url: `${t.base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: BrowserSocket, retryAttempts: 0 });
    try {
      const sub = subscribeTo<{ ready: boolean; joinUrl: string | null }>(
        client,
        'subscription($id: ID!) { videoCallStatusChanged(clientId: $id) { ready joinUrl } }',
        { id: karenId },
        'videoCallStatusChanged',
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const joinUrl = `https://video.ggz-demo.test/room/${randomUUID()}`;
      const event = { id: randomUUID(), type: 'videocall.ready', source: 'demo', clientId: karenId, data: { practitionerId: 'pr-bakker', joinUrl } };
      expect((await postSignedSync(t.base, syncSecret, event)).status).toBe(202);
      expect(await sub.nth(1)).toEqual({ ready: true, joinUrl });
      // Logging out (by cookie) ends the socket too: closed with 4401 within the session check.
      const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)));
      expect((await call(jar, '/auth/session/logout')).status).toBe(200);
      expect(await closed).toBe(4401);
    } finally {
      await client.dispose();
    }
  });

  it('never takes the cookie of an upgrade from another page: a listed CORS_ORIGINS refuses its Origin (403), and no Origin means a token is needed', async () => {
    const { jar } = await devLogin();
    const upgrade = (headers: Record<string, string>) =>
      new Promise<{ opened: boolean; status?: number; closeCode?: number }>((resolve) => {
        const ws = new WebSocket(`${t.base.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers });
        ws.on('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
        ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
        ws.on('close', (code) => resolve({ opened: true, closeCode: code }));
        ws.on('message', (data) => {
          if (JSON.parse(String(data)).type === 'connection_ack') {
            resolve({ opened: true });
            ws.close();
          }
        });
      });
    expect(await upgrade({ origin: OTHER, cookie: jar.header('/graphql') })).toEqual({ opened: false, status: 403 });
    expect(await upgrade({ cookie: jar.header('/graphql') })).toEqual({ opened: true, closeCode: 4401 });
    expect(await upgrade({ origin: FRONTEND, cookie: jar.header('/graphql') })).toEqual({ opened: true });
  });

  it('keeps a page logged in past the access cookie through refresh, and logs out by the refresh cookie alone', async () => {
    const { jar } = await devLogin();
    // The access cookie has lapsed (Max-Age 900 s): the browser no longer sends it.
    jar.cookies.delete('portal_session');
    expect((await me(jar)).errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    const refreshed = await call(jar, '/auth/session/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('access-control-allow-origin')).toBe(FRONTEND);
    jar.take(refreshed);
    expect((await me(jar)).data?.me?.displayName).toBe('Karen Test');
    const token = jar.cookies.get('portal_session')!.value;
    jar.cookies.delete('portal_session');
    expect((await call(jar, '/auth/session/logout')).status).toBe(200);
    expect((await t.gql('{ me { id } }', undefined, token)).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a cookie request from another site: no CORS answer to read, and CSRF prevention stops a simple request', async () => {
    const { jar } = await devLogin();
    const cross = await call(jar, '/graphql', { origin: OTHER, body: { query: '{ me { displayName } }' } });
    expect(cross.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await fetch(`${t.base}/graphql?query=${encodeURIComponent('{ me { displayName } }')}`, {
      headers: { origin: OTHER, cookie: jar.header('/graphql') },
    });
    expect(simple.status).toBe(400);
    expect(await simple.text()).not.toContain('Karen');
  });

  it('answers GET queries from urql and graphql-request when they send the header CSRF prevention asks for', async () => {
    const { jar } = await devLogin();
    const get = (headers: Record<string, string>) =>
      fetch(`${t.base}/graphql?query=${encodeURIComponent('query Me { me { displayName } }')}&operationName=Me`, {
        headers: { origin: FRONTEND, cookie: jar.header('/graphql'), ...headers },
      });
    expect((await get({})).status).toBe(400);
    const withHeader = await get({ 'apollo-require-preflight': 'true' });
    expect(((await withHeader.json()) as { data: { me: { displayName: string } } }).data.me.displayName).toBe('Karen Test');
    expect(((await (await get({ 'x-apollo-operation-name': 'Me' })).json()) as { data: { me: { displayName: string } } }).data.me.displayName).toBe(
      'Karen Test',
    );
  });
});

describe('browser mode behind https (PUBLIC_URL https://…)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL: 'https://api.portal.test', FRONTEND_URL: 'https://portal.test' } });
  });
  afterAll(async () => t.stop());

  it('sets Secure cookies with the __Host- and __Secure- prefixes, and hands out absolute https links', async () => {
    const res = await fetch(`${t.base}/auth/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://portal.test' },
      body: JSON.stringify({ email: 'client@demo.test', cookie: true }),
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://portal.test');
    const lines = res.headers.getSetCookie();
    expect(lines.find((l) => l.startsWith('__Host-portal_session='))).toMatch(/Path=\/;.*HttpOnly; SameSite=Strict; Secure/);
    expect(lines.find((l) => l.startsWith('__Secure-portal_refresh='))).toMatch(/Path=\/auth\/session;.*Secure/);
    const session = /__Host-portal_session=([^;]+)/.exec(lines.join('\n'))![1];
    const jar = `__Host-portal_session=${session}`;
    const docs = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: jar },
      body: JSON.stringify({ query: '{ me { portals { client { id dossier { documents { downloadUrl } } } } } }' }),
    });
    const body = (await docs.json()) as { data: { me: { portals: { client: { dossier: { documents: { downloadUrl: string }[] } } }[] } } };
    expect(body.data.me.portals[0].client.dossier.documents[0].downloadUrl).toMatch(/^https:\/\/api\.portal\.test\/files\//);
    // The plain name is not a session here: a sibling host cannot plant one.
    const planted = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `portal_session=${session}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(((await planted.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});
