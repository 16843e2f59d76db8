import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { freePort } from './utils/redis-server';
import { describeWithMariaDb, describeWithMariaDbAndRedis, describeWithRedis, REDIS_URL, redisPrefix } from './utils/services';

describeWithMariaDb('the gateway on MariaDB (its own throwaway database)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ database: 'mariadb', env: REDIS_URL ? { REDIS_URL, REDIS_KEY_PREFIX: redisPrefix() } : {} });
  });
  afterAll(async () => t?.stop());

  it('runs its migrations from a clean database and answers /readyz', async () => {
    const migrations = (await t.app.db.query('SELECT name FROM migrations')) as { name: string }[];
    expect(migrations.map((m) => m.name)).toContain('Platform1764000000000');
    expect((await fetch(`${t.base}/readyz`)).status).toBe(200);
  });

  it('answers the demo client’s dashboard and refuses a stranger', async () => {
    const token = await t.login('client@demo.test');
    const [id] = await portalIds(t, token);
    const q = 'query($id: ID!) { client(id: $id) { dashboard { upcomingAppointmentCount nextAppointment { start } } } }';
    const { body } = await t.gql(q, { id }, token);
    expect(body.data.client.dashboard.upcomingAppointmentCount).toBeGreaterThan(0);
    const stranger = await t.login('stranger@demo.test');
    expect((await t.gql(q, { id }, stranger)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('keeps the access log append-only with triggers', async () => {
    const token = await t.login('client@demo.test');
    const [id] = await portalIds(t, token);
    await t.gql('query($id: ID!) { client(id: $id) { dossier { medications { name } } } }', { id }, token);
    await expect(t.app.db.query('DELETE FROM access_log')).rejects.toThrow(/append-only/);
  });

  it('links a DigiD-style login by BSN to the same account every time', async () => {
    const a = await t.login({ bsn: '999990019' });
    const b = await t.login({ bsn: '999990019' });
    const me = async (token: string) => (await t.gql('{ me { id displayName } }', undefined, token)).body.data.me;
    expect((await me(a)).id).toBe((await me(b)).id);
    expect((await me(a)).displayName).toBe('Karen Test');
  });

  it('ends a logged-out session on every instance through the shared deny-list', async () => {
    const other = await startTestApp({
      env: {
        DATABASE_URL: t.config.DATABASE_URL,
        SESSION_SECRET: (t.config.sessionKey as { secret: string }).secret,
        ...(REDIS_URL ? { REDIS_URL, REDIS_KEY_PREFIX: t.config.REDIS_KEY_PREFIX } : {}),
      },
    });
    try {
      const token = await t.login('client@demo.test');
      expect((await other.gql('{ me { id } }', undefined, token)).body.data.me.id).toBeTruthy();
      await t.gql('mutation { logout }', undefined, token);
      if (REDIS_URL) expect((await other.gql('{ me { id } }', undefined, token)).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await other.app.stop();
    }
  });
});

describeWithMariaDbAndRedis('persisted queries (APQ) shared through Redis', () => {
  it('answers by hash alone on a second instance a query registered on the first, stored in Redis under the key Apollo names', async () => {
    const env = { REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: redisPrefix(), SESSION_SECRET: 'a'.repeat(64) };
    const a = await startTestApp({ database: 'mariadb', env });
    const b = await startTestApp({ databaseUrl: a.config.DATABASE_URL, env });
    const redis = new Redis(REDIS_URL!);
    try {
      const token = await a.login('client@demo.test');
      const [id] = await portalIds(a, token);
      const query = 'query Agenda($id: ID!) { client(id: $id) { appointments(when: ALL) { id start } } }';
      const sha256Hash = createHash('sha256').update(query).digest('hex');
      const ask = (t: TestApp, withText: boolean) =>
        fetch(`${t.base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: withText ? query : undefined, variables: { id }, extensions: { persistedQuery: { version: 1, sha256Hash } } }),
        }).then(async (res) => (await res.json()) as { data?: unknown; errors?: { message: string }[] });
      expect((await ask(b, false)).errors?.[0]?.message).toBe('PersistedQueryNotFound');
      const registered = await ask(a, true);
      expect(registered.errors).toBeUndefined();
      expect(await redis.get(`${env.REDIS_KEY_PREFIX}apq:${sha256Hash}`)).toBe(query);
      expect(await ask(b, false)).toEqual(registered);
    } finally {
      await redis.quit();
      await b.stop();
      await a.stop();
    }
  });
});

async function readiness(t: TestApp): Promise<{ status: number; redisOk: boolean; state: string }> {
  const res = await fetch(`${t.base}/readyz`);
  const body = (await res.json()) as { status: string; redis: { ok: boolean } };
  return { status: res.status, redisOk: body.redis.ok, state: body.status };
}

describeWithRedis('readiness and Redis', () => {
  it('stays ready while Redis does not answer (degraded, Redis reported in the body), and says so once it does', async () => {
    const port = await freePort();
    const t = await startTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${port}/0` } });
    let redis: ChildProcess | undefined;
    try {
      expect(await readiness(t)).toEqual({ status: 200, redisOk: false, state: 'degraded' });
      redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      let state = await readiness(t);
      for (let i = 0; i < 50 && !state.redisOk; i++) {
        await new Promise((r) => setTimeout(r, 200));
        state = await readiness(t);
      }
      expect(state).toEqual({ status: 200, redisOk: true, state: 'ready' });
    } finally {
      await t.stop();
      redis?.kill();
    }
  });
});
