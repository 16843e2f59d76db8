import { randomBytes, randomUUID } from 'node:crypto';
import { openDatabase } from '../src/db/data-source';
import { loadConfig } from '../src/config';
import { SyncEventEntity } from '../src/events/sync-event.entity';
import { AccountEntity } from '../src/modules/identity/account.entity';
import { startFaultProxy, type FaultProxy } from './utils/fault-proxy';
import { startFhirServer, type TestFhirServer } from './utils/fhir-server';
import { EVA_BSN, INTAKE_QUESTIONNAIRE, KAREN_BSN, seedGgzClient } from './utils/fhir-ggz-seed';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { postSignedSync, subscribeTo, until, socketClient } from './utils/live';
import { startOwnRedis, type OwnRedis } from './utils/redis-server';
import { createMariaDbDatabase, describeWithMariaDb } from './utils/services';

const REDIS_TIMEOUT_MS = 300;
const DEADLINE_MS = 1500;
const DASHBOARD = 'query($id: ID!) { client(id: $id) { name dashboard { upcomingAppointmentCount } conversations { id } } }';

/**
 * The gateway under faults, as an operator meets them: two instances on MariaDB, a Redis of the
 * test's own that is killed, frozen and restarted empty (by pid), and the FHIR server behind a
 * proxy that refuses, hangs or answers 503. What each case asserts is what a person notices.
 */
describeWithMariaDb('under faults: Redis, the EHR, a crashed instance', () => {
  let redis: OwnRedis;
  let fhir: TestFhirServer;
  let proxy: FaultProxy;
  let a: TestApp;
  let b: TestApp;
  const secrets = { SESSION_SECRET: randomBytes(32).toString('hex'), SYNC_SECRET: randomBytes(24).toString('hex') };

  beforeAll(async () => {
    redis = await startOwnRedis();
    fhir = await startFhirServer();
    await seedGgzClient(fhir.repo);
    proxy = await startFaultProxy(fhir.baseUrl);
    const env = {
      ...secrets,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `faults-${randomBytes(3).toString('hex')}:`,
      REDIS_COMMAND_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
      EHR_ADAPTERS: 'fhir,demo',
      FHIR_BASE_URL: proxy.baseUrl,
      FHIR_INTAKE_QUESTIONNAIRE: INTAKE_QUESTIONNAIRE,
      ADAPTER_TIMEOUT_MS: '1000',
      ADAPTER_DEADLINE_MS: String(DEADLINE_MS),
      ADAPTER_BREAKER_THRESHOLD: '3',
      ADAPTER_BREAKER_HALF_OPEN_MS: '1500',
      SYNC_CLAIM_MS: '1000',
      SYNC_RETRY_BASE_MS: '200',
      LOG_LEVEL: 'warn',
    };
    a = await startTestApp({ database: 'mariadb', env });
    b = await startTestApp({ databaseUrl: a.config.DATABASE_URL, env: { ...env, DEMO_SEED: '0' } });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await proxy?.close();
    await fhir?.stop();
    await redis?.stop();
  });

  const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const started = Date.now();
    const value = await run();
    return { value, ms: Date.now() - started };
  };
  const bothReconnected = async () => {
    for (const t of [a, b])
      await until(
        async () => ((await (await fetch(`${t.base}/readyz`)).json()) as { redis: { ok: boolean } }).redis.ok || undefined,
        10_000,
        'Redis back on both instances',
      );
  };

  it('logs no one out during a 10 s Redis outage, waits no longer than the Redis timeout, stores every sync event, and catches a subscriber up once Redis is back', async () => {
    const karen = await a.login('client@demo.test');
    const [karenId] = await portalIds(a, karen);
    const refreshToken = (
      (await (
        await fetch(`${a.base}/auth/dev/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'client@demo.test' }),
        })
      ).json()) as { refreshToken: string }
    ).refreshToken;
    const ws = socketClient(b.base, karen);
    const video = subscribeTo<{ ready: boolean; joinUrl: string | null }>(
      ws,
      'subscription($c: ID!) { videoCallStatusChanged(clientId: $c) { ready joinUrl } }',
      { c: karenId },
      'videoCallStatusChanged',
    );
    const messages = subscribeTo<{ message: { body: string } }>(
      ws,
      'subscription($c: ID!) { messageAdded(clientId: $c) { message { body } } }',
      { c: karenId },
      'messageAdded',
    );
    await new Promise((r) => setTimeout(r, 500));

    await redis.kill();
    const outageStarted = Date.now();
    const refused: string[] = [];
    const slowest = { ms: 0 };
    let i = 0;
    const syncAnswers: number[] = [];
    while (Date.now() - outageStarted < 10_000) {
      const t = i++ % 2 ? a : b;
      const { value, ms } = await timed(() => t.gql(DASHBOARD, { id: karenId }, karen));
      slowest.ms = Math.max(slowest.ms, ms);
      if (value.body.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') || !value.body.data?.client?.name)
        refused.push(JSON.stringify(value.body).slice(0, 160));
      if (i % 2 === 0) {
        const res = await postSignedSync(a.base, secrets.SYNC_SECRET, {
          id: `outage-${randomUUID()}`,
          type: 'dossier.changed',
          source: 'demo',
          clientId: karenId,
          data: {},
        });
        syncAnswers.push(res.status);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(refused).toEqual([]);
    expect(slowest.ms).toBeLessThan(REDIS_TIMEOUT_MS + 1200);
    expect(syncAnswers.length).toBeGreaterThan(5);
    expect(syncAnswers.every((s) => s === 202)).toBe(true);

    // New sockets and a refresh work as well while Redis is away.
    const fresh = socketClient(a.base, karen);
    const freshVideo = subscribeTo(fresh, 'subscription($c: ID!) { videoCallStatusChanged(clientId: $c) { ready } }', { c: karenId }, 'videoCallStatusChanged');
    const refreshed = await a.gql('mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }', { r: refreshToken });
    expect(refreshed.body.data?.refreshSession?.accessToken).toBeTruthy();
    // Readiness is about serving: 200, with Redis reported in the body.
    const ready = await fetch(`${a.base}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()) as { status: string; redis: { ok: boolean } }).toMatchObject({ status: 'degraded', redis: { ok: false } });

    // While Redis is down a practitioner opens the video room and writes (instance A): B's subscriber is not told yet.
    expect(
      (
        await postSignedSync(a.base, secrets.SYNC_SECRET, {
          id: `outage-video-${randomUUID()}`,
          type: 'videocall.ready',
          source: 'demo',
          clientId: karenId,
          data: { practitionerId: 'pr-elamrani', joinUrl: 'https://video.example/karen' },
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await postSignedSync(a.base, secrets.SYNC_SECRET, {
          id: `outage-message-${randomUUID()}`,
          type: 'message.created',
          source: 'demo',
          clientId: karenId,
          data: { practitionerId: 'pr-elamrani', subject: 'Tijdens de storing', body: 'Geschreven terwijl Redis weg was' },
        })
      ).status,
    ).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(video.events).toHaveLength(0);
    expect(freshVideo.errors).toEqual([]);

    await redis.start();
    const back = Date.now();
    const caught = await video.nth(1, 8000);
    expect(caught).toMatchObject({ ready: true, joinUrl: 'https://video.example/karen' });
    const message = await messages.nth(1, 8000);
    expect(message.message.body).toBe('Geschreven terwijl Redis weg was');
    expect(Date.now() - back).toBeLessThan(8000);
    await ws.dispose();
    await fresh.dispose();
    await bothReconnected();
  }, 60_000);

  it('keeps a logged-out session refused after Redis restarts without its data, on both instances', async () => {
    const token = await a.login('client@demo.test');
    const [id] = await portalIds(a, token);
    expect((await b.gql('{ me { id } }', undefined, token)).body.data?.me?.id).toBeTruthy();
    await a.gql('mutation { logout }', undefined, token);
    expect((await b.gql('{ me { id } }', undefined, token)).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await redis.kill();
    await redis.start();
    await bothReconnected();
    for (const t of [a, b]) {
      const { body } = await t.gql('query($id: ID!) { me { id } client(id: $id) { dossier { medications { name } } } }', { id }, token);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(body.data?.client?.dossier ?? null).toBeNull();
    }
    // A session that was not logged out still works, on both.
    const other = await a.login('client@demo.test');
    for (const t of [a, b]) expect((await t.gql('{ me { id } }', undefined, other)).body.data?.me?.id).toBeTruthy();
  }, 30_000);

  it('answers within the Redis timeout while Redis is frozen, and logs no one out', async () => {
    const token = await a.login('client@demo.test');
    const [id] = await portalIds(a, token);
    redis.freeze();
    try {
      for (const t of [a, b, a]) {
        const { value, ms } = await timed(() => t.gql(DASHBOARD, { id }, token));
        expect(value.body.data?.client?.name).toBe('Karen Test');
        expect(ms).toBeLessThan(REDIS_TIMEOUT_MS + 1200);
      }
    } finally {
      redis.thaw();
    }
    await bothReconnected();
  }, 30_000);

  it('costs a user at most the field deadline when the EHR hangs, fails fast once the breaker is open, keeps the other parts and the other EHR answering, and recovers soon after', async () => {
    const eva = await a.login({ bsn: EVA_BSN });
    const [evaId] = await portalIds(a, eva);
    const karen = await a.login({ bsn: KAREN_BSN });
    const [karenId] = await portalIds(a, karen);
    const screen =
      'query($id: ID!) { me { displayName } client(id: $id) { name dashboard { upcomingAppointmentCount } dossier { medications { name } } conversations { id } } }';
    // Read once while the EHR answers: the name is kept for when it does not.
    expect((await a.gql(screen, { id: evaId }, eva)).body.data.client.name).toBe('Eva Maria Jansen');

    proxy.mode = 'hang';
    const hanging = await timed(() => a.gql(screen, { id: evaId }, eva));
    expect(hanging.ms).toBeLessThan(DEADLINE_MS + 1500);
    const body = hanging.value.body;
    expect(body.data.me.displayName).toBeTruthy();
    expect(body.data.client.name).toBe('Eva Maria Jansen');
    expect(Array.isArray(body.data.client.conversations)).toBe(true);
    expect(body.data.client.dossier.medications).toBeNull();
    expect(body.errors?.find((e) => e.path?.join('.') === 'client.dossier.medications')?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');

    // Further requests until the breaker opens; from then on the answer is immediate.
    for (let i = 0; i < 3; i++) await a.gql(screen, { id: evaId }, eva);
    const open = await timed(() => a.gql(screen, { id: evaId }, eva));
    expect(open.ms).toBeLessThan(1000);
    expect(await (await fetch(`${a.base}/metrics`)).text()).toMatch(/gateway_adapter_circuit_open\{adapter="fhir"\} 1/);
    const ready = await fetch(`${a.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { adapters: Record<string, { state: string }> }).adapters.fhir.state).toBe('open');

    // Karen is known at both organisations: the demo EHR's part of her screen answers, marked partial.
    const partial = await a.gql('query($id: ID!) { client(id: $id) { appointments(when: ALL) { id source } } }', { id: karenId }, karen);
    expect(partial.body.data.client.appointments.length).toBeGreaterThan(0);
    expect(partial.body.data.client.appointments.every((x: { source: string }) => x.source === 'demo')).toBe(true);
    expect(partial.body.extensions?.partial.length).toBeGreaterThan(0);
    expect(partial.body.extensions?.partial.every((p: { source: string }) => p.source === 'fhir')).toBe(true);

    proxy.mode = 'pass';
    const recovered = await until(
      async () => {
        const r = await a.gql(screen, { id: evaId }, eva);
        return r.body.data?.client?.dossier?.medications?.length ? r : undefined;
      },
      6000,
      'the FHIR parts to answer again',
    );
    expect(recovered.body.errors).toBeUndefined();
  }, 40_000);

  it('processes events that a crashed instance accepted but never processed, on another instance within a few seconds', async () => {
    const karen = await a.login('client@demo.test');
    const [karenId] = await portalIds(a, karen);
    const repo = a.app.db.getRepository(SyncEventEntity);
    const now = Date.now();
    // What an instance that answered 202 and died leaves in the table: stored, claimed for itself, never tried.
    const rows = Array.from({ length: 6 }, (_, i) => ({
      id: randomUUID(),
      eventId: `crashed-${randomUUID()}`,
      type: 'videocall.ended',
      source: 'demo',
      clientRef: karenId,
      occurredAt: null,
      payload: JSON.stringify({ id: `crashed-${i}`, type: 'videocall.ended', source: 'demo', clientId: karenId, data: {} }),
      receivedAt: new Date(now - 200),
      processedAt: null,
      error: null,
      attempts: 0,
      // Two as the build before claims left them: no claim at all.
      nextAttemptAt: i < 4 ? new Date(now + 800) : null,
    }));
    await repo.insert(rows);
    const processed = async () => (await Promise.all(rows.map((r) => repo.findOneByOrFail({ id: r.id })))).every((r) => r.processedAt);
    await until(async () => ((await processed()) ? true : undefined), 6000, 'the crashed instance’s events to be processed');
    const done = await Promise.all(rows.map((r) => repo.findOneByOrFail({ id: r.id })));
    expect(done.every((r) => r.processedAt && r.processedAt.getTime() - now < 6000)).toBe(true);
  }, 20_000);

  it('starts two instances at the same moment on a fresh database: both seed and serve, each demo account once', async () => {
    const fresh = await createMariaDbDatabase();
    try {
      const migrate = await openDatabase(loadConfig({ DATABASE_URL: fresh.url, ...secrets }).database, true);
      await migrate.destroy();
      const env = { ...secrets, DEMO_SEED: '1', MIGRATE_ON_START: '0' };
      const [x, y] = await Promise.all([startTestApp({ databaseUrl: fresh.url, env }), startTestApp({ databaseUrl: fresh.url, env })]);
      try {
        expect(await x.app.db.getRepository(AccountEntity).countBy({ email: 'client@demo.test' })).toBe(1);
        for (const t of [x, y])
          expect((await t.gql('{ me { displayName } }', undefined, await t.login('client@demo.test'))).body.data.me.displayName).toBe('Karen Test');
      } finally {
        await x.stop();
        await y.stop();
      }
    } finally {
      await fresh.drop();
    }
  }, 30_000);
});
