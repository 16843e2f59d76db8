import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** TEAM: with practitioners chosen from the treatment team; the others are Caren's group channels. */
export type ConversationKindValue = 'TEAM' | 'PERSONAL_NETWORK' | 'TRUST_GROUP' | 'CARE_ORGANISATION';
export type ParticipantKindValue = 'CLIENT' | 'NETWORK_MEMBER' | 'PRACTITIONER';

/** One conversation in one client's portal. The portal owns it; the EHR gets copies through the EHR write outbox. */
@Entity('conversations')
@Index('ix_conversations_client', ['clientId', 'lastMessageAt'])
export class ConversationEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ type: 'varchar', length: 200 }) subject!: string;
  @Column({ type: 'varchar', length: 20 }) kind!: ConversationKindValue;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
  @Column({ name: 'last_message_at', ...timeColumn }) lastMessageAt!: Date;
}

/**
 * Who takes part: an account (ref = account id) or a practitioner (ref = global id `source:external`).
 * The name is a snapshot, so a conversation still reads right when the EHR is down.
 */
@Entity('conversation_participants')
@Index('uq_conversation_participants_ref', ['conversationId', 'ref'], { unique: true })
export class ConversationParticipantEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'conversation_id', ...idColumn }) conversationId!: string;
  @Column({ type: 'varchar', length: 20 }) kind!: ParticipantKindValue;
  @Column({ type: 'varchar', length: 200 }) ref!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
}

@Entity('messages')
@Index('ix_messages_conversation', ['conversationId', 'sentAt'])
export class MessageEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'conversation_id', ...idColumn }) conversationId!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ name: 'author_kind', type: 'varchar', length: 20 }) authorKind!: ParticipantKindValue;
  @Column({ name: 'author_ref', type: 'varchar', length: 200 }) authorRef!: string;
  @Column({ name: 'author_name', type: 'varchar', length: 200 }) authorName!: string;
  /** Null once deleted: the text is gone for everyone, the message stays as "deleted". */
  @Column({ type: 'text', nullable: true }) body!: string | null;
  @Column({ name: 'sent_at', ...timeColumn }) sentAt!: Date;
  @Column({ name: 'deleted_at', ...timeColumn, nullable: true }) deletedAt!: Date | null;
  /** The sync event a practitioner's message came in with: unique, so a reprocessed event adds nothing. */
  @Index('uq_messages_source_event', { unique: true })
  @Column({ name: 'source_event_id', type: 'varchar', length: 128, nullable: true })
  sourceEventId!: string | null;
}

/** One reader's state of one conversation: what they have read, and whether they archived it. */
@Entity('conversation_readers')
@Index('uq_conversation_readers', ['conversationId', 'accountId'], { unique: true })
export class ConversationReaderEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'conversation_id', ...idColumn }) conversationId!: string;
  @Column({ name: 'account_id', ...idColumn }) accountId!: string;
  @Column({ name: 'last_read_at', ...timeColumn, nullable: true }) lastReadAt!: Date | null;
  /** Archived until a newer message arrives (then the conversation is back in the inbox). */
  @Column({ name: 'archived_at', ...timeColumn, nullable: true }) archivedAt!: Date | null;
}

/**
 * An uploaded file: first only its uploader's (message_id null), then part of exactly one message.
 * The bytes live in file storage under storage_key; the media type is what the content is, not what the name says.
 */
@Entity('message_attachments')
@Index('ix_message_attachments_message', ['messageId'])
export class AttachmentEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'uploader_account_id', ...idColumn }) uploaderAccountId!: string;
  @Column({ name: 'message_id', ...idColumn, nullable: true }) messageId!: string | null;
  @Column({ type: 'varchar', length: 255 }) name!: string;
  @Column({ name: 'media_type', type: 'varchar', length: 127 }) mediaType!: string;
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } }) size!: number;
  @Column({ name: 'storage_key', type: 'varchar', length: 100 }) storageKey!: string;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
}
