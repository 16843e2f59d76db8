import { randomBytes, randomUUID } from 'node:crypto';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { PortalRelation, Permission } from '../src/auth/permissions';
import { signSyncBody } from '../src/events/sync.signature';
import { requeueGivenUpEvents } from '../src/events/sync.service';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { VIDEO_ROOMS } from '../src/modules/video/video.resolver';
import { VIDEO_TOPIC } from '../src/modules/video/video.topics';
import { postSignedSync, redisSubscribers as waitForRedisSubscribers, socketClient, subscribeTo, until, type Received as LiveReceived } from './utils/live';
import { describeWithMariaDbAndRedis, redisPrefix, REDIS_URL } from './utils/services';

const videoSubscription = 'subscription($id: ID!) { videoCallStatusChanged(clientId: $id) { ready joinUrl readySince practitioner { id name } } }';

type VideoEvent = { ready: boolean; joinUrl: string | null; readySince: string | null; practitioner: { id: string; name: string } | null };
type Received = LiveReceived<VideoEvent>;
/** A graphql-ws subscription as a browser would hold it, collecting what arrives. */
const subscribe = (client: WsClient, clientId: string): Received =>
  subscribeTo<VideoEvent>(client, videoSubscription, { id: clientId }, 'videoCallStatusChanged');

describeWithMariaDbAndRedis('sync events and video-call readiness across two instances (MariaDB + Redis)', () => {
  const prefix = redisPrefix();
  const syncSecret = randomBytes(24).toString('hex');
  let a: TestApp;
  let b: TestApp;
  let admin: Redis;
  let karenId: string;
  let karenToken: string;
  let relativeToken: string;
  const wsClients: WsClient[] = [];

  const ws = (t: TestApp, token: string): WsClient => {
    const client = socketClient(t.base, token);
    wsClients.push(client);
    return client;
  };

  /** Posts a sync event as a practitioner system would; `sign` lets a test break the signature. */
  const post = async (
    t: TestApp,
    event: Record<string, unknown> | string,
    sign: { secret?: string; timestamp?: number; signature?: string } = {},
  ): Promise<{ status: number; body: { status?: string; errors?: { message: string; extensions?: { code?: string } }[] } }> => {
    const raw = typeof event === 'string' ? event : JSON.stringify(event);
    const timestamp = sign.timestamp ?? Math.floor(Date.now() / 1000);
    const res = await fetch(`${t.base}/sync/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature-timestamp': String(timestamp),
        'x-signature': sign.signature ?? signSyncBody(sign.secret ?? syncSecret, timestamp, raw),
      },
      body: raw,
    });
    return { status: res.status, body: (await res.json()) as never };
  };

  const ready = (clientId: string, joinUrl = `https://video.ggz-demo.test/room/${randomUUID()}`) => ({
    id: randomUUID(),
    type: 'videocall.ready',
    source: 'demo',
    clientId,
    occurredAt: new Date().toISOString(),
    data: { practitionerId: 'pr-elamrani', joinUrl },
  });
  const ended = (clientId: string) => ({ id: randomUUID(), type: 'videocall.ended', source: 'demo', clientId, data: {} });

  /** Waits until this many sockets' subscriptions for the client's room are registered in Redis. */
  const redisSubscribers = (clientId: string, atLeast: number): Promise<void> => waitForRedisSubscribers(admin, `${prefix}video:${clientId}`, atLeast);

  const storedEvents = async (eventId: string): Promise<{ type: string; processed_at: Date | null }[]> =>
    a.app.db.query('SELECT type, processed_at FROM sync_events WHERE event_id = ?', [eventId]);

  beforeAll(async () => {
    const env = {
      REDIS_URL: REDIS_URL!,
      REDIS_KEY_PREFIX: prefix,
      SYNC_SECRET: syncSecret,
      // Both instances must accept the same sessions, as behind one load balancer.
      SESSION_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      // Failed events are tried again quickly here (production: seconds to an hour).
      SYNC_RETRY_BASE_MS: '100',
      SYNC_RETRY_MAX_MS: '400',
    };
    a = await startTestApp({ database: 'mariadb', env });
    b = await startTestApp({ databaseUrl: a.config.DATABASE_URL, env });
    admin = new Redis(REDIS_URL!);
    karenToken = await a.login('client@demo.test');
    relativeToken = await a.login('relative@demo.test');
    [karenId] = await portalIds(a, karenToken);
  });

  afterAll(async () => {
    await Promise.all(wsClients.map(async (c) => c.dispose()));
    await b?.stop();
    await a?.stop();
    await admin?.quit();
  });

  it('delivers a videocall.ready posted to instance B to the client subscribed on instance A within a second, with the joinUrl', async () => {
    const sub = subscribe(ws(a, karenToken), karenId);
    await redisSubscribers(karenId, 1);
    const event = ready(karenId, 'https://video.ggz-demo.test/room/karen-1');
    const sent = Date.now();
    const res = await post(b, event);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('accepted');
    const got = await sub.nth(1, 1000);
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(got.ready).toBe(true);
    expect(got.joinUrl).toBe('https://video.ggz-demo.test/room/karen-1');
    expect(got.practitioner).toEqual({ id: 'demo:pr-elamrani', name: 'Fatima El Amrani' });
    expect(got.readySince).toEqual(expect.any(String));
    expect(sub.errors).toEqual([]);
    sub.stop();
  });

  it('answers Client.videoCall with the current state on either instance', async () => {
    await post(b, ready(karenId, 'https://video.ggz-demo.test/room/karen-2'));
    const query = 'query($id: ID!) { client(id: $id) { videoCall { ready joinUrl readySince practitioner { id name profession } } } }';
    for (const t of [a, b]) {
      const { body } = await (async () => {
        const deadline = Date.now() + 2000;
        for (;;) {
          const r = await t.gql(query, { id: karenId }, karenToken);
          if (r.body.data?.client.videoCall.joinUrl === 'https://video.ggz-demo.test/room/karen-2' || Date.now() > deadline) return r;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      expect(body.errors).toBeUndefined();
      expect(body.data.client.videoCall).toMatchObject({
        ready: true,
        joinUrl: 'https://video.ggz-demo.test/room/karen-2',
        practitioner: { id: 'demo:pr-elamrani', name: 'Fatima El Amrani', profession: 'Psychotherapeut' },
      });
    }
  });

  it('keeps readySince when a ready event only refreshes the room, and lets readiness lapse after VIDEO_READY_TTL_SECONDS', async () => {
    const first = await a.app.services.video.status(karenId);
    await post(b, ready(karenId, 'https://video.ggz-demo.test/room/karen-2'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refreshed = await a.app.services.video.status(karenId);
    expect(refreshed.readySince).toBe(first.readySince);
    const later = new Date(Date.now() + (a.config.VIDEO_READY_TTL_SECONDS + 5) * 1000);
    expect(await a.app.services.video.status(karenId, later)).toMatchObject({ ready: false, joinUrl: null });
  });

  it('shows a network member with AGENDA_VIEW that the room is ready, but never the joinUrl', async () => {
    const { body } = await a.gql('query($id: ID!) { client(id: $id) { videoCall { ready joinUrl } } }', { id: karenId }, relativeToken);
    expect(body.errors).toBeUndefined();
    expect(body.data.client.videoCall).toEqual({ ready: true, joinUrl: null });

    const sub = subscribe(ws(a, relativeToken), karenId);
    await redisSubscribers(karenId, 1);
    await post(b, ready(karenId, 'https://video.ggz-demo.test/room/karen-3'));
    const got = await sub.nth(1);
    expect(got).toMatchObject({ ready: true, joinUrl: null });
    sub.stop();
  });

  it('gives each subscriber of one event its own rights: on the same instance the client gets the joinUrl, a network member not', async () => {
    const relativeSub = subscribe(ws(a, relativeToken), karenId);
    const karenSubs = [subscribe(ws(a, karenToken), karenId), subscribe(ws(a, karenToken), karenId)];
    await redisSubscribers(karenId, 1);
    await until(() => (a.app.services.live.rooms(VIDEO_ROOMS).seats(karenId) >= 3 ? true : undefined), 2000, 'three subscribers on instance A');
    await post(b, ready(karenId, 'https://video.ggz-demo.test/room/shared'));
    const [relativeGot, ...karenGot] = await Promise.all([relativeSub.nth(1), ...karenSubs.map((s) => s.nth(1))]);
    expect(relativeGot).toMatchObject({ ready: true, joinUrl: null });
    for (const got of karenGot)
      expect(got).toMatchObject({ ready: true, joinUrl: 'https://video.ggz-demo.test/room/shared', practitioner: { id: 'demo:pr-elamrani' } });
    for (const sub of [relativeSub, ...karenSubs]) sub.stop();
  });

  it("refuses a stranger subscribing to Karen's room with FORBIDDEN", async () => {
    const strangerToken = await a.login('stranger@demo.test');
    const sub = subscribe(ws(a, strangerToken), karenId);
    await until(() => (sub.errors.length ? true : undefined), 2000, 'the refusal');
    expect(sub.errors[0].extensions?.code).toBe('FORBIDDEN');
    expect(sub.events).toEqual([]);
  });

  it("stops the next event when a network member's right is revoked while the socket is open", async () => {
    const relative = (await a.app.services.accounts.findByEmail('relative@demo.test'))!;
    const sub = subscribe(ws(a, relativeToken), karenId);
    await redisSubscribers(karenId, 1);
    await post(b, ended(karenId));
    expect(await sub.nth(1)).toMatchObject({ ready: false });

    await a.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [], false);
    try {
      await post(b, ready(karenId));
      await sub.done();
      expect(sub.events).toHaveLength(1);
    } finally {
      await a.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], false);
    }
  });

  it('stops the next event on instance A when the right is revoked through instance B (rights kept in memory are dropped everywhere)', async () => {
    const relative = (await b.app.services.accounts.findByEmail('relative@demo.test'))!;
    const sub = subscribe(ws(a, relativeToken), karenId);
    await redisSubscribers(karenId, 1);
    // Two events: instance A now holds the member's rights in memory.
    await post(b, ended(karenId));
    await post(b, ready(karenId));
    await sub.nth(2);

    await b.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [], false);
    try {
      await post(b, ended(karenId));
      await sub.done();
      expect(sub.events).toHaveLength(2);
    } finally {
      await b.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], false);
    }
  });

  it('stops the next event on instance A for a session logged out on instance B', async () => {
    const token = await b.login('client@demo.test');
    const sub = subscribe(ws(a, token), karenId);
    await redisSubscribers(karenId, 1);
    await post(b, ended(karenId));
    await sub.nth(1);

    expect((await b.gql('mutation { logout }', undefined, token)).body.errors).toBeUndefined();
    await post(b, ready(karenId));
    await sub.done();
    expect(sub.events).toHaveLength(1);
  });

  it('tries a failed event again until it can be processed: a room for a client the portal did not know yet', async () => {
    const externalId = `cl-late-${randomUUID().slice(0, 8)}`;
    const event = ready(externalId, 'https://video.ggz-demo.test/room/late');
    expect((await post(b, event)).status).toBe(202);
    // Unknown client: recorded as failed, with a next attempt.
    const failed = await until(
      async () => {
        const [row] = (await a.app.db.query('SELECT attempts, error, next_attempt_at, processed_at FROM sync_events WHERE event_id = ?', [event.id])) as {
          attempts: number;
          error: string | null;
          next_attempt_at: Date | null;
          processed_at: Date | null;
        }[];
        return row && row.attempts >= 1 ? row : undefined;
      },
      3000,
      'the failed attempt',
    );
    expect(failed.error).toMatch(/unknown client/);
    expect(failed.next_attempt_at).not.toBeNull();
    expect(failed.processed_at).toBeNull();

    // The client becomes known (e.g. its first login); a later attempt processes the stored event.
    const clientId = await a.app.services.clients.ensureClient({ source: 'demo', externalId });
    const room = await until(
      async () => {
        const status = await a.app.services.video.status(clientId);
        return status.ready ? status : undefined;
      },
      5000,
      'the retried event',
    );
    expect(room.joinUrl).toBe('https://video.ggz-demo.test/room/late');
    // Marked processed right after the room is updated.
    await until(async () => ((await storedEvents(event.id))[0]?.processed_at ? true : undefined), 2000, 'processed_at');
    const metrics = await (await fetch(`${b.base}/metrics`)).text();
    expect(metrics).toMatch(/gateway_sync_events_total\{type="videocall.ready",outcome="accepted"\} [1-9]/);
  });

  it('keeps the later of two events for one room processed at the same time on two instances (an older one never wins the race)', async () => {
    // Ended received after ready, both processed at once: whichever write lands last, the room ends up ended, and the
    // last state pushed to the room's subscribers is the ended one too.
    const rooms = Array.from({ length: 12 }, () => randomUUID());
    const t0 = Date.now();
    await Promise.all(
      rooms.map(async (clientId, i) => {
        const readyAt = new Date(t0 - 1000 + i);
        const endedAt = new Date(readyAt.getTime() + 5);
        const [first, second] = i % 2 ? [a, b] : [b, a];
        await Promise.all([
          first.app.services.video.markEnded(clientId, randomUUID(), endedAt),
          second.app.services.video.markReady(clientId, 'demo:pr-elamrani', 'https://video.ggz-demo.test/room/race', randomUUID(), readyAt),
        ]);
      }),
    );
    for (const clientId of rooms) expect(await a.app.services.video.status(clientId)).toMatchObject({ ready: false, joinUrl: null });
  });

  it('refuses a bad signature and a stale timestamp with 401 and a reason, storing nothing', async () => {
    const bad = ready(karenId);
    const wrongKey = await post(b, bad, { secret: 'not-the-sync-secret-at-all' });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.errors![0].message).toMatch(/does not match/);

    const stale = ready(karenId);
    const old = await post(b, stale, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(old.status).toBe(401);
    expect(old.body.errors![0].message).toMatch(/5 minutes/);

    const unsigned = await post(b, ready(karenId), { signature: '' });
    expect(unsigned.status).toBe(401);
    expect(await storedEvents(bad.id)).toEqual([]);
    expect(await storedEvents(stale.id)).toEqual([]);
  });

  it('accepts the same event id once: both answers 202, one row, one push', async () => {
    const sub = subscribe(ws(a, karenToken), karenId);
    await redisSubscribers(karenId, 1);
    const event = ended(karenId);
    const first = await post(b, event);
    const second = await post(a, event);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect([first.body.status, second.body.status]).toEqual(['accepted', 'duplicate']);
    await sub.nth(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sub.events).toHaveLength(1);
    const rows = await storedEvents(event.id);
    expect(rows).toHaveLength(1);
    expect(rows[0].processed_at).not.toBeNull();
    sub.stop();
  });

  it('refuses a malformed body and an unknown type with 400 and the reason, and a body over the limit with 413', async () => {
    const notJson = await post(b, '{"id": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors![0].message).toMatch(/not valid JSON/);

    const unknown = await post(b, { id: randomUUID(), type: 'videocall.exploded', source: 'demo', clientId: karenId, data: {} });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors![0].message).toMatch(/Unknown event type 'videocall.exploded'/);

    const noUrl = await post(b, { ...ready(karenId), data: { practitionerId: 'pr-elamrani', joinUrl: 'javascript:alert(1)' } });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.errors![0].message).toMatch(/data\.joinUrl/);

    const huge = await post(b, { ...ended(karenId), data: {}, padding: 'x'.repeat(a.config.SYNC_MAX_BODY_BYTES) });
    expect(huge.status).toBe(413);
  });

  it('stores a message.created and hands it to the messages module (processed, the message in the database)', async () => {
    const event = {
      id: randomUUID(),
      type: 'message.created',
      source: 'demo',
      clientId: 'cl-karen',
      data: { practitionerId: 'pr-bakker', subject: 'Uw afspraak', body: 'Tot dinsdag.' },
    };
    expect((await post(b, event)).status).toBe(202);
    const deadline = Date.now() + 2000;
    while (!(await storedEvents(event.id))[0]?.processed_at && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await storedEvents(event.id))[0]).toMatchObject({ type: 'message.created', processed_at: expect.any(Date) });
    const messages: { body: string }[] = await a.app.db.query('SELECT body FROM messages WHERE source_event_id = ?', [event.id]);
    expect(messages).toEqual([{ body: 'Tot dinsdag.' }]);
  });

  it("accepts the source system's own client id for video events (looked up under the event's source)", async () => {
    const sub = subscribe(ws(a, karenToken), karenId);
    await redisSubscribers(karenId, 1);
    await post(b, { ...ready('cl-karen', 'https://video.ggz-demo.test/room/by-external-id') });
    expect(await sub.nth(1)).toMatchObject({ ready: true, joinUrl: 'https://video.ggz-demo.test/room/by-external-id' });
    sub.stop();
  });

  it("drops the client's cached EHR data on dossier.changed received by another instance, so the next read asks the EHR", async () => {
    // What instance A cached of Karen's medications, in the shared cache (Redis).
    await a.app.services.kv.set(`ehr:${karenId}:demo:listMedications`, JSON.stringify([{ externalId: 'stale' }]), 60);
    expect(await a.app.services.kv.get(`ehr:${karenId}:demo:listMedications`)).not.toBeNull();
    const event = { id: randomUUID(), type: 'dossier.changed', source: 'demo', clientId: karenId, data: {} };
    expect((await post(b, event)).status).toBe(202);
    const deadline = Date.now() + 2000;
    while (!(await storedEvents(event.id))[0]?.processed_at && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await storedEvents(event.id))[0].processed_at).not.toBeNull();
    expect(await a.app.services.kv.get(`ehr:${karenId}:demo:listMedications`)).toBeNull();
  });

  it('processes at start an event that was stored and answered but never processed (a crash in between)', async () => {
    const sub = subscribe(ws(a, karenToken), karenId);
    await redisSubscribers(karenId, 1);
    const event = ready(karenId, 'https://video.ggz-demo.test/room/after-crash');
    const raw = JSON.stringify(event);
    await a.app.db.query(
      'INSERT INTO sync_events (id, event_id, type, source, client_ref, occurred_at, payload, received_at, processed_at, error) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL)',
      [randomUUID(), event.id, event.type, event.source, karenId, raw, new Date()],
    );
    const c = await startTestApp({
      databaseUrl: a.config.DATABASE_URL,
      env: { REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: prefix, SYNC_SECRET: syncSecret, LOG_LEVEL: 'warn' },
    });
    try {
      const got = await until(() => sub.events.find((e) => e.joinUrl === 'https://video.ggz-demo.test/room/after-crash'), 5000, 'the resumed event');
      expect(got.ready).toBe(true);
      expect((await storedEvents(event.id))[0].processed_at).not.toBeNull();
    } finally {
      await c.stop();
      sub.stop();
    }
  });

  it("catches up a subscriber on instance A after instance B could not publish for a moment (only B's publisher connection away)", async () => {
    const sub = subscribe(ws(a, karenToken), karenId);
    await redisSubscribers(karenId, 1);
    // B's publisher drops and reconnects; A's subscriber connection stays up, so A would never resync by itself.
    (b.app.services.events as unknown as { publisher: { disconnect(reconnect?: boolean): void } }).publisher.disconnect(true);
    await b.app.services.video.markReady(karenId, 'demo:pr-elamrani', 'https://video.ggz-demo.test/room/publisher-away', randomUUID());
    const got = await until(() => sub.events.find((e) => e.joinUrl === 'https://video.ggz-demo.test/room/publisher-away'), 5000, 'the caught-up event');
    expect(got.ready).toBe(true);
    sub.stop();
  });

  it('keeps subscriptions working after Redis drops every connection of both instances', async () => {
    const sub = subscribe(ws(a, karenToken), karenId);
    await redisSubscribers(karenId, 1);

    // Like a Redis restart for these two instances only (others share this Redis server).
    const name = `ggz-events-${prefix.replace(/[^\w-]/g, '_')}`;
    const list = (await admin.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /\bid=(\d+)/.exec(line)![1]);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const id of ids) await admin.client('KILL', 'ID', id);

    // While reconnecting, instances keep answering.
    expect((await post(b, ended(karenId))).status).toBe(202);

    await redisSubscribers(karenId, 1);
    const deadline = Date.now() + 5000;
    let got: Received['events'][number] | undefined;
    // The publisher may still be reconnecting: resend until one arrives (each event a new id).
    while (!got && Date.now() < deadline) {
      await post(b, ready(karenId, 'https://video.ggz-demo.test/room/after-restart'));
      got = await until(() => sub.events.find((e) => e.joinUrl === 'https://video.ggz-demo.test/room/after-restart'), 500, 'after restart').catch(
        () => undefined,
      );
    }
    expect(got).toMatchObject({ ready: true, joinUrl: 'https://video.ggz-demo.test/room/after-restart' });
    sub.stop();
  });
});

describe('sync events and video-call readiness on the embedded defaults (SQLite, in-process bus)', () => {
  let t: TestApp;
  const syncSecret = randomBytes(24).toString('hex');

  beforeAll(async () => {
    // A one-second readiness, so the lapse without a refresh event can be seen in a test.
    t = await startTestApp({ env: { SYNC_SECRET: syncSecret, VIDEO_READY_TTL_SECONDS: '1' } });
  });
  afterAll(async () => t.stop());

  it('pushes a signed videocall.ready and videocall.ended to the client without Redis', async () => {
    const token = await t.login('client@demo.test');
    const [karenId] = await portalIds(t, token);
    const client = socketClient(t.base, token);
    try {
      const sub = subscribe(client, karenId);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const send = async (event: Record<string, unknown>) => expect((await postSignedSync(t.base, syncSecret, event)).status).toBe(202);
      // One after the other: processing runs after the 202, and an older event never overrides a newer one.
      await send({
        id: randomUUID(),
        type: 'videocall.ready',
        source: 'demo',
        clientId: karenId,
        data: { practitionerId: 'pr-bakker', joinUrl: 'https://video.ggz-demo.test/room/local' },
      });
      expect(await sub.nth(1)).toMatchObject({
        ready: true,
        joinUrl: 'https://video.ggz-demo.test/room/local',
        practitioner: { id: 'demo:pr-bakker', name: 'Jeroen Bakker' },
      });
      await send({ id: randomUUID(), type: 'videocall.ended', source: 'demo', clientId: karenId, data: {} });
      expect(await sub.nth(2)).toMatchObject({ ready: false, joinUrl: null, practitioner: null, readySince: null });
      const { body } = await t.gql('query($id: ID!) { client(id: $id) { videoCall { ready joinUrl } } }', { id: karenId }, token);
      expect(body.data.client.videoCall).toEqual({ ready: false, joinUrl: null });
    } finally {
      await client.dispose();
    }
  });

  it('passes over a room state published after a later one (two writers, the older slower to publish)', async () => {
    const token = await t.login('client@demo.test');
    const [karenId] = await portalIds(t, token);
    const client = socketClient(t.base, token);
    try {
      const sub = subscribe(client, karenId);
      await until(() => (t.app.services.events.localSubscribers(VIDEO_TOPIC.channel(karenId)) ? true : undefined), 2000, 'the room');
      const now = Date.now();
      const state = (at: number, joinUrl: string | null) => ({
        clientId: karenId,
        at: new Date(at).toISOString(),
        ready: joinUrl !== null,
        practitionerId: joinUrl ? 'demo:pr-bakker' : null,
        joinUrl,
        readySince: joinUrl ? new Date(at).toISOString() : null,
        expiresAt: joinUrl ? new Date(at + 60_000).toISOString() : null,
      });
      const bus = t.app.services.events;
      await VIDEO_TOPIC.publish(bus, state(now, 'https://video.ggz-demo.test/room/newer'));
      expect(await sub.nth(1)).toMatchObject({ ready: true, joinUrl: 'https://video.ggz-demo.test/room/newer' });
      // An ended received before the ready above, published only now: the subscriber keeps the ready room.
      await VIDEO_TOPIC.publish(bus, state(now - 500, null));
      await VIDEO_TOPIC.publish(bus, state(now + 1, 'https://video.ggz-demo.test/room/latest'));
      expect(await sub.nth(2)).toMatchObject({ ready: true, joinUrl: 'https://video.ggz-demo.test/room/latest' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(sub.events.map((e) => e.joinUrl)).toEqual(['https://video.ggz-demo.test/room/newer', 'https://video.ggz-demo.test/room/latest']);
    } finally {
      await client.dispose();
    }
  });

  it('tells subscribers when readiness lapses after VIDEO_READY_TTL_SECONDS without a refresh event', async () => {
    const token = await t.login('client@demo.test');
    const [karenId] = await portalIds(t, token);
    const client = socketClient(t.base, token);
    try {
      const sub = subscribe(client, karenId);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const event = {
        id: randomUUID(),
        type: 'videocall.ready',
        source: 'demo',
        clientId: karenId,
        data: { practitionerId: 'pr-bakker', joinUrl: 'https://video.ggz-demo.test/room/lapsing' },
      };
      expect((await postSignedSync(t.base, syncSecret, event)).status).toBe(202);
      expect(await sub.nth(1)).toMatchObject({ ready: true, joinUrl: 'https://video.ggz-demo.test/room/lapsing' });
      expect(await sub.nth(2, 3000)).toMatchObject({ ready: false, joinUrl: null });
      const { body } = await t.gql('query($id: ID!) { client(id: $id) { videoCall { ready joinUrl } } }', { id: karenId }, token);
      expect(body.data.client.videoCall).toEqual({ ready: false, joinUrl: null });
    } finally {
      await client.dispose();
    }
  });
  it('tells a socket that subscribed while the room was already ready when readiness lapses, and lets go of the bus when the last socket leaves', async () => {
    const token = await t.login('client@demo.test');
    const [karenId] = await portalIds(t, token);
    const event = {
      id: randomUUID(),
      type: 'videocall.ready',
      source: 'demo',
      clientId: karenId,
      data: { practitionerId: 'pr-bakker', joinUrl: 'https://video.ggz-demo.test/room/opened-before' },
    };
    expect((await postSignedSync(t.base, syncSecret, event)).status).toBe(202);
    await until(async () => ((await t.app.services.video.status(karenId)).ready ? true : undefined), 2000, 'the open room');
    // The portal shows the open room (Client.videoCall), then subscribes: no event for this socket yet.
    const client = socketClient(t.base, token);
    try {
      const sub = subscribe(client, karenId);
      expect(await sub.nth(1, 3000)).toMatchObject({ ready: false, joinUrl: null });
      expect(t.app.services.live.rooms(VIDEO_ROOMS).seats(karenId)).toBe(1);
      sub.stop();
      await until(() => (t.app.services.live.rooms(VIDEO_ROOMS).seats(karenId) === 0 ? true : undefined), 2000, 'the seat released');
      expect(t.app.services.events.localSubscribers(VIDEO_TOPIC.channel(karenId))).toBe(0);
    } finally {
      await client.dispose();
    }
    // A socket that goes away without completing its subscription gives up its seat too.
    const leaving = createClient({
      url: `${t.base.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    subscribe(leaving, karenId);
    await until(() => (t.app.services.live.rooms(VIDEO_ROOMS).seats(karenId) === 1 ? true : undefined), 2000, 'the seat taken');
    await leaving.dispose();
    await until(() => (t.app.services.live.rooms(VIDEO_ROOMS).seats(karenId) === 0 ? true : undefined), 2000, 'the seat released on close');
    expect(t.app.services.events.localSubscribers(VIDEO_TOPIC.channel(karenId))).toBe(0);
  });
});

describe('sync events given up: shown to the operator and requeued', () => {
  const syncSecret = randomBytes(24).toString('hex');
  let t: TestApp;
  beforeAll(async () => {
    // One try only, so the event is given up at once here (production: SYNC_RETRY_MAX_ATTEMPTS 12).
    t = await startTestApp({ env: { SYNC_SECRET: syncSecret, SYNC_RETRY_MAX_ATTEMPTS: '1', LOG_LEVEL: 'error' } });
  });
  afterAll(async () => t.stop());

  it('counts a given-up event in /readyz and /metrics, and processes it once requeued after its cause is fixed', async () => {
    const ref = `nieuw-${randomUUID().slice(0, 8)}`;
    const event = {
      id: randomUUID(),
      type: 'videocall.ready',
      source: 'demo',
      clientId: ref,
      data: { practitionerId: 'pr-bakker', joinUrl: 'https://video.ggz-demo.test/room/later' },
    };
    expect((await postSignedSync(t.base, syncSecret, event)).status).toBe(202);
    const readyz = async () => ((await (await fetch(`${t.base}/readyz`)).json()) as { syncEvents: { pending: number; givenUp: number } }).syncEvents;
    expect(await until(async () => ((await readyz()).givenUp === 1 ? readyz() : undefined), 5000, 'the given-up event')).toEqual({ pending: 0, givenUp: 1 });
    expect(await (await fetch(`${t.base}/metrics`)).text()).toMatch(/gateway_sync_events_open\{state="given_up"\} 1/);
    // The client becomes known to the portal (a first login), and the operator requeues the event.
    const clientId = await t.app.services.clients.ensureClient({ source: 'demo', externalId: ref });
    expect(await requeueGivenUpEvents(t.app.db, [event.id])).toBe(1);
    await until(async () => ((await t.app.services.video.status(clientId)).ready ? true : undefined), 5000, 'the requeued event processed');
    expect(await readyz()).toEqual({ pending: 0, givenUp: 0 });
  });
});

describe('POST /sync/events per source system: a rate limit', () => {
  const syncSecret = randomBytes(24).toString('hex');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SYNC_SECRET: syncSecret, SYNC_RATE_LIMIT_PER_MINUTE: '3', LOG_LEVEL: 'error' } });
  });
  afterAll(async () => t.stop());

  const send = (source: string) => {
    const event = { id: randomUUID(), type: 'dossier.changed', source, clientId: 'cl-karen', data: {} };
    return postSignedSync(t.base, syncSecret, event).then(async (res) => ({
      id: event.id,
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as { errors?: { extensions?: { code?: string } }[] },
    }));
  };

  it('answers 429 with Retry-After past the limit for one source, stores nothing of it, and lets other sources through', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await send('demo'));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429]);
    expect(Number(answers[3].retryAfter)).toBeGreaterThan(0);
    expect(answers[3].body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(await t.app.db.query('SELECT id FROM sync_events WHERE event_id = ?', [answers[3].id])).toEqual([]);
    expect((await send('fhir')).status).toBe(202);
  });
});
