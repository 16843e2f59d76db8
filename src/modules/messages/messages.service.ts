import { randomUUID } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { EventBus } from '../../events/event-bus';
import type { AdapterRegistry } from '../ehr/adapter-registry';
import type { AttachmentsService } from '../files/attachments.service';
import type { EhrWriteStatus } from '../ehr/ehr-write.entity';
import type { EhrWrites } from '../ehr/ehr-writes';
import type { ClientSourceRef } from '../clients/clients.service';
import { enqueueMessageWrites, sendStates, sentTo } from './message-writes';
import { MESSAGE_TOPIC, type MessageSignal } from './messages.topics';
import { parseGlobalId } from '../ehr/global-id';
import { Message, Participant, ParticipantKind, ConversationFolder, ConversationKind, CONVERSATION_NOTICE, type Conversation } from './message.types';
import {
  ConversationEntity,
  ConversationParticipantEntity,
  ConversationReaderEntity,
  MessageEntity,
  type ConversationKindValue,
  type ParticipantKindValue,
} from './message.entity';

/** A conversation as one reader sees it; its messages are loaded only when asked for. */
export type ConversationView = Omit<Conversation, 'messages'> & { clientId: string };

export interface Author {
  kind: ParticipantKindValue;
  /** The account id, or the practitioner's global id. */
  ref: string;
  name: string;
}

/** How far before a bus outage began its catch-up looks, for events that were in flight. */
const SIGNAL_MARGIN_MS = 2_000;

export interface MessagesServiceOptions {
  db: DataSource;
  bus: EventBus;
  /** The EHR write outbox a message's copies go through (woken after the commit, so delivery does not wait for its next poll). */
  writes: EhrWrites;
  /** A practitioner's display name by global id (through the EHR adapters), for practitioners' own messages. */
  practitionerName: (practitionerId: string) => Promise<string | null>;
  attachments: AttachmentsService;
  /** Called after a new message is stored (the new-message e-mail). */
  onAdded: (message: MessageEntity) => void;
}

/**
 * Owns conversations, messages and reader state. Authorisation is the resolvers' job; this keeps
 * the data consistent: a message and its rows in the EHR write outbox are written in one
 * transaction, and the bus is told only after the commit.
 */
export class MessagesService {
  constructor(private readonly deps: MessagesServiceOptions) {}

  conversation(id: string): Promise<ConversationEntity | null> {
    return this.deps.db.getRepository(ConversationEntity).findOneBy({ id });
  }

  message(id: string): Promise<MessageEntity | null> {
    return this.deps.db.getRepository(MessageEntity).findOneBy({ id });
  }

  participants(conversationIds: string[]): Promise<ConversationParticipantEntity[]> {
    if (!conversationIds.length) return Promise.resolve([]);
    return this.deps.db
      .getRepository(ConversationParticipantEntity)
      .find({ where: { conversationId: In(conversationIds) }, order: { kind: 'ASC', name: 'ASC' } });
  }

  async isParticipant(conversationId: string, ref: string): Promise<boolean> {
    return this.deps.db.getRepository(ConversationParticipantEntity).existsBy({ conversationId, ref });
  }

  /** One client's conversations for one reader, newest activity first, with unread counts and folder applied. */
  async list(
    clientId: string,
    accountId: string,
    folder: ConversationFolder,
    visible: (c: ConversationEntity, participantRefs: Set<string>) => boolean,
  ): Promise<ConversationView[]> {
    const all = await this.deps.db.getRepository(ConversationEntity).find({ where: { clientId }, order: { lastMessageAt: 'DESC' } });
    const views = await this.views(all, accountId, visible);
    if (folder === ConversationFolder.ALL) return views;
    return views.filter((v) => v.archived === (folder === ConversationFolder.ARCHIVE));
  }

  async view(conversation: ConversationEntity, accountId: string): Promise<ConversationView> {
    const [view] = await this.views([conversation], accountId, () => true);
    return view;
  }

  /** Messages by others since a moment (the dashboard's "new since your last login"), in conversations the reader may see. */
  async countNewSince(
    clientId: string,
    accountId: string,
    since: Date | null,
    visible: (c: ConversationEntity, participantRefs: Set<string>) => boolean,
  ): Promise<number> {
    const conversations = await this.deps.db.getRepository(ConversationEntity).find({ where: { clientId } });
    if (!conversations.length) return 0;
    const participants = await this.participants(conversations.map((c) => c.id));
    const ids = conversations.filter((c) => visible(c, new Set(participants.filter((p) => p.conversationId === c.id).map((p) => p.ref)))).map((c) => c.id);
    if (!ids.length) return 0;
    const query = this.deps.db
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.conversation_id IN (:...ids)', { ids })
      .andWhere('m.deleted_at IS NULL')
      .andWhere('m.author_ref <> :accountId', { accountId });
    if (since) query.andWhere('m.sent_at > :since', { since });
    return query.getCount();
  }

  /**
   * What the bus would have carried for a client since a moment: its messages sent or deleted
   * since then (a little before, for events in flight when the bus went away), oldest first.
   */
  async signalsSince(clientId: string, since: Date): Promise<MessageSignal[]> {
    const from = new Date(since.getTime() - SIGNAL_MARGIN_MS);
    const rows = await this.deps.db
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .innerJoin(ConversationEntity, 'c', 'c.id = m.conversationId')
      .where('c.clientId = :clientId', { clientId })
      .andWhere('(m.sentAt >= :from OR m.deletedAt >= :from)', { from })
      .orderBy('m.sentAt', 'ASC')
      .limit(200)
      .getMany();
    return rows.map((m) => ({ clientId, conversationId: m.conversationId, messageId: m.id, kind: m.deletedAt && m.deletedAt >= from ? 'DELETED' : 'ADDED' }));
  }

  /**
   * A page of a conversation's messages by (sentAt, id): forwards, the oldest after `from`; or
   * backwards, the newest before `from` (newest first here; the connection shows them oldest first).
   */
  async messagesPage(conversationId: string, take: number, backwards: boolean, from?: { sentAt: Date; id: string }): Promise<MessageEntity[]> {
    const direction = backwards ? 'DESC' : 'ASC';
    const query = this.deps.db
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.conversationId = :conversationId', { conversationId })
      .orderBy('m.sentAt', direction)
      .addOrderBy('m.id', direction)
      .take(take);
    const beyond = backwards ? '<' : '>';
    if (from) query.andWhere(`(m.sentAt ${beyond} :at OR (m.sentAt = :at AND m.id ${beyond} :id))`, { at: from.sentAt, id: from.id });
    return query.getMany();
  }

  /** The outbox states of every message of a conversation that is passed on to an EHR (its sends), by message id. */
  deliveryStates(conversationId: string): Promise<Map<string, EhrWriteStatus[]>> {
    return sendStates(this.deps.db, conversationId);
  }

  async messages(conversationId: string): Promise<MessageEntity[]> {
    return this.deps.db.getRepository(MessageEntity).find({ where: { conversationId }, order: { sentAt: 'ASC', id: 'ASC' } });
  }

  /** The messages of many conversations in one query (an export), each conversation's oldest first. */
  async messagesOf(conversationIds: readonly string[]): Promise<Map<string, MessageEntity[]>> {
    const byConversation = new Map<string, MessageEntity[]>(conversationIds.map((id) => [id, []]));
    if (!conversationIds.length) return byConversation;
    const rows = await this.deps.db
      .getRepository(MessageEntity)
      .find({ where: { conversationId: In([...conversationIds]) }, order: { sentAt: 'ASC', id: 'ASC' } });
    for (const m of rows) byConversation.get(m.conversationId)?.push(m);
    return byConversation;
  }

  async start(input: {
    clientId: string;
    kind: ConversationKindValue;
    subject: string;
    body: string;
    author: Author;
    practitioners: Author[];
    /** The EHRs (and the client's id there) that get a copy through the outbox. */
    deliverTo: ClientSourceRef[];
    /** Uploads of the author that become this message's attachments. */
    attachmentIds?: string[];
  }): Promise<{ conversation: ConversationEntity; message: MessageEntity }> {
    const now = new Date();
    const conversation: ConversationEntity = {
      id: randomUUID(),
      clientId: input.clientId,
      subject: input.subject,
      kind: input.kind,
      createdAt: now,
      lastMessageAt: now,
    };
    const message = newMessage(conversation, input.author, input.body, now, null);
    await this.deps.db.transaction(async (tx) => {
      await tx.getRepository(ConversationEntity).insert(conversation);
      await tx.getRepository(ConversationParticipantEntity).insert(
        uniqueByRef([input.author, ...input.practitioners]).map((p) => ({
          id: randomUUID(),
          conversationId: conversation.id,
          kind: p.kind,
          ref: p.ref,
          name: p.name,
        })),
      );
      await tx.getRepository(MessageEntity).insert(message);
      await this.claimAttachments(tx, input.attachmentIds, input.author, message.id);
      await enqueueMessageWrites(tx, this.deps.writes, message, input.deliverTo, 'sendMessage');
      // The author has read what they wrote.
      if (input.author.kind !== 'PRACTITIONER') await markRead(tx, conversation.id, input.author.ref, now);
    });
    await this.announce(message, 'ADDED', input.deliverTo.length > 0);
    return { conversation, message };
  }

  async post(input: {
    conversation: ConversationEntity;
    body: string;
    author: Author;
    deliverTo: ClientSourceRef[];
    attachmentIds?: string[];
  }): Promise<MessageEntity> {
    const now = new Date();
    const message = newMessage(input.conversation, input.author, input.body, now, null);
    await this.deps.db.transaction(async (tx) => {
      await this.addToConversation(tx, input.conversation, message, input.author);
      await this.claimAttachments(tx, input.attachmentIds, input.author, message.id);
      await enqueueMessageWrites(tx, this.deps.writes, message, input.deliverTo, 'sendMessage');
      if (input.author.kind !== 'PRACTITIONER') await markRead(tx, input.conversation.id, input.author.ref, now);
    });
    await this.announce(message, 'ADDED', input.deliverTo.length > 0);
    return message;
  }

  /**
   * A practitioner's message from a sync event: a reply to a conversation of this client, or a
   * new TEAM conversation. Idempotent by event id (a reprocessed event adds nothing).
   */
  async receiveFromPractitioner(input: {
    clientId: string;
    eventId: string;
    conversationId?: string;
    subject?: string;
    practitionerId: string;
    body: string;
    at: Date;
  }): Promise<MessageEntity> {
    const existing = await this.deps.db.getRepository(MessageEntity).findOneBy({ sourceEventId: input.eventId });
    if (existing) return existing;
    const known = input.conversationId
      ? await this.deps.db.getRepository(ConversationParticipantEntity).findOneBy({ conversationId: input.conversationId, ref: input.practitionerId })
      : null;
    // Only a practitioner the client's EHR knows writes to the client: an unknown id is parked (the
    // event is tried again, as for an unknown client), never shown as a conversation from someone.
    const name = known?.name ?? (await this.deps.practitionerName(input.practitionerId));
    if (name === null) throw new Error(`unknown practitioner '${input.practitionerId}'`);
    const practitioner: Author = { kind: 'PRACTITIONER', ref: input.practitionerId, name };
    let conversation: ConversationEntity;
    let isNew = false;
    const found = input.conversationId ? await this.conversation(input.conversationId) : null;
    if (found && found.clientId === input.clientId) conversation = found;
    else {
      // No conversation named, or none of this client's by that id (deleted by retention, a sender's mistake): a
      // new one, so the message reaches the client instead of being retried until given up.
      conversation = {
        id: randomUUID(),
        clientId: input.clientId,
        subject: input.subject ?? 'Bericht van uw behandelaar',
        kind: 'TEAM',
        createdAt: input.at,
        lastMessageAt: input.at,
      };
      isNew = true;
    }
    const message = newMessage(conversation, practitioner, input.body, input.at, input.eventId);
    try {
      await this.deps.db.transaction(async (tx) => {
        if (isNew) await tx.getRepository(ConversationEntity).insert(conversation);
        await this.addToConversation(tx, conversation, message, practitioner);
      });
    } catch (err) {
      // The same event processed on two instances at once: the unique event id let one through.
      const landed = await this.deps.db.getRepository(MessageEntity).findOneBy({ sourceEventId: input.eventId });
      if (landed) return landed;
      throw err;
    }
    await this.announce(message, 'ADDED', false);
    return message;
  }

  /** Body (and attachments) gone for everyone; the message stays as "deleted". Pending EHR copies are cancelled by the worker. */
  async delete(message: MessageEntity): Promise<MessageEntity> {
    if (message.deletedAt) return message;
    const deletedAt = new Date();
    // The body, the attachments' rows and the note of their bytes go together: a delete is never half done.
    const files = await this.deps.db.transaction(async (tx) => {
      await tx.getRepository(MessageEntity).update({ id: message.id }, { body: null, deletedAt });
      // Every EHR that was (or may yet be) handed a copy gets it withdrawn; an undelivered send is cancelled by the outbox.
      await enqueueMessageWrites(tx, this.deps.writes, message, await sentTo(tx, message), 'withdrawMessage');
      return this.deps.attachments.removeForMessage(tx, message.id);
    });
    this.deps.writes.kick();
    // Bytes a storage does not delete now stay noted and go with the next sweep.
    await this.deps.attachments.deleteQueued(files).catch(() => undefined);
    const deleted = { ...message, body: null, deletedAt };
    await this.announce(deleted, 'DELETED', false);
    return deleted;
  }

  async markRead(conversation: ConversationEntity, accountId: string): Promise<void> {
    await markRead(this.deps.db.manager, conversation.id, accountId, latest(new Date(), conversation.lastMessageAt));
  }

  async archive(conversation: ConversationEntity, accountId: string, archived: boolean): Promise<void> {
    const m = this.deps.db.manager;
    await ensureReader(m, conversation.id, accountId);
    // This column only: a read marked meanwhile (another tab, another device) stays.
    await m
      .createQueryBuilder()
      .update(ConversationReaderEntity)
      .set({ archivedAt: archived ? latest(new Date(), conversation.lastMessageAt) : null })
      .where('conversation_id = :conversationId AND account_id = :accountId', { conversationId: conversation.id, accountId })
      .execute();
  }

  private async claimAttachments(tx: EntityManager, ids: string[] | undefined, author: Author, messageId: string): Promise<void> {
    if (!ids?.length) return;
    if (!this.deps.attachments || author.kind === 'PRACTITIONER') throw new Error('attachments cannot be claimed here');
    await this.deps.attachments.claim(tx, ids, author.ref, messageId);
  }

  private async addToConversation(tx: EntityManager, conversation: ConversationEntity, message: MessageEntity, author: Author): Promise<void> {
    await tx.getRepository(MessageEntity).insert(message);
    // Never back: another message of this conversation may have landed meanwhile with a later time.
    await tx
      .getRepository(ConversationEntity)
      .createQueryBuilder()
      .update()
      .set({ lastMessageAt: message.sentAt })
      .where('id = :id AND last_message_at < :at', { id: conversation.id, at: message.sentAt })
      .execute();
    conversation.lastMessageAt = latest(conversation.lastMessageAt, message.sentAt);
    if (!(await tx.getRepository(ConversationParticipantEntity).existsBy({ conversationId: conversation.id, ref: author.ref }))) {
      await tx
        .getRepository(ConversationParticipantEntity)
        .insert({ id: randomUUID(), conversationId: conversation.id, kind: author.kind, ref: author.ref, name: author.name });
    }
  }

  private async announce(message: MessageEntity, kind: MessageSignal['kind'], enqueued: boolean): Promise<void> {
    if (enqueued) this.deps.writes.kick();
    if (kind === 'ADDED') this.deps.onAdded(message);
    const signal: MessageSignal = { clientId: message.clientId, conversationId: message.conversationId, messageId: message.id, kind };
    // The database already holds the message; a lost signal only delays a screen until its next query.
    await MESSAGE_TOPIC.publish(this.deps.bus, signal).catch(() => undefined);
  }

  private async views(
    conversations: ConversationEntity[],
    accountId: string,
    visible: (c: ConversationEntity, refs: Set<string>) => boolean,
  ): Promise<ConversationView[]> {
    if (!conversations.length) return [];
    const ids = conversations.map((c) => c.id);
    const [participants, readers, unread] = await Promise.all([
      this.participants(ids),
      this.deps.db.getRepository(ConversationReaderEntity).find({ where: { conversationId: In(ids), accountId } }),
      this.unreadCounts(ids, accountId),
    ]);
    const byConversation = new Map<string, ConversationParticipantEntity[]>();
    for (const p of participants) byConversation.set(p.conversationId, [...(byConversation.get(p.conversationId) ?? []), p]);
    const readerOf = new Map(readers.map((r) => [r.conversationId, r]));
    return conversations
      .filter((c) => visible(c, new Set((byConversation.get(c.id) ?? []).map((p) => p.ref))))
      .map((c) => {
        const reader = readerOf.get(c.id);
        return {
          id: c.id,
          clientId: c.clientId,
          subject: c.subject,
          kind: c.kind as ConversationKind,
          participants: (byConversation.get(c.id) ?? []).map(toParticipant),
          unreadCount: unread.get(c.id) ?? 0,
          // A newer message brings an archived conversation back to the inbox.
          archived: !!reader?.archivedAt && c.lastMessageAt.getTime() <= reader.archivedAt.getTime(),
          lastMessageAt: c.lastMessageAt,
          notice: CONVERSATION_NOTICE,
        };
      });
  }

  /** Messages by others, not deleted, newer than what this reader marked read. */
  private async unreadCounts(conversationIds: string[], accountId: string): Promise<Map<string, number>> {
    const rows: { conversationId: string; n: string | number }[] = await this.deps.db
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .select('m.conversation_id', 'conversationId')
      .addSelect('COUNT(*)', 'n')
      .leftJoin(ConversationReaderEntity, 'r', 'r.conversation_id = m.conversation_id AND r.account_id = :accountId', { accountId })
      .where('m.conversation_id IN (:...conversationIds)', { conversationIds })
      .andWhere('m.deleted_at IS NULL')
      .andWhere('m.author_ref <> :accountId', { accountId })
      .andWhere('(r.last_read_at IS NULL OR m.sent_at > r.last_read_at)')
      .groupBy('m.conversation_id')
      .getRawMany();
    return new Map(rows.map((r) => [r.conversationId, Number(r.n)]));
  }
}

function newMessage(conversation: ConversationEntity, author: Author, body: string, at: Date, sourceEventId: string | null): MessageEntity {
  return {
    id: randomUUID(),
    conversationId: conversation.id,
    clientId: conversation.clientId,
    authorKind: author.kind,
    authorRef: author.ref,
    authorName: author.name,
    body,
    sentAt: at,
    deletedAt: null,
    sourceEventId,
  };
}

/** The reader's row, made if absent; first reads at once make one row (the unique index, an INSERT that ignores a duplicate). */
async function ensureReader(m: EntityManager, conversationId: string, accountId: string): Promise<void> {
  await m
    .createQueryBuilder()
    .insert()
    .into(ConversationReaderEntity)
    .values({ id: randomUUID(), conversationId, accountId, lastReadAt: null, archivedAt: null })
    .orIgnore()
    .execute();
}

/** Read up to `at`: only forward, and only this column (an archive toggled meanwhile stays). */
async function markRead(m: EntityManager, conversationId: string, accountId: string, at: Date): Promise<void> {
  await ensureReader(m, conversationId, accountId);
  await m
    .createQueryBuilder()
    .update(ConversationReaderEntity)
    .set({ lastReadAt: at })
    .where('conversation_id = :conversationId AND account_id = :accountId AND (last_read_at IS NULL OR last_read_at < :at)', { conversationId, accountId, at })
    .execute();
}

const latest = (a: Date, b: Date): Date => (a.getTime() >= b.getTime() ? a : b);

function uniqueByRef(list: Author[]): Author[] {
  const seen = new Set<string>();
  return list.filter((a) => (seen.has(a.ref) ? false : (seen.add(a.ref), true)));
}

export function toParticipant(p: { ref: string; name: string; kind: ParticipantKindValue }): Participant {
  return { id: p.ref, name: p.name, kind: p.kind as ParticipantKind };
}

export function presentMessage(m: MessageEntity): Message {
  return {
    id: m.id,
    conversationId: m.conversationId,
    author: toParticipant({ ref: m.authorRef, name: m.authorName, kind: m.authorKind }),
    body: m.deletedAt ? null : m.body,
    sentAt: m.sentAt,
    deletedAt: m.deletedAt,
    attachments: [],
  };
}

/** A practitioner's name from the adapter their global id names (no request context: sync events have none). */
export async function practitionerName(registry: AdapterRegistry, practitionerId: string): Promise<string | null> {
  const id = parseGlobalId(practitionerId);
  if (!id || !registry.has(id.source)) return null;
  const found = await registry.call(id.source, 'getPractitioners', (adapter, attempt) =>
    adapter.getPractitioners([id.externalId], attempt.context({ requestId: `practitioner:${practitionerId}` })),
  );
  return found.find((p) => p.externalId === id.externalId)?.name ?? null;
}
