import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { id, int, longText, text, time } from './columns';

/** Conversations and messages the portal owns, per-reader state, and the outbox to the EHRs. */
export class Messages1764100000040 implements MigrationInterface {
  name = 'Messages1764100000040';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'conversations',
        columns: [id('id', { isPrimary: true }), id('client_id'), text('subject', 200), text('kind', 20), time('created_at'), time('last_message_at')],
        indices: [new TableIndex({ name: 'ix_conversations_client', columnNames: ['client_id', 'last_message_at'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'conversation_participants',
        columns: [id('id', { isPrimary: true }), id('conversation_id'), text('kind', 20), text('ref', 200), text('name', 200)],
        indices: [new TableIndex({ name: 'uq_conversation_participants_ref', columnNames: ['conversation_id', 'ref'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'messages',
        columns: [
          id('id', { isPrimary: true }),
          id('conversation_id'),
          id('client_id'),
          text('author_kind', 20),
          text('author_ref', 200),
          text('author_name', 200),
          longText('body', { isNullable: true }),
          time('sent_at'),
          time('deleted_at', { isNullable: true }),
          text('source_event_id', 128, { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'ix_messages_conversation', columnNames: ['conversation_id', 'sent_at'] }),
          // Unique with NULLs allowed (both databases): a practitioner's message lands once per sync event.
          new TableIndex({ name: 'uq_messages_source_event', columnNames: ['source_event_id'], isUnique: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'conversation_readers',
        columns: [
          id('id', { isPrimary: true }),
          id('conversation_id'),
          id('account_id'),
          time('last_read_at', { isNullable: true }),
          time('archived_at', { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'uq_conversation_readers', columnNames: ['conversation_id', 'account_id'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'message_outbox',
        columns: [
          id('id', { isPrimary: true }),
          id('message_id'),
          text('source', 50),
          text('status', 16),
          int('attempts', { default: 0 }),
          time('next_attempt_at'),
          text('last_error', 500, { isNullable: true }),
          time('created_at'),
          time('delivered_at', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'uq_message_outbox_message_source', columnNames: ['message_id', 'source'], isUnique: true }),
          new TableIndex({ name: 'ix_message_outbox_due', columnNames: ['status', 'next_attempt_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('message_outbox', true);
    await q.dropTable('conversation_readers', true);
    await q.dropTable('messages', true);
    await q.dropTable('conversation_participants', true);
    await q.dropTable('conversations', true);
  }
}
