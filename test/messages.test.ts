import { randomUUID } from 'node:crypto';
import { SyncEventEntity } from '../src/events/sync-event.entity';
import { until } from './utils/live';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';

const START = `mutation($clientId: ID!, $subject: String!, $recipientIds: [ID!]!, $body: String!, $kind: ConversationKind) {
  startConversation(clientId: $clientId, subject: $subject, recipientIds: $recipientIds, body: $body, kind: $kind) {
    id subject kind notice unreadCount archived lastMessageAt
    participants { id name kind }
    messages { id conversationId body sentAt deletedAt author { id name kind } attachments { id } }
  }
}`;
const POST = 'mutation($id: ID!, $body: String!) { postMessage(conversationId: $id, body: $body) { id conversationId body deletedAt author { name kind } } }';
const LIST =
  'query($id: ID!, $folder: ConversationFolder!) { client(id: $id) { conversations(folder: $folder) { id subject kind unreadCount archived messages { id body deletedAt } } } }';
const READ = 'mutation($id: ID!) { markConversationRead(conversationId: $id) { id unreadCount } }';
const ARCHIVE = 'mutation($id: ID!, $archived: Boolean!) { archiveConversation(conversationId: $id, archived: $archived) { id archived } }';
const DELETE = 'mutation($id: ID!) { deleteMessage(messageId: $id) { id body deletedAt } }';

const code = (body: { errors?: { extensions?: { code?: string } }[] }): string | undefined => body.errors?.[0]?.extensions?.code;

describe('messages: conversations, replies, unread, archive, delete and refusals (SQLite)', () => {
  let t: TestApp;
  let karenToken: string;
  let relativeToken: string;
  let strangerToken: string;
  let karenId: string;

  const start = (token: string, vars: Partial<{ subject: string; recipientIds: string[]; body: string; kind: string; clientId: string }> = {}) =>
    t.gql(
      START,
      { clientId: karenId, subject: 'Vraag over medicatie', recipientIds: ['demo:pr-bakker', 'demo:pr-elamrani'], body: 'Mag ik de dosis verlagen?', ...vars },
      token,
    );
  const setRelativePermissions = async (permissions: Permission[]) => {
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, permissions, false);
  };

  beforeAll(async () => {
    t = await startTestApp();
    karenToken = await t.login('client@demo.test');
    relativeToken = await t.login('relative@demo.test');
    strangerToken = await t.login('stranger@demo.test');
    [karenId] = await portalIds(t, karenToken);
  });
  afterAll(async () => t.stop());

  it('starts a conversation with practitioners of the active treatment team, with the crisis notice and the first message', async () => {
    const { body } = await start(karenToken);
    expect(body.errors).toBeUndefined();
    const conv = body.data.startConversation;
    expect(conv).toMatchObject({ subject: 'Vraag over medicatie', kind: 'TEAM', unreadCount: 0, archived: false });
    expect(conv.notice).toMatch(/niet bedoeld voor crisissituaties/);
    expect(conv.notice).toMatch(/drie werkdagen/);
    expect(conv.participants).toEqual(
      expect.arrayContaining([
        { id: 'demo:pr-bakker', name: 'Jeroen Bakker', kind: 'PRACTITIONER' },
        { id: 'demo:pr-elamrani', name: 'Fatima El Amrani', kind: 'PRACTITIONER' },
        expect.objectContaining({ kind: 'CLIENT' }),
      ]),
    );
    expect(conv.messages).toHaveLength(1);
    expect(conv.messages[0]).toMatchObject({ body: 'Mag ik de dosis verlagen?', deletedAt: null, author: { kind: 'CLIENT' }, attachments: [] });
  });

  it('trims the body and refuses 1001 characters and an empty body with BAD_USER_INPUT naming the limit', async () => {
    const ok = await start(karenToken, { body: `  ${'a'.repeat(1000)}  ` });
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data.startConversation.messages[0].body).toHaveLength(1000);

    const long = await start(karenToken, { body: 'a'.repeat(1001) });
    expect(code(long.body)).toBe('BAD_USER_INPUT');
    expect(long.body.errors![0].message).toMatch(/1000/);
    expect(long.body.errors![0].extensions).toMatchObject({ field: 'body', limit: 1000 });

    for (const empty of ['', '   \n\t ']) {
      const r = await start(karenToken, { body: empty });
      expect(code(r.body)).toBe('BAD_USER_INPUT');
      expect(r.body.errors![0].message).toMatch(/empty.*1000/);
    }
    const subject = await start(karenToken, { subject: 's'.repeat(201) });
    expect(code(subject.body)).toBe('BAD_USER_INPUT');
    expect(subject.body.errors![0].extensions).toMatchObject({ field: 'subject', limit: 200 });
  });

  it('refuses a practitioner who is not in the active treatment team with BAD_USER_INPUT', async () => {
    const r = await start(karenToken, { recipientIds: ['demo:pr-bakker', 'demo:pr-jansen'] });
    expect(code(r.body)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0].message).toMatch(/demo:pr-jansen/);
    const none = await start(karenToken, { recipientIds: [] });
    expect(code(none.body)).toBe('BAD_USER_INPUT');
  });

  it("refuses a stranger everything about Karen's messages with FORBIDDEN", async () => {
    const conv = (await start(karenToken)).body.data.startConversation;
    expect(code((await start(strangerToken)).body)).toBe('FORBIDDEN');
    expect(code((await t.gql(LIST, { id: karenId, folder: 'ALL' }, strangerToken)).body)).toBe('FORBIDDEN');
    expect(code((await t.gql(POST, { id: conv.id, body: 'hallo' }, strangerToken)).body)).toBe('FORBIDDEN');
    expect(code((await t.gql(READ, { id: conv.id }, strangerToken)).body)).toBe('FORBIDDEN');
    expect(code((await t.gql(ARCHIVE, { id: conv.id, archived: true }, strangerToken)).body)).toBe('FORBIDDEN');
    expect(code((await t.gql(DELETE, { id: conv.messages[0].id }, strangerToken)).body)).toBe('FORBIDDEN');
  });

  it('refuses a network member without MESSAGES_* permissions with FORBIDDEN', async () => {
    const conv = (await start(karenToken)).body.data.startConversation;
    expect(code((await t.gql(LIST, { id: karenId, folder: 'INBOX' }, relativeToken)).body)).toBe('FORBIDDEN');
    expect(code((await start(relativeToken)).body)).toBe('FORBIDDEN');
    expect(code((await start(relativeToken, { kind: 'PERSONAL_NETWORK', recipientIds: [] })).body)).toBe('FORBIDDEN');
    expect(code((await t.gql(POST, { id: conv.id, body: 'hallo' }, relativeToken)).body)).toBe('FORBIDDEN');
  });

  it("lets a network member with MESSAGES_PERSONAL_NETWORK use that channel only, never Karen's own conversations with her practitioner", async () => {
    await setRelativePermissions([Permission.AGENDA_VIEW, Permission.MESSAGES_PERSONAL_NETWORK]);
    try {
      const team = (await start(karenToken, { subject: 'Alleen voor mij' })).body.data.startConversation;
      const channel = await start(relativeToken, { kind: 'PERSONAL_NETWORK', recipientIds: [], subject: 'Familie', body: 'Hoe gaat het?' });
      expect(channel.body.errors).toBeUndefined();
      expect(channel.body.data.startConversation.participants).toEqual([expect.objectContaining({ kind: 'NETWORK_MEMBER' })]);

      const seen = (await t.gql(LIST, { id: karenId, folder: 'ALL' }, relativeToken)).body.data.client.conversations;
      expect(seen.map((c: { kind: string }) => c.kind)).toEqual(['PERSONAL_NETWORK']);
      expect(code((await t.gql(POST, { id: team.id, body: 'meelezen?' }, relativeToken)).body)).toBe('FORBIDDEN');
      expect(code((await start(relativeToken, { kind: 'TRUST_GROUP', recipientIds: [] })).body)).toBe('FORBIDDEN');

      // Karen sees the channel with one unread message, until she marks it read.
      const karens = (await t.gql(LIST, { id: karenId, folder: 'INBOX' }, karenToken)).body.data.client.conversations;
      expect(karens.find((c: { id: string }) => c.id === channel.body.data.startConversation.id)).toMatchObject({ unreadCount: 1 });
      const read = await t.gql(READ, { id: channel.body.data.startConversation.id }, karenToken);
      expect(read.body.data.markConversationRead.unreadCount).toBe(0);
      // The reader state is per reader: the relative's own message never counted as unread for them.
      const theirs = (await t.gql(LIST, { id: karenId, folder: 'INBOX' }, relativeToken)).body.data.client.conversations;
      expect(theirs[0].unreadCount).toBe(0);
    } finally {
      await setRelativePermissions([Permission.AGENDA_VIEW]);
    }
  });

  it('archives a conversation out of the inbox, keeps it under ARCHIVE and ALL, and a newer message brings it back', async () => {
    await setRelativePermissions([Permission.AGENDA_VIEW, Permission.MESSAGES_PERSONAL_NETWORK]);
    try {
      const conv = (await start(karenToken, { kind: 'PERSONAL_NETWORK', recipientIds: [], subject: 'Archief' })).body.data.startConversation;
      const archived = await t.gql(ARCHIVE, { id: conv.id, archived: true }, karenToken);
      expect(archived.body.data.archiveConversation.archived).toBe(true);
      const ids = async (folder: string) =>
        (await t.gql(LIST, { id: karenId, folder }, karenToken)).body.data.client.conversations.map((c: { id: string }) => c.id);
      expect(await ids('INBOX')).not.toContain(conv.id);
      expect(await ids('ARCHIVE')).toContain(conv.id);
      expect(await ids('ALL')).toContain(conv.id);
      // Archiving is per reader: the relative still has it in the inbox.
      expect((await t.gql(LIST, { id: karenId, folder: 'INBOX' }, relativeToken)).body.data.client.conversations.map((c: { id: string }) => c.id)).toContain(
        conv.id,
      );

      await new Promise((resolve) => setTimeout(resolve, 5));
      expect((await t.gql(POST, { id: conv.id, body: 'Nog iets' }, relativeToken)).body.errors).toBeUndefined();
      expect(await ids('INBOX')).toContain(conv.id);
      expect(await ids('ARCHIVE')).not.toContain(conv.id);
    } finally {
      await setRelativePermissions([Permission.AGENDA_VIEW]);
    }
  });

  it('lets only the author delete a message: the body is gone for everyone, the message stays with deletedAt', async () => {
    await setRelativePermissions([Permission.AGENDA_VIEW, Permission.MESSAGES_PERSONAL_NETWORK]);
    try {
      const conv = (await start(karenToken, { kind: 'PERSONAL_NETWORK', recipientIds: [], subject: 'Verwijderen' })).body.data.startConversation;
      const karensMessage = conv.messages[0].id;
      const notAuthor = await t.gql(DELETE, { id: karensMessage }, relativeToken);
      expect(code(notAuthor.body)).toBe('FORBIDDEN');
      expect(notAuthor.body.errors![0].extensions).toMatchObject({ reason: 'NOT_AUTHOR' });

      const deleted = await t.gql(DELETE, { id: karensMessage }, karenToken);
      expect(deleted.body.errors).toBeUndefined();
      expect(deleted.body.data.deleteMessage).toMatchObject({ id: karensMessage, body: null, deletedAt: expect.any(String) });
      for (const token of [karenToken, relativeToken]) {
        const list = (await t.gql(LIST, { id: karenId, folder: 'ALL' }, token)).body.data.client.conversations;
        expect(list.find((c: { id: string }) => c.id === conv.id).messages).toEqual([{ id: karensMessage, body: null, deletedAt: expect.any(String) }]);
      }
      expect(code((await t.gql(DELETE, { id: '00000000-0000-0000-0000-000000000000' }, karenToken)).body)).toBe('NOT_FOUND');
    } finally {
      await setRelativePermissions([Permission.AGENDA_VIEW]);
    }
  });

  it("counts a practitioner's reply as new when its event is processed only after the client read the conversation (a retry)", async () => {
    const first = await t.app.services.messages.receiveFromPractitioner({
      clientId: karenId,
      eventId: randomUUID(),
      subject: 'Afspraak verzet',
      practitionerId: 'demo:pr-bakker',
      body: 'Uw afspraak is verzet.',
      at: new Date(Date.now() - 300_000),
    });
    expect((await t.gql(READ, { id: first.conversationId }, karenToken)).body.data.markConversationRead.unreadCount).toBe(0);
    // The reply arrived a minute ago, its first processing failed, and it is due again now.
    const event = {
      id: randomUUID(),
      type: 'message.created',
      source: 'demo',
      clientId: karenId,
      data: { conversationId: first.conversationId, practitionerId: 'pr-bakker', body: 'Kunt u donderdag om 10 uur?' },
    };
    const minuteAgo = new Date(Date.now() - 60_000);
    await t.app.db.getRepository(SyncEventEntity).insert({
      id: randomUUID(),
      eventId: event.id,
      type: event.type,
      source: event.source,
      clientRef: karenId,
      occurredAt: null,
      payload: JSON.stringify(event),
      receivedAt: minuteAgo,
      processedAt: null,
      error: 'the EHR did not answer',
      attempts: 1,
      nextAttemptAt: new Date(Date.now() - 1000),
    });
    const unread = async () => {
      const list = (await t.gql(LIST, { id: karenId, folder: 'ALL' }, karenToken)).body.data.client.conversations as {
        id: string;
        unreadCount: number;
        messages: { body: string }[];
      }[];
      const conv = list.find((c) => c.id === first.conversationId)!;
      return conv.messages.some((m) => m.body === 'Kunt u donderdag om 10 uur?') ? conv.unreadCount : undefined;
    };
    expect(await until(unread, 5000, 'the retried reply')).toBe(1);
  });

  it("puts a practitioner's message naming a conversation the client does not have in a new conversation, instead of never showing it", async () => {
    const message = await t.app.services.messages.receiveFromPractitioner({
      clientId: karenId,
      eventId: randomUUID(),
      conversationId: randomUUID(),
      subject: 'Uitslag bloedonderzoek',
      practitionerId: 'demo:pr-bakker',
      body: 'De uitslag is binnen.',
      at: new Date(),
    });
    const list = (await t.gql(LIST, { id: karenId, folder: 'ALL' }, karenToken)).body.data.client.conversations as {
      id: string;
      subject: string;
      messages: { body: string }[];
    }[];
    expect(list.find((c) => c.id === message.conversationId)).toMatchObject({
      subject: 'Uitslag bloedonderzoek',
      messages: [{ body: 'De uitslag is binnen.' }],
    });
  });

  it('keeps both a read and an archive made at the same moment (two devices of one person)', async () => {
    const first = await t.app.services.messages.receiveFromPractitioner({
      clientId: karenId,
      eventId: randomUUID(),
      subject: 'Twee apparaten',
      practitionerId: 'demo:pr-bakker',
      body: 'Hoe gaat het?',
      at: new Date(Date.now() - 60_000),
    });
    const messages = t.app.services.messages;
    const conversation = (await messages.conversation(first.conversationId))!;
    const karen = (await t.app.services.accounts.findByEmail('client@demo.test'))!;
    await Promise.all([messages.markRead(conversation, karen.id), messages.archive(conversation, karen.id, true)]);
    const archived = (await t.gql(LIST, { id: karenId, folder: 'ARCHIVE' }, karenToken)).body.data.client.conversations as {
      id: string;
      unreadCount: number;
    }[];
    expect(archived.find((c) => c.id === first.conversationId)).toMatchObject({ unreadCount: 0, archived: true });
  });

  it('counts new messages by others on the dashboard, only in conversations the viewer may read', async () => {
    await t.app.services.messages.receiveFromPractitioner({
      clientId: karenId,
      eventId: `dash-${Date.now()}`,
      subject: 'Dashboard',
      practitionerId: 'demo:pr-bakker',
      body: 'Nieuw',
      at: new Date(),
    });
    const query = 'query($id: ID!) { client(id: $id) { dashboard { activity { newMessages } } } }';
    const karens = await t.gql(query, { id: karenId }, karenToken);
    expect(karens.body.errors).toBeUndefined();
    expect(karens.body.data.client.dashboard.activity.newMessages).toBeGreaterThanOrEqual(1);
    const relatives = await t.gql(query, { id: karenId }, relativeToken);
    expect(relatives.body.data.client.dashboard.activity.newMessages).toBe(0);
  });

  it('answers RATE_LIMITED with retryAfter once an account posts more than 30 messages in 15 minutes, and stores nothing of the refused ones', async () => {
    // The relative, so Karen's own conversations in the other tests keep their budget.
    await setRelativePermissions([Permission.MESSAGES_PERSONAL_NETWORK]);
    const started = await start(relativeToken, { kind: 'PERSONAL_NETWORK', recipientIds: [], subject: 'Boodschappen' });
    expect(started.body.errors).toBeUndefined();
    const id = started.body.data.startConversation.id;
    const count = async () => Number(((await t.app.db.query('SELECT COUNT(*) AS n FROM messages WHERE conversation_id = ?', [id])) as { n: number }[])[0].n);
    // Earlier tests spent part of this account's budget: post until refused, never more than the limit allows.
    let refused: { message: string; extensions?: { code?: string; retryAfter?: number } } | undefined;
    let posted = 0;
    for (let i = 0; i < 31 && !refused; i++) {
      const answer = await t.gql(POST, { id, body: `bericht ${i}` }, relativeToken);
      refused = answer.body.errors?.[0];
      if (!refused) posted++;
    }
    expect(refused?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused?.extensions?.retryAfter).toBeGreaterThan(0);
    expect(posted).toBeGreaterThan(0);
    const before = await count();
    expect((await t.gql(POST, { id, body: 'nog een' }, relativeToken)).body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(await count()).toBe(before);
  });

  it('writes the access log: reads (R), new messages (C) and deletions (D)', async () => {
    const rows: { action: string; event_type: string }[] = await t.app.db.query("SELECT action, event_type FROM access_log WHERE event_type LIKE 'messages.%'");
    const seen = new Set(rows.map((r) => `${r.action} ${r.event_type}`));
    expect(seen).toEqual(new Set(['R messages.list.read', 'R messages.read', 'C messages.create', 'D messages.delete']));
  });
});
