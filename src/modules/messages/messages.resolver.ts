import { Arg, Args, Ctx, Extensions, FieldResolver, ID, Mutation, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { Action, authorize, CONVERSATION_ACTION, Reason, mayReadConversation, mayStartConversation, type Grant } from '../../auth/access';
import { PortalRelation, type PortalAccess } from '../../auth/permissions';
import type { AccountEntity } from '../identity/account.entity';
import type { GatewayContext } from '../../graphql/context';
import { ANSWERS_EVENT_AS_IT_IS } from '../../graphql/execution/live-execution';
import { fromCursor, ForwardPage, pageOf, pageSize, type ConnectionShape } from '../../graphql/connection';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../errors';
import { defineRooms } from '../../live/live-delivery';
import { LIMITS } from '../../kv/rate-limit';
import { Client } from '../clients/client.types';
import type { ClientSourceRef } from '../clients/clients.service';
import { dossierReads } from '../dossier/dossier.service';
import { parseGlobalId } from '../ehr/global-id';
import type { ConversationEntity, ConversationKindValue } from './message.entity';
import { checkBody, checkSubject } from './message-rules';
import {
  Attachment,
  Conversation,
  ConversationConnection,
  ConversationFolder,
  ConversationKind,
  Message,
  MessageConnection,
  MessageEvent,
  MessageEventKind,
  MessagePage,
  SyncStatus,
} from './message.types';
import { presenceKey } from './message-mail';
import { presentMessage, type Author, type ConversationView } from './messages.service';
import { MESSAGE_TOPIC, type MessageSignal } from './messages.topics';

const audited = { treatmentRelationship: true } as const;

/** The file id in a signed /files link for an attachment (documents use `doc:`). */
export const attachmentFileId = (attachmentId: string): string => `att:${attachmentId}`;

/** A MessageEvent whose conversation's messages are resolved on demand (ConversationResolver). */
type MessageEventPayload = Omit<MessageEvent, 'conversation'> & { conversation: ConversationView };

/** A conversation the viewer may read (or write in), with the rights it was opened under. */
interface Opened extends Grant {
  conversation: ConversationEntity;
  account: AccountEntity;
}

async function openConversation(ctx: GatewayContext, conversationId: string, write: boolean, ofClient?: string): Promise<Opened> {
  const conversation = await ctx.services.messages.conversation(conversationId);
  // Asked through one client (Client.conversation): another client's is not found there, before any right is asked.
  if (!conversation || (ofClient !== undefined && conversation.clientId !== ofClient)) throw new NotFoundError('No such conversation.');
  const grant = await authorize(ctx, conversation.clientId, write ? Action.SEND_MESSAGE : Action.READ_MESSAGES);
  const account = await ctx.account();
  const participant = await ctx.services.messages.isParticipant(conversation.id, account.id);
  if (!mayReadConversation(grant, conversation.kind, participant)) throw noConversationRight(conversation.kind);
  return { conversation, access: grant.access, can: grant.can, account };
}

const noConversationRight = (kind: ConversationKindValue) =>
  new ForbiddenError('You have no permission for this conversation.', { reason: Reason.NO_PERMISSION, action: CONVERSATION_ACTION[kind] });

const authorOf = (account: AccountEntity, access: PortalAccess): Author => ({
  // Parents and representatives write as the client's side of the conversation.
  kind: access.relation === PortalRelation.NETWORK_MEMBER ? 'NETWORK_MEMBER' : 'CLIENT',
  ref: account.id,
  name: account.displayName,
});

/** Which EHRs get a copy: a TEAM conversation goes to its practitioners' systems, the care-organisation channel to every system of the client. */
async function deliveryTargets(
  ctx: GatewayContext,
  conversation: Pick<ConversationEntity, 'clientId' | 'kind'>,
  practitionerIds: string[],
): Promise<ClientSourceRef[]> {
  // Personal network and trust group channels stay between the client's own people.
  if (conversation.kind !== 'TEAM' && conversation.kind !== 'CARE_ORGANISATION') return [];
  const known = await ctx.ehr.clientSources(conversation.clientId);
  if (conversation.kind === 'CARE_ORGANISATION') return known;
  // A team message goes to the EHRs of its practitioners that know the client.
  const wanted = new Set(practitionerIds.flatMap((id) => parseGlobalId(id)?.source ?? []));
  return known.filter((s) => wanted.has(s.source));
}

@Resolver(() => Client)
export class ClientConversationsResolver {
  @FieldResolver(() => [Conversation], { nullable: true })
  async conversations(
    @Root() c: Client,
    @Arg('folder', () => ConversationFolder, { defaultValue: ConversationFolder.INBOX }) folder: ConversationFolder,
    @Ctx() ctx: GatewayContext,
  ): Promise<ConversationView[]> {
    return visibleConversations(ctx, c.id, folder);
  }

  @FieldResolver(() => Conversation, {
    nullable: true,
    description: 'One conversation of this client, in any folder (a page that opens it needs no list): NOT_FOUND when it is not this client’s.',
  })
  async conversation(@Root() c: Client, @Arg('id', () => ID) id: string, @Ctx() ctx: GatewayContext): Promise<ConversationView> {
    // Another client's conversation is not found here (before any right is asked, so a refusal tells nothing of it).
    const { conversation, account, access } = await openConversation(ctx, id, false, c.id);
    const [view] = await Promise.all([
      ctx.services.messages.view(conversation, account.id),
      ctx.audit({ action: 'R', eventType: 'messages.conversation.read', resource: `Gesprek: ${conversation.subject}`, clientId: c.id, ...audited }, access),
    ]);
    return view;
  }

  @FieldResolver(() => ConversationConnection, { nullable: true, description: 'The conversations page by page, the latest message first (Relay connection).' })
  async conversationsConnection(
    @Root() c: Client,
    @Arg('folder', () => ConversationFolder, { defaultValue: ConversationFolder.INBOX }) folder: ConversationFolder,
    @Args() page: ForwardPage,
    @Ctx() ctx: GatewayContext,
  ): Promise<ConnectionShape<ConversationView>> {
    const size = pageSize(page.first, 'first');
    const after = page.after ? fromCursor(page.after, 'after') : undefined;
    // A client's conversations are few (what the viewer may see is decided per conversation): paged in memory, by (lastMessageAt, id).
    const keyOf = (v: ConversationView) => ({ key: v.lastMessageAt.toISOString(), id: v.id });
    const newestFirst = (a: { key: string; id: string }, b: { key: string; id: string }) =>
      a.key !== b.key ? (a.key < b.key ? 1 : -1) : a.id === b.id ? 0 : a.id < b.id ? 1 : -1;
    const all = (await visibleConversations(ctx, c.id, folder)).sort((a, b) => newestFirst(keyOf(a), keyOf(b)));
    const rest = after ? all.filter((v) => newestFirst(after, keyOf(v)) < 0) : all;
    return pageOf(rest.slice(0, size + 1), size, keyOf, (v) => v, { backwards: false, from: !!after });
  }
}

/** The client's conversations in a folder that the viewer may read (READ_MESSAGES, then each conversation's kind), audited as one overview read. */
async function visibleConversations(ctx: GatewayContext, clientId: string, folder: ConversationFolder): Promise<ConversationView[]> {
  const grant = await authorize(ctx, clientId, Action.READ_MESSAGES);
  const { access } = grant;
  const account = await ctx.account();
  const [list] = await Promise.all([
    ctx.services.messages.list(clientId, account.id, folder, (conv, refs) => mayReadConversation(grant, conv.kind, refs.has(account.id))),
    ctx.audit({ action: 'R', eventType: 'messages.list.read', resource: 'Berichten (overzicht)', clientId, ...audited }, access),
  ]);
  return list;
}

// `Readonly<T>` roots: type-graphql copies a class-typed root into a new instance per call.
@Resolver(() => Conversation)
export class ConversationResolver {
  @FieldResolver(() => [Message])
  async messages(@Root() conv: Readonly<ConversationView>, @Ctx() ctx: GatewayContext): Promise<Message[]> {
    const { access } = await openConversation(ctx, conv.id, false);
    const [list] = await Promise.all([
      ctx.services.messages.messages(conv.id),
      ctx.audit({ action: 'R', eventType: 'messages.read', resource: `Berichten: ${conv.subject}`, clientId: conv.clientId, ...audited }, access),
    ]);
    return list.map(presentMessage);
  }

  @FieldResolver(() => MessageConnection, {
    nullable: true,
    description:
      'The messages page by page, oldest first within a page: `last` (default 20) and `before` to scroll back from the newest, `first` and `after` to go forward.',
  })
  async messagesConnection(@Root() conv: Readonly<ConversationView>, @Args() page: MessagePage, @Ctx() ctx: GatewayContext): Promise<ConnectionShape<Message>> {
    if ((page.first != null || page.after) && (page.last != null || page.before))
      throw new BadUserInputError('Page forwards (first, after) or backwards (last, before), not both.');
    const backwards = page.first == null && !page.after;
    const size = backwards ? pageSize(page.last ?? 20, 'last') : pageSize(page.first ?? 20, 'first');
    const cursor = backwards ? page.before : page.after;
    const from = cursor ? fromCursor(cursor, backwards ? 'before' : 'after') : undefined;
    const { access } = await openConversation(ctx, conv.id, false);
    const [rows] = await Promise.all([
      ctx.services.messages.messagesPage(conv.id, size + 1, backwards, from ? { sentAt: new Date(from.key), id: from.id } : undefined),
      ctx.audit({ action: 'R', eventType: 'messages.read', resource: `Berichten: ${conv.subject}`, clientId: conv.clientId, ...audited }, access),
    ]);
    return pageOf(rows, size, (m) => ({ key: m.sentAt.toISOString(), id: m.id }), presentMessage, { backwards, from: !!from });
  }
}

@Resolver(() => Message)
export class MessageAttachmentsResolver {
  /** Links signed for this viewer only; the download checks again that they may read the message. */
  @FieldResolver(() => [Attachment])
  async attachments(@Root() m: Readonly<Message>, @Ctx() ctx: GatewayContext): Promise<Attachment[]> {
    if (m.deletedAt) return [];
    const [rows, account] = await Promise.all([ctx.services.attachments.forMessage(m.id), ctx.account()]);
    return rows.map((a) => ({
      id: a.id,
      name: a.name,
      mediaType: a.mediaType,
      size: a.size,
      downloadUrl: ctx.services.fileUrls.sign(attachmentFileId(a.id), account.id),
    }));
  }

  /** Read for the whole conversation at once (one query however many messages are shown); the message itself was authorised by its conversation. */
  @FieldResolver(() => SyncStatus, {
    nullable: true,
    description: "Whether the care organisation's systems have this message yet; null when it goes to none (a practitioner's message, a personal-network one).",
  })
  async syncStatus(@Root() m: Readonly<Message>, @Ctx() ctx: GatewayContext): Promise<SyncStatus | null> {
    const states = await ctx.once(`message-sync:${m.conversationId}`, () => ctx.services.messages.deliveryStates(m.conversationId));
    const statuses = states.get(m.id) ?? [];
    if (statuses.includes('failed')) return SyncStatus.FAILED;
    if (statuses.includes('pending')) return SyncStatus.PENDING;
    return statuses.includes('delivered') ? SyncStatus.DELIVERED : null;
  }
}

@Resolver()
export class MessagesResolver {
  @Mutation(() => Conversation)
  async startConversation(
    @Arg('clientId', () => ID) clientId: string,
    @Arg('subject') subject: string,
    @Arg('recipientIds', () => [ID]) recipientIds: string[],
    @Arg('body') body: string,
    @Ctx() ctx: GatewayContext,
    @Arg('attachmentIds', () => [ID], { nullable: true }) attachmentIds?: string[],
    @Arg('kind', () => ConversationKind, {
      defaultValue: ConversationKind.TEAM,
      description: 'TEAM (with practitioners of the active treatment team) or a group channel.',
    })
    kind: ConversationKind = ConversationKind.TEAM,
  ): Promise<ConversationView> {
    const grant = await authorize(ctx, clientId, Action.SEND_MESSAGE);
    const { access } = grant;
    const kindValue = kind as ConversationKindValue;
    if (!mayStartConversation(grant, kindValue)) throw noConversationRight(kindValue);
    const cleanSubject = checkSubject(subject);
    const cleanBody = checkBody(body);
    const recipients = [...new Set(recipientIds)];
    if (kind === ConversationKind.TEAM && !recipients.length)
      throw new BadUserInputError('Choose at least one practitioner of the treatment team.', { field: 'recipientIds' });
    if ((kind === ConversationKind.PERSONAL_NETWORK || kind === ConversationKind.TRUST_GROUP) && recipients.length) {
      throw new BadUserInputError('A personal-network or trust-group channel has no practitioners as recipients.', { field: 'recipientIds' });
    }
    const account = await ctx.account();
    await ctx.services.limiter.hit('conversations', account.id, LIMITS.conversationsPerAccount);
    await ctx.services.limiter.hit('messages', account.id, LIMITS.messagesPerAccount);
    const practitioners = await this.activeTeamMembers(ctx, clientId, recipients);
    const { conversation } = await ctx.services.messages.start({
      clientId,
      kind: kindValue,
      subject: cleanSubject,
      body: cleanBody,
      author: authorOf(account, access),
      practitioners,
      deliverTo: await deliveryTargets(ctx, { clientId, kind: kindValue }, recipients),
      attachmentIds: attachmentIds ?? [],
    });
    await ctx.audit({ action: 'C', eventType: 'messages.create', resource: `Bericht (nieuw gesprek): ${cleanSubject}`, clientId, ...audited }, access);
    return ctx.services.messages.view(conversation, account.id);
  }

  @Mutation(() => Message)
  async postMessage(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('body') body: string,
    @Ctx() ctx: GatewayContext,
    @Arg('attachmentIds', () => [ID], { nullable: true }) attachmentIds?: string[],
  ): Promise<Message> {
    const { conversation, access, account } = await openConversation(ctx, conversationId, true);
    const cleanBody = checkBody(body);
    await ctx.services.limiter.hit('messages', account.id, LIMITS.messagesPerAccount);
    const practitionerIds = (await ctx.services.messages.participants([conversation.id])).filter((p) => p.kind === 'PRACTITIONER').map((p) => p.ref);
    const message = await ctx.services.messages.post({
      conversation,
      body: cleanBody,
      author: authorOf(account, access),
      deliverTo: await deliveryTargets(ctx, conversation, practitionerIds),
      attachmentIds: attachmentIds ?? [],
    });
    await ctx.audit(
      { action: 'C', eventType: 'messages.create', resource: `Bericht: ${conversation.subject}`, clientId: conversation.clientId, ...audited },
      access,
    );
    return presentMessage(message);
  }

  @Mutation(() => Conversation)
  async markConversationRead(@Arg('conversationId', () => ID) conversationId: string, @Ctx() ctx: GatewayContext): Promise<ConversationView> {
    // Reading is allowed in a read-only portal (treatment ended), so this is no write.
    const { conversation, account } = await openConversation(ctx, conversationId, false);
    await ctx.services.messages.markRead(conversation, account.id);
    return ctx.services.messages.view(conversation, account.id);
  }

  @Mutation(() => Conversation)
  async archiveConversation(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('archived', { defaultValue: true }) archived: boolean,
    @Ctx() ctx: GatewayContext,
  ): Promise<ConversationView> {
    const { conversation, account } = await openConversation(ctx, conversationId, false);
    await ctx.services.messages.archive(conversation, account.id, archived);
    return ctx.services.messages.view(conversation, account.id);
  }

  @Mutation(() => Message)
  async deleteMessage(@Arg('messageId', () => ID) messageId: string, @Ctx() ctx: GatewayContext): Promise<Message> {
    const message = await ctx.services.messages.message(messageId);
    if (!message) throw new NotFoundError('No such message.');
    const { conversation, access, account } = await openConversation(ctx, message.conversationId, true);
    if (message.authorKind === 'PRACTITIONER' || message.authorRef !== account.id)
      throw new ForbiddenError('Only the author can delete a message.', { reason: 'NOT_AUTHOR' });
    const deleted = await ctx.services.messages.delete(message);
    await ctx.audit(
      { action: 'D', eventType: 'messages.delete', resource: `Bericht verwijderd: ${conversation.subject}`, clientId: conversation.clientId, ...audited },
      access,
    );
    return presentMessage(deleted);
  }

  @Subscription(() => MessageEvent, {
    description: "A message arrives in, or is deleted from, one of this client's conversations the viewer may read.",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { clientId: string }, GatewayContext>) => subscribeMessages(context, args.clientId),
  })
  // Declares the field and its argument; its subscribe's events are already the answers (ANSWERS_EVENT_AS_IT_IS).
  @Extensions(ANSWERS_EVENT_AS_IT_IS)
  messageAdded(@Root() event: MessageEventPayload, @Arg('clientId', () => ID) _clientId: string): MessageEventPayload {
    return event;
  }

  /** Recipients must be practitioners of the client's active treatment team (as the EHR lists it now). */
  private async activeTeamMembers(ctx: GatewayContext, clientId: string, ids: string[]): Promise<Author[]> {
    if (!ids.length) return [];
    const team = await dossierReads.treatmentTeam(ctx, clientId);
    const active = new Set(team.filter((m) => m.active).map((m) => m.practitionerId));
    const unknown = ids.filter((id) => !active.has(id));
    if (unknown.length) throw new BadUserInputError(`Not a practitioner of the active treatment team: ${unknown.join(', ')}.`, { field: 'recipientIds' });
    return Promise.all(
      ids.map(async (id) => {
        // A name snapshot; the EHR not answering the name is no reason to refuse the message.
        const found = await ctx.ehr.practitioner(id).catch(() => null);
        return { kind: 'PRACTITIONER' as const, ref: id, name: found?.name ?? 'Behandelaar' };
      }),
    );
  }
}

/**
 * This instance's message rooms, one per client: per signal one re-authorisation of all its
 * sockets, one read of the message, its conversation and participants (the database is the truth;
 * the signal carries no content), then per reader who may read that conversation their own view
 * (unread count, folder) and an access-log line, awaited before the message goes out.
 */
export const MESSAGE_ROOMS = defineRooms<MessageSignal, MessageEventPayload>('message', (services) => ({
  topic: MESSAGE_TOPIC,
  action: Action.READ_MESSAGES,
  resync: (clientId, since) => services.messages.signalsSince(clientId, since),
  present: async (signal, seats) => {
    const [conversation, message] = await Promise.all([services.messages.conversation(signal.conversationId), services.messages.message(signal.messageId)]);
    if (!conversation || !message || conversation.clientId !== signal.clientId) return seats.map(() => null);
    const refs = new Set((await services.messages.participants([conversation.id])).map((p) => p.ref));
    const kind = signal.kind === 'DELETED' ? MessageEventKind.DELETED : MessageEventKind.ADDED;
    return Promise.all(
      seats.map(async ({ ctx, viewer, access, can }): Promise<MessageEventPayload | null> => {
        if (!mayReadConversation({ access, can }, conversation.kind, refs.has(viewer.accountId))) return null;
        const [view] = await Promise.all([
          services.messages.view(conversation, viewer.accountId),
          ctx.audit(
            { action: 'R', eventType: 'messages.read', resource: `Bericht (live): ${conversation.subject}`, clientId: conversation.clientId, ...audited },
            access,
          ),
        ]);
        return { kind, conversation: view, message: presentMessage(message) };
      }),
    );
  },
}));

/**
 * Authorises on subscribe (FORBIDDEN leaves as the subscription's error), then takes a seat in
 * the client's message room, which authorises again for every signal (messageRooms).
 */
async function subscribeMessages(ctx: GatewayContext, clientId: string): Promise<AsyncIterable<MessageEventPayload>> {
  await authorize(ctx, clientId, Action.READ_MESSAGES);
  const { services } = ctx;

  // While the subscription is open (on any instance) the viewer sees messages live: no e-mail about them.
  const presence = presenceKey(clientId, (await ctx.account()).id);
  // One member per subscription (another device leaving does not end this one's presence); each lapses by itself if its instance dies.
  const member = ctx.requestId;
  const markPresent = () => services.kv.addMember(presence, member, 90).catch(() => undefined);
  await markPresent();
  const heartbeat = setInterval(() => void markPresent(), 30_000);
  heartbeat.unref();

  return services.live.join(MESSAGE_ROOMS, ctx, clientId, () => {
    clearInterval(heartbeat);
    void services.kv.removeMember(presence, member).catch(() => undefined);
  });
}
