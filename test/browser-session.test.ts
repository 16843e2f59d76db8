import { startTestApp, type TestApp } from './utils/app';

function cookiesFrom(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, ...value] = pair.split('=');
    out[name] = decodeURIComponent(value.join('='));
  }
  return out;
}

describe('browser mode: the session in httpOnly cookies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.stop());

  async function devSession() {
    const res = await fetch(`${t.base}/auth/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'client@demo.test' }),
    });
    return (await res.json()) as { accessToken: string; refreshToken: string };
  }
  const post = (path: string, cookies: Record<string, string>, contentType = 'application/json') =>
    fetch(`${t.base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        cookie: Object.entries(cookies)
          .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
          .join('; '),
      },
      body: '{}',
    });

  it('answers GraphQL with the session cookie alone', async () => {
    const s = await devSession();
    const res = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `portal_session=${s.accessToken}` },
      body: JSON.stringify({ query: '{ me { displayName } }' }),
    });
    expect(((await res.json()) as { data: { me: { displayName: string } } }).data.me.displayName).toBe('Karen Test');
  });

  it('refreshes from the refresh cookie, rotating both httpOnly SameSite=Strict cookies', async () => {
    const s = await devSession();
    const res = await post('/auth/session/refresh', { portal_refresh: s.refreshToken });
    expect(res.status).toBe(200);
    const lines = res.headers.getSetCookie();
    expect(lines.every((l) => l.includes('HttpOnly') && l.includes('SameSite=Strict'))).toBe(true);
    const next = cookiesFrom(res);
    expect(next.portal_refresh).toBeTruthy();
    expect(next.portal_refresh).not.toBe(s.refreshToken);
    // The old refresh cookie again: theft suspected, session ended, cookies cleared.
    const reuse = await post('/auth/session/refresh', { portal_refresh: s.refreshToken });
    expect(reuse.status).toBe(401);
    expect(cookiesFrom(reuse).portal_session).toBe('');
  });

  it('refuses a cross-site form post (no JSON content type) and GET', async () => {
    const s = await devSession();
    expect((await post('/auth/session/refresh', { portal_refresh: s.refreshToken }, 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await fetch(`${t.base}/auth/session/logout`)).status).toBe(405);
  });

  it('logs out: ends the session and clears the cookies', async () => {
    const s = await devSession();
    const res = await post('/auth/session/logout', { portal_session: s.accessToken });
    expect(res.status).toBe(200);
    expect(cookiesFrom(res)).toEqual({ portal_session: '', portal_refresh: '' });
    const after = await t.gql('{ me { id } }', undefined, s.accessToken);
    expect(after.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
