import { connectionOf } from '../../graphql/connection';
import { ArgsType, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';

export enum ConversationFolder {
  INBOX = 'INBOX',
  ARCHIVE = 'ARCHIVE',
  ALL = 'ALL',
}
registerEnumType(ConversationFolder, { name: 'ConversationFolder' });

/** Whether the care organisation's systems have what the portal passes on to them. */
export enum SyncStatus {
  /** Stored in the portal and on its way (the EHR did not acknowledge yet; retried until it does). */
  PENDING = 'PENDING',
  /** Every EHR it goes to acknowledged it. */
  DELIVERED = 'DELIVERED',
  /** An EHR refused it too often: the portal keeps it and the operator has been alerted (see /readyz). */
  FAILED = 'FAILED',
}
registerEnumType(SyncStatus, { name: 'SyncStatus' });

export enum ParticipantKind {
  CLIENT = 'CLIENT',
  NETWORK_MEMBER = 'NETWORK_MEMBER',
  PRACTITIONER = 'PRACTITIONER',
}
registerEnumType(ParticipantKind, { name: 'ParticipantKind' });

/** TEAM: with chosen practitioners of the treatment team; the others are group channels (Caren). */
export enum ConversationKind {
  TEAM = 'TEAM',
  PERSONAL_NETWORK = 'PERSONAL_NETWORK',
  TRUST_GROUP = 'TRUST_GROUP',
  CARE_ORGANISATION = 'CARE_ORGANISATION',
}
registerEnumType(ConversationKind, { name: 'ConversationKind' });

/** Shown in every conversation (the manuals: not for crises; an answer can take three working days). */
export const CONVERSATION_NOTICE =
  'Berichten zijn niet bedoeld voor crisissituaties. Bel bij een crisis uw behandelaar of de crisisdienst, of 112 bij direct gevaar. Een antwoord kan tot drie werkdagen duren.';

export enum MessageEventKind {
  ADDED = 'ADDED',
  DELETED = 'DELETED',
}
registerEnumType(MessageEventKind, { name: 'MessageEventKind' });

@ObjectType()
export class Participant {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => ParticipantKind) kind!: ParticipantKind;
}

@ObjectType()
export class Attachment {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() mediaType!: string;
  @Field(() => Int) size!: number;
  @Field() downloadUrl!: string;
}

@ObjectType()
export class Message {
  @Field(() => ID) id!: string;
  @Field(() => ID) conversationId!: string;
  @Field(() => Participant) author!: Participant;
  @Field(() => String, { nullable: true, description: 'null once deleted' }) body?: string | null;
  @Field(() => DateTimeScalar) sentAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) deletedAt?: Date | null;
  @Field(() => [Attachment]) attachments!: Attachment[];
}

@ObjectType()
export class Conversation {
  @Field(() => ID) id!: string;
  @Field() subject!: string;
  @Field(() => [Participant]) participants!: Participant[];
  @Field(() => [Message]) messages!: Message[];
  @Field(() => Int) unreadCount!: number;
  @Field() archived!: boolean;
  @Field(() => DateTimeScalar) lastMessageAt!: Date;
  @Field(() => ConversationKind) kind!: ConversationKind;
  @Field({ description: 'Messages are not for crises; an answer can take up to three working days (show it with every conversation).' })
  notice!: string;
}

@ObjectType()
export class MessageEvent {
  @Field(() => MessageEventKind) kind!: MessageEventKind;
  @Field(() => Conversation) conversation!: Conversation;
  @Field(() => Message) message!: Message;
}

export const ConversationConnection = connectionOf(Conversation, 'Conversation');
export const MessageConnection = connectionOf(Message, 'Message');

/** Messages page forwards (`first`, `after`) or backwards (`last`, `before`); neither: the newest 20, oldest first. */
@ArgsType()
export class MessagePage {
  @Field(() => Int, { nullable: true, description: 'The oldest this many (after `after`), 1 to 100.' }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
  @Field(() => Int, { nullable: true, description: 'The newest this many (before `before`), 1 to 100.' }) last?: number | null;
  @Field(() => String, { nullable: true }) before?: string | null;
}
