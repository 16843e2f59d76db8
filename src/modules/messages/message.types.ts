import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';

export enum ConversationFolder {
  INBOX = 'INBOX',
  ARCHIVE = 'ARCHIVE',
  ALL = 'ALL',
}
registerEnumType(ConversationFolder, { name: 'ConversationFolder' });

export enum ParticipantKind {
  CLIENT = 'CLIENT',
  NETWORK_MEMBER = 'NETWORK_MEMBER',
  PRACTITIONER = 'PRACTITIONER',
}
registerEnumType(ParticipantKind, { name: 'ParticipantKind' });

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
}

@ObjectType()
export class MessageEvent {
  @Field(() => MessageEventKind) kind!: MessageEventKind;
  @Field(() => Conversation) conversation!: Conversation;
  @Field(() => Message) message!: Message;
}
