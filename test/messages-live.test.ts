import { randomBytes, randomUUID } from 'node:crypto';
import type { Client as WsClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { postSignedSync, redisSubscribers, subscribeTo, until, type Received as LiveReceived, socketClient } from './utils/live';
import { AccessLogEntity } from '../src/audit/access-log.entity';
import { describeWithMariaDbAndRedis, redisPrefix, REDIS_URL } from './utils/services';

const SUBSCRIPTION = `subscription($id: ID!) { messageAdded(clientId: $id) {
  kind
  conversation { id subject kind unreadCount participants { id name kind } }
  message { id conversationId body deletedAt author { id name kind } }
} }`;

interface LiveEvent {
  kind: 'ADDED' | 'DELETED';
  conversation: { id: string; subject: string; kind: string; unreadCount: number; participants: { id: string; name: string; kind: string }[] };
  message: { id: string; conversationId: string; body: string | null; deletedAt: string | null; author: { id: string; name: string; kind: string } };
}

type Received = LiveReceived<LiveEvent>;
const subscribe = (client: WsClient, clientId: string): Received => subscribeTo<LiveEvent>(client, SUBSCRIPTION, { id: clientId }, 'messageAdded');

const LIST = 'query($id: ID!) { client(id: $id) { conversations(folder: ALL) { id subject unreadCount messages { id body author { kind } } } } }';

/** Both suites below: the same behaviour on the embedded defaults and across two instances. */
interface LiveSetup {
  a: TestApp;
  b: TestApp;
  syncSecret: string;
  waitForSubscribers: (clientId: string, n: number) => Promise<void>;
  close: () => Promise<void>;
  /** Drops every Redis connection of both instances (like a Redis restart), where there is Redis. */
  dropRedis?: () => Promise<void>;
}

function liveSuite(name: string, setup: () => Promise<LiveSetup>, options: { redis?: boolean } = {}) {
  describe(name, () => {
    let a: TestApp;
    let b: TestApp;
    let syncSecret: string;
    let waitForSubscribers: (clientId: string, n: number) => Promise<void>;
    let close: () => Promise<void>;
    let dropRedis: LiveSetup['dropRedis'];
    let karenId: string;
    let karenToken: string;
    let relativeToken: string;
    const sockets: WsClient[] = [];

    const ws = (t: TestApp, token: string): WsClient => {
      const client = socketClient(t.base, token);
      sockets.push(client);
      return client;
    };
    const post = async (t: TestApp, event: Record<string, unknown>): Promise<number> => (await postSignedSync(t.base, syncSecret, event)).status;
    const practitionerMessage = (data: Record<string, unknown>) => ({
      id: randomUUID(),
      type: 'message.created',
      source: 'demo',
      clientId: karenId,
      data: { practitionerId: 'pr-bakker', ...data },
    });
    const setRelative = async (permissions: Permission[]) => {
      const relative = (await a.app.services.accounts.findByEmail('relative@demo.test'))!;
      await a.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, permissions, false);
    };

    beforeAll(async () => {
      ({ a, b, syncSecret, waitForSubscribers, close, dropRedis } = await setup());
      karenToken = await a.login('client@demo.test');
      relativeToken = await a.login('relative@demo.test');
      [karenId] = await portalIds(a, karenToken);
    });
    afterAll(async () => {
      await Promise.all(sockets.map(async (c) => c.dispose()));
      await close();
    });

    it("delivers a practitioner's message.created posted to instance B to the client subscribed on instance A within a second, as a new conversation", async () => {
      const sub = subscribe(ws(a, karenToken), karenId);
      await waitForSubscribers(karenId, 1);
      const sent = Date.now();
      expect(await post(b, practitionerMessage({ subject: 'Uw uitslag', body: 'De uitslag is binnen.' }))).toBe(202);
      const got = await until(() => sub.events[0], 1000, 'the message');
      expect(Date.now() - sent).toBeLessThan(1000);
      expect(got).toMatchObject({
        kind: 'ADDED',
        conversation: {
          subject: 'Uw uitslag',
          kind: 'TEAM',
          unreadCount: 1,
          participants: [{ id: 'demo:pr-bakker', name: 'Jeroen Bakker', kind: 'PRACTITIONER' }],
        },
        message: { body: 'De uitslag is binnen.', author: { id: 'demo:pr-bakker', name: 'Jeroen Bakker', kind: 'PRACTITIONER' } },
      });
      expect(sub.errors).toEqual([]);
      // A message read live is a read like any other: one access-log line for this reader, written before it went out.
      const karen = (await a.app.services.accounts.findByEmail('client@demo.test'))!;
      const lines = await a.app.db
        .getRepository(AccessLogEntity)
        .findBy({ accountId: karen.id, eventType: 'messages.read', resource: 'Bericht (live): Uw uitslag' });
      expect(lines.map((l) => ({ action: l.action, clientId: l.clientId, actorRole: l.actorRole }))).toEqual([
        { action: 'R', clientId: karenId, actorRole: 'SELF' },
      ]);
      sub.stop();
    });

    it("adds a practitioner's reply to an existing conversation, once per event id, and the client's reply on B reaches A", async () => {
      const started = await a.gql(
        'mutation($c: ID!) { startConversation(clientId: $c, subject: "Slapen", recipientIds: ["demo:pr-elamrani"], body: "Ik slaap slecht.") { id } }',
        { c: karenId },
        karenToken,
      );
      const conversationId = started.body.data.startConversation.id as string;
      const sub = subscribe(ws(a, karenToken), karenId);
      await waitForSubscribers(karenId, 1);
      const reply = practitionerMessage({ conversationId, practitionerId: 'pr-elamrani', body: 'Laten we dat dinsdag bespreken.' });
      expect(await post(b, reply)).toBe(202);
      expect(await post(a, reply)).toBe(202);
      const got = await until(() => sub.events[0], 2000, 'the reply');
      expect(got.conversation.id).toBe(conversationId);
      expect(got.message).toMatchObject({
        conversationId,
        body: 'Laten we dat dinsdag bespreken.',
        author: { name: 'Fatima El Amrani', kind: 'PRACTITIONER' },
      });

      const posted = await b.gql('mutation($id: ID!) { postMessage(conversationId: $id, body: "Dank u.") { id } }', { id: conversationId }, karenToken);
      expect(posted.body.errors).toBeUndefined();
      const mine = await until(() => sub.events[1], 2000, "the client's own reply");
      expect(mine).toMatchObject({ kind: 'ADDED', message: { id: posted.body.data.postMessage.id, body: 'Dank u.', author: { kind: 'CLIENT' } } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(sub.events).toHaveLength(2);

      // The database is the truth: a client that reconnects catches up with a query.
      const list = (await a.gql(LIST, { id: karenId }, karenToken)).body.data.client.conversations;
      const conv = list.find((c: { id: string }) => c.id === conversationId);
      expect(conv.messages.map((m: { body: string }) => m.body)).toEqual(['Ik slaap slecht.', 'Laten we dat dinsdag bespreken.', 'Dank u.']);
      expect(conv.unreadCount).toBe(0);

      // The client's two messages reached the EHR once each, through whichever instance's outbox claimed them.
      const sent = () =>
        [a, b]
          .filter((t, i, all) => all.indexOf(t) === i)
          .flatMap((t) => (t.app.services.registry.adapter('demo') as DemoEhrAdapter).sentMessages)
          .filter((m) => m.message.conversationId === conversationId);
      await until(() => (sent().length >= 2 ? true : undefined), 3000, 'the EHR copies');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(
        sent()
          .map((m) => m.message.body)
          .sort(),
      ).toEqual(['Dank u.', 'Ik slaap slecht.']);
      sub.stop();
    });

    it('tells subscribers when the author deletes a message (DELETED, no body)', async () => {
      const started = await b.gql(
        'mutation($c: ID!) { startConversation(clientId: $c, subject: "Oeps", recipientIds: ["demo:pr-bakker"], body: "Verkeerd verstuurd") { id messages { id } } }',
        { c: karenId },
        karenToken,
      );
      const messageId = started.body.data.startConversation.messages[0].id as string;
      const sub = subscribe(ws(a, karenToken), karenId);
      await waitForSubscribers(karenId, 1);
      await b.gql('mutation($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: messageId }, karenToken);
      const got = await until(() => sub.events[0], 2000, 'the deletion');
      expect(got).toMatchObject({ kind: 'DELETED', message: { id: messageId, body: null, deletedAt: expect.any(String) } });
      sub.stop();
    });

    (options.redis ? it : it.skip)(
      'keeps messages sent while Redis is down in the database and the conversation, and pushes again once it is back',
      async () => {
        if (!dropRedis) throw new Error('this suite has no Redis to drop');
        const sub = subscribe(ws(a, karenToken), karenId);
        await waitForSubscribers(karenId, 1);
        await dropRedis();
        // While the bus reconnects, instances keep answering and storing.
        expect(await post(b, practitionerMessage({ subject: 'Tijdens storing', body: 'Bewaard in de database.' }))).toBe(202);
        const stored = async () =>
          ((await a.gql(LIST, { id: karenId }, karenToken)).body.data.client.conversations as { subject: string }[]).some(
            (c) => c.subject === 'Tijdens storing',
          ) || undefined;
        const deadline = Date.now() + 5000;
        while (!(await stored()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await stored()).toBe(true);

        await waitForSubscribers(karenId, 1);
        let got: LiveEvent | undefined;
        const until5s = Date.now() + 5000;
        // The publisher may still be reconnecting: send until one arrives (each a new event id).
        while (!got && Date.now() < until5s) {
          await post(b, practitionerMessage({ subject: 'Na storing', body: 'Weer live.' }));
          got = await until(() => sub.events.find((e) => e.conversation.subject === 'Na storing'), 500, 'after the restart').catch(() => undefined);
        }
        expect(got).toMatchObject({ kind: 'ADDED', message: { body: 'Weer live.' } });
        sub.stop();
      },
    );

    it('refuses a stranger and a network member without message rights on subscribe (FORBIDDEN)', async () => {
      const strangerToken = await a.login('stranger@demo.test');
      for (const token of [strangerToken, relativeToken]) {
        const sub = subscribe(ws(a, token), karenId);
        await until(() => (sub.errors.length ? true : undefined), 2000, 'the refusal');
        expect(sub.errors[0].extensions?.code).toBe('FORBIDDEN');
        expect(sub.events).toEqual([]);
      }
    });

    it('gives a network member only the conversations they may read, and stops their stream once the right is revoked', async () => {
      await setRelative([Permission.AGENDA_VIEW, Permission.MESSAGES_PERSONAL_NETWORK]);
      try {
        const sub = subscribe(ws(a, relativeToken), karenId);
        const karens = subscribe(ws(a, karenToken), karenId);
        // One bus subscription per instance and channel carries both sockets; give the second operation a moment to start.
        await waitForSubscribers(karenId, 1);
        await new Promise((resolve) => setTimeout(resolve, 150));
        // Karen's conversation with her practitioner: not for the relative.
        expect(await post(b, practitionerMessage({ subject: 'Privé', body: 'Alleen voor Karen.' }))).toBe(202);
        await until(() => karens.events.find((e) => e.conversation.subject === 'Privé'), 2000, "Karen's copy");
        const channel = await b.gql(
          'mutation($c: ID!) { startConversation(clientId: $c, kind: PERSONAL_NETWORK, subject: "Familie", recipientIds: [], body: "Etentje zondag?") { id } }',
          { c: karenId },
          karenToken,
        );
        expect(channel.body.errors).toBeUndefined();
        const got = await until(() => sub.events[0], 2000, 'the channel message');
        expect(got.conversation.subject).toBe('Familie');
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(sub.events.map((e) => e.conversation.subject)).toEqual(['Familie']);

        await setRelative([Permission.AGENDA_VIEW]);
        await b.gql(
          'mutation($id: ID!) { postMessage(conversationId: $id, body: "Nog iemand?") { id } }',
          { id: channel.body.data.startConversation.id },
          karenToken,
        );
        await until(() => (sub.completed ? true : undefined), 2000, 'the stream to end');
        expect(sub.events).toHaveLength(1);
        karens.stop();
      } finally {
        await setRelative([Permission.AGENDA_VIEW]);
      }
    });
  });
}

liveSuite('live messages on the embedded defaults (SQLite, in-process bus)', async () => {
  const syncSecret = randomBytes(24).toString('hex');
  const a = await startTestApp({ env: { SYNC_SECRET: syncSecret, LOG_LEVEL: 'warn' } });
  return {
    a,
    b: a,
    syncSecret,
    waitForSubscribers: () => new Promise((resolve) => setTimeout(resolve, 150)),
    close: () => a.stop(),
  };
});

describeWithMariaDbAndRedis('across two instances (MariaDB + Redis)', () => {
  liveSuite(
    'live messages across two instances',
    async () => {
      const prefix = redisPrefix();
      const syncSecret = randomBytes(24).toString('hex');
      const env = {
        REDIS_URL: REDIS_URL!,
        REDIS_KEY_PREFIX: prefix,
        SYNC_SECRET: syncSecret,
        SESSION_SECRET: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'warn',
      };
      const a = await startTestApp({ database: 'mariadb', env });
      const b = await startTestApp({ databaseUrl: a.config.DATABASE_URL, env });
      const admin = new Redis(REDIS_URL!);
      return {
        a,
        b,
        syncSecret,
        waitForSubscribers: (clientId, n) => redisSubscribers(admin, `${prefix}messages:${clientId}`, n),
        close: async () => {
          await b.stop();
          await a.stop();
          await admin.quit();
        },
        dropRedis: async () => {
          const name = `ggz-events-${prefix.replace(/[^\w-]/g, '_')}`;
          const list = (await admin.client('LIST')) as string;
          const ids = list
            .split('\n')
            .filter((line) => line.includes(` name=${name} `))
            .map((line) => /\bid=(\d+)/.exec(line)![1]);
          for (const id of ids) await admin.client('KILL', 'ID', id);
        },
      };
    },
    { redis: true },
  );
});
