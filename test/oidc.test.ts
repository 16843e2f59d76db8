import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEMO_BSN } from '../adapters/demo/demo-data';
import { startTestApp, type TestApp, type TestAppOptions } from './utils/app';
import { describeWithMariaDbAndRedis, REDIS_URL, redisPrefix } from './utils/services';

const CLIENT_ID = 'ggz-gateway';
const CLIENT_SECRET = 'a-test-client-secret-of-some-length';
/** The second gateway authenticates with private_key_jwt, as the NLGov profile asks of broker clients. */
const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const CLIENT_KEY_ID = 'gateway-key-1';

/** Cookies per host, as a browser keeps them (paths and expiry kept simple: Max-Age=0 deletes). */
class CookieJar {
  private readonly hosts = new Map<string, Map<string, string>>();
  header(url: URL): string {
    return [...(this.hosts.get(url.host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  store(url: URL, res: Response): void {
    const jar = this.hosts.get(url.host) ?? new Map<string, string>();
    this.hosts.set(url.host, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = pair.trim().split('=');
      if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value.join('=') === '') jar.delete(name);
      else jar.set(name, value.join('='));
    }
  }
  set(url: URL, name: string, value: string): void {
    const jar = this.hosts.get(url.host) ?? new Map<string, string>();
    this.hosts.set(url.host, jar);
    jar.set(name, value);
  }
  get(url: URL, name: string): string | undefined {
    return this.hosts.get(url.host)?.get(name);
  }
}

async function request(jar: CookieJar, url: URL | string, init: RequestInit = {}): Promise<Response> {
  const target = new URL(url);
  const cookie = jar.header(target);
  const res = await fetch(target, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
  jar.store(target, res);
  return res;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startProvider(redirectUris: string[]): Promise<{ issuer: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [join(__dirname, 'utils', 'oidc-provider.mjs')], {
    env: {
      ...process.env,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      OIDC_REDIRECT_URIS: redirectUris.join(','),
      OIDC_CLIENT_JWKS: JSON.stringify({ keys: [{ ...clientKey.publicKey.export({ format: 'jwk' }), kid: CLIENT_KEY_ID, alg: 'ES256', use: 'sig' }] }),
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`oidc-provider exited with ${code}`)));
  });
  return { issuer: (JSON.parse(line) as { issuer: string }).issuer, process: child };
}

const sessionCookieSet = (res: Response) => res.headers.getSetCookie().some((c) => /^portal_(session|refresh)=[^;]/.test(c));

/** The same rules on the embedded defaults and on MariaDB + Redis (state kept in Redis, the migration on MariaDB). */
const backings: { name: string; describe: jest.Describe; options: () => TestAppOptions }[] = [
  { name: 'SQLite and the in-process store', describe, options: () => ({}) },
  {
    name: 'MariaDB and Redis',
    describe: describeWithMariaDbAndRedis,
    options: () => ({ database: 'mariadb', env: { REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: redisPrefix() } }),
  },
];

for (const backing of backings)
  backing.describe(`DigiD / OIDC login against a real OpenID provider (oidc-provider on loopback), on ${backing.name}`, () => {
    let provider: { issuer: string; process: ChildProcess };
    let t: TestApp;
    let tPseudonym: TestApp;
    let gateway: string;
    let gatewayPseudonym: string;

    beforeAll(async () => {
      const [port, portPseudonym] = [await freePort(), await freePort()];
      gateway = `http://127.0.0.1:${port}`;
      gatewayPseudonym = `http://127.0.0.1:${portPseudonym}`;
      provider = await startProvider([`${gateway}/auth/oidc/callback`, `${gatewayPseudonym}/auth/oidc/callback`]);
      const oidcEnv = (base: string) => ({
        PUBLIC_URL: base,
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: CLIENT_ID,
        OIDC_CLIENT_SECRET: CLIENT_SECRET,
        OIDC_REDIRECT_URI: `${base}/auth/oidc/callback`,
      });
      const [options, optionsPseudonym] = [backing.options(), backing.options()];
      t = await startTestApp({ ...options, env: { ...options.env, PORT: String(port), ...oidcEnv(gateway) } });
      tPseudonym = await startTestApp({
        ...optionsPseudonym,
        env: {
          ...optionsPseudonym.env,
          PORT: String(portPseudonym),
          OIDC_ISSUER: provider.issuer,
          OIDC_CLIENT_ID: `${CLIENT_ID}-pkjwt`,
          OIDC_CLIENT_PRIVATE_KEY: clientKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
          OIDC_CLIENT_KEY_ID: CLIENT_KEY_ID,
          OIDC_REDIRECT_URI: `${gatewayPseudonym}/auth/oidc/callback`,
          OIDC_SUBJECT_TYPE: 'pseudonym',
          OIDC_REQUIRED_ACR: 'http://eidas.europa.eu/LoA/substantial',
        },
      });
    }, 60_000);
    afterAll(async () => {
      await Promise.all([t?.stop(), tPseudonym?.stop()]);
      provider?.process.kill('SIGTERM');
    });

    /** GET /auth/oidc/login: answers the provider's authorization URL the browser is sent to. */
    async function startLogin(jar: CookieJar, base = gateway, returnTo = '/portaal'): Promise<URL> {
      const res = await request(jar, `${base}/auth/oidc/login?returnTo=${encodeURIComponent(returnTo)}`);
      expect(res.status).toBe(302);
      return new URL(res.headers.get('location')!);
    }

    /** The user's part at the provider: log in as `subject`, consent; answers the callback URL (not yet visited). */
    async function authorize(jar: CookieJar, authorizationUrl: URL, subject: string, answer: 'login' | 'abort' = 'login'): Promise<URL> {
      let next: URL = authorizationUrl;
      for (let hop = 0; hop < 12; hop++) {
        if (next.pathname === '/auth/oidc/callback') return next;
        let res = await request(jar, next);
        if (res.status === 200 && next.pathname.startsWith('/interaction/')) {
          const prompt = /name="prompt" value="(\w+)"/.exec(await res.text())?.[1];
          if (answer === 'abort') res = await request(jar, new URL(`${next.pathname}/abort`, next));
          else {
            const form: Record<string, string> = prompt === 'login' ? { prompt, login: subject, password: 'any' } : { prompt: prompt ?? 'consent' };
            res = await request(jar, next, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams(form).toString(),
            });
          }
        }
        const location = res.headers.get('location');
        if (!location) throw new Error(`provider answered ${res.status} at ${next.pathname}: ${await res.text()}`);
        next = new URL(location, next);
      }
      throw new Error('too many redirects at the provider');
    }

    async function tamperNextIdToken(tamper: string): Promise<void> {
      await fetch(`${provider.issuer}/__test/next-id-token?tamper=${tamper}`);
    }

    async function me(jar: CookieJar, base = gateway) {
      const res = await request(jar, `${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ me { displayName portals { relation } } }' }),
      });
      return (await res.json()) as { data?: { me: { displayName: string; portals: { relation: string }[] } }; errors?: { extensions?: { code?: string } }[] };
    }

    async function expectRefused(res: Response, status: number, reason: string) {
      expect(res.status).toBe(status);
      expect(sessionCookieSet(res)).toBe(false);
      const body = (await res.json()) as { errors: { message: string; extensions: { reason: string } }[] };
      expect(body.errors[0].extensions.reason).toBe(reason);
      expect(body.errors[0].message.length).toBeGreaterThan(10);
      return body.errors[0].message;
    }

    it('logs a DigiD user in end to end: login → provider → consent → callback sets httpOnly SameSite=Strict cookies that open her own portal', async () => {
      const jar = new CookieJar();
      const authorizationUrl = await startLogin(jar);
      expect(authorizationUrl.origin).toBe(provider.issuer);
      expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizationUrl.searchParams.get('state')).toBeTruthy();
      expect(authorizationUrl.searchParams.get('nonce')).toBeTruthy();

      const callback = await authorize(jar, authorizationUrl, DEMO_BSN.karen);
      const res = await request(jar, callback);
      expect(res.status).toBe(302);
      // Back on the portal's page (FRONTEND_URL, here the gateway that serves the reference page).
      expect(res.headers.get('location')).toBe(`${gateway}/portaal`);
      const cookies = res.headers.getSetCookie();
      const session = cookies.find((c) => c.startsWith('portal_session='))!;
      expect(session).toMatch(/HttpOnly/);
      expect(session).toMatch(/SameSite=Strict/);
      expect(session).not.toMatch(/Secure/); // plain http on loopback outside production
      // The refresh cookie goes only to the session routes, never with a GraphQL call.
      expect(cookies.find((c) => c.startsWith('portal_refresh='))).toMatch(/Path=\/auth\/session;.*HttpOnly; SameSite=Strict/);

      const { data } = await me(jar);
      expect(data!.me.displayName).toBe('Karen Test');
      expect(data!.me.portals[0].relation).toBe('SELF');
      expect(t.logs.join('')).not.toContain(DEMO_BSN.karen);
      expect(t.logs.join('')).toMatch(/"event":"login","method":"oidc"/);
    });

    it('links a parent to both children the EHR lists', async () => {
      const jar = new CookieJar();
      await request(jar, await authorize(jar, await startLogin(jar), DEMO_BSN.parent));
      const { data } = await me(jar);
      expect(data!.me.portals.map((p) => p.relation)).toEqual(['PARENT', 'PARENT']);
    });

    it.each([['//evil.example/x'], ['https://evil.example/'], ['/\\evil.example'], ['/%0d%0aSet-Cookie:x=1'.replace('%0d%0a', '\r\n')]])(
      'logs in with returnTo %j but lands on the portal start page, never on another site',
      async (returnTo) => {
        const jar = new CookieJar();
        const res = await request(jar, await authorize(jar, await startLogin(jar, gateway, returnTo), DEMO_BSN.karen));
        expect(res.status).toBe(302);
        expect(res.headers.get('location')).toBe(`${gateway}/`);
        expect(t.logs.join('')).toMatch(/"event":"return_to_refused"/);
      },
    );

    it('refuses a callback whose state was changed, and sets no session', async () => {
      const jar = new CookieJar();
      const callback = await authorize(jar, await startLogin(jar), DEMO_BSN.karen);
      callback.searchParams.set('state', 'forged-state-value');
      await expectRefused(await request(jar, callback), 400, 'state_mismatch');
      expect((await me(jar)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('refuses a callback without state, and one finished in another browser (login CSRF)', async () => {
      const jar = new CookieJar();
      const callback = await authorize(jar, await startLogin(jar), DEMO_BSN.karen);
      const withoutState = new URL(callback);
      withoutState.searchParams.delete('state');
      await expectRefused(await request(jar, withoutState), 400, 'missing_state');
      await expectRefused(await request(new CookieJar(), callback), 400, 'state_mismatch');
    });

    it('refuses a replayed callback, and a used code under a fresh state', async () => {
      const jar = new CookieJar();
      const authorizationUrl = await startLogin(jar);
      const state = jar.get(new URL(gateway), 'oidc_state')!;
      const callback = await authorize(jar, authorizationUrl, DEMO_BSN.karen);
      expect((await request(jar, callback)).status).toBe(302);

      const attacker = new CookieJar();
      attacker.set(new URL(gateway), 'oidc_state', state);
      await expectRefused(await request(attacker, callback), 400, 'unknown_state');

      // A new login of the attacker's own, with the stolen code pasted in: the provider refuses it.
      const fresh = await startLogin(attacker);
      const replay = new URL(callback);
      replay.searchParams.set('state', fresh.searchParams.get('state')!);
      expect(await expectRefused(await request(attacker, replay), 401, 'token_rejected')).toContain('invalid_grant');
    });

    it('refuses an ID token carrying another nonce than the one this login sent', async () => {
      const jar = new CookieJar();
      const authorizationUrl = await startLogin(jar);
      authorizationUrl.searchParams.set('nonce', 'a-nonce-the-gateway-never-issued');
      await expectRefused(await request(jar, await authorize(jar, authorizationUrl, DEMO_BSN.karen)), 401, 'nonce_mismatch');
    });

    it('refuses an ID token from another issuer, validly signed with the provider key', async () => {
      const jar = new CookieJar();
      const callback = await authorize(jar, await startLogin(jar), DEMO_BSN.karen);
      await tamperNextIdToken('foreign-issuer');
      await expectRefused(await request(jar, callback), 401, 'issuer_mismatch');
    });

    it('refuses an authorization response that names another issuer (mix-up, RFC 9207)', async () => {
      const jar = new CookieJar();
      const callback = await authorize(jar, await startLogin(jar), DEMO_BSN.karen);
      expect(callback.searchParams.get('iss')).toBe(provider.issuer);
      callback.searchParams.set('iss', 'http://127.0.0.1:1/another-issuer');
      await expectRefused(await request(jar, callback), 401, 'issuer_mismatch');
    });

    it.each([['forged-signature'], ['unknown-key']])('refuses an ID token signed with a key the provider never published (%s)', async (tamper) => {
      const jar = new CookieJar();
      const callback = await authorize(jar, await startLogin(jar), DEMO_BSN.karen);
      await tamperNextIdToken(tamper);
      await expectRefused(await request(jar, callback), 401, 'invalid_signature');
    });

    it('follows a key rollover: an ID token under a newly published kid is accepted once the JWKS cool-down (60 s) has passed', async () => {
      const warm = new CookieJar();
      expect((await request(warm, await authorize(warm, await startLogin(warm), DEMO_BSN.karen))).status).toBe(302); // the old JWKS is cached now
      const jar = new CookieJar();
      const callback = await authorize(jar, await startLogin(jar), DEMO_BSN.karen);
      await tamperNextIdToken('rotate-key');
      // The gateway's clock only (the provider runs in its own process): past the refetch cool-down.
      const realNow = Date.now.bind(Date);
      const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000);
      try {
        expect((await request(jar, callback)).status).toBe(302);
      } finally {
        clock.mockRestore();
      }
    });

    it('refuses an expired ID token', async () => {
      const jar = new CookieJar();
      const callback = await authorize(jar, await startLogin(jar), DEMO_BSN.karen);
      await tamperNextIdToken('expired');
      await expectRefused(await request(jar, callback), 401, 'id_token_expired');
    });

    it('refuses with the provider error when the user cancels at the provider', async () => {
      const jar = new CookieJar();
      const callback = await authorize(jar, await startLogin(jar), DEMO_BSN.karen, 'abort');
      expect(callback.searchParams.get('error')).toBe('access_denied');
      await expectRefused(await request(jar, callback), 401, 'provider_error');
    });

    it('refuses a subject that is not a valid BSN (11-proef) when the claim is a BSN', async () => {
      const jar = new CookieJar();
      await expectRefused(await request(jar, await authorize(jar, await startLogin(jar), '123456789')), 401, 'invalid_subject');
    });

    it('counts every refusal as a failed login in the security metrics', async () => {
      const text = await (await fetch(`${gateway}/metrics`)).text();
      expect(text).toMatch(/gateway_security_events_total\{event="login_failed"\} ([1-9]\d*)/);
      expect(t.logs.join('')).toMatch(/"event":"login_failed","method":"oidc","reason":"state_mismatch"/);
    });

    it('with private_key_jwt, a pseudonym subject and OIDC_REQUIRED_ACR: finds the same account again by (issuer, subject), and refuses a weaker acr', async () => {
      const login = async (acr: 'acr-low' | 'acr-substantial') => {
        const jar = new CookieJar();
        const callback = await authorize(jar, await startLogin(jar, gatewayPseudonym), 'broker-pseudonym-7f3a');
        await tamperNextIdToken(acr);
        return { jar, res: await request(jar, callback) };
      };
      const weak = await login('acr-low');
      await expectRefused(weak.res, 401, 'acr_too_low');

      const first = await login('acr-substantial');
      expect(first.res.status).toBe(302);
      const second = await login('acr-substantial');
      const ids = await Promise.all(
        [first.jar, second.jar].map(async (jar) => {
          const res = await request(jar, `${gatewayPseudonym}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ me { id portals { relation } } }' }),
          });
          return ((await res.json()) as { data: { me: { id: string; portals: unknown[] } } }).data.me;
        }),
      );
      expect(ids[0].id).toBe(ids[1].id);
      expect(ids[0].portals).toEqual([]);
    });
  });

describe('the OIDC routes without a reachable provider', () => {
  it('answers 404 when OIDC_ISSUER is not configured', async () => {
    const t = await startTestApp();
    try {
      expect((await fetch(`${t.base}/auth/oidc/login`)).status).toBe(404);
      expect((await fetch(`${t.base}/auth/oidc/callback?code=x&state=y`)).status).toBe(404);
    } finally {
      await t.stop();
    }
  });

  it('answers 502 with a reason, and starts no login, while the provider cannot be reached', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const t = await startTestApp({ env: { OIDC_ISSUER: dead, OIDC_CLIENT_ID: CLIENT_ID, OIDC_REDIRECT_URI: 'http://127.0.0.1:1/auth/oidc/callback' } });
    try {
      const res = await fetch(`${t.base}/auth/oidc/login`, { redirect: 'manual' });
      expect(res.status).toBe(502);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(((await res.json()) as { errors: { extensions: { reason: string } }[] }).errors[0].extensions.reason).toBe('provider_unavailable');
    } finally {
      await t.stop();
    }
  });
});
