import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { id, text, time } from './columns';

/** Uploaded files that become message attachments (the bytes are in file storage, not here). */
export class Attachments1764100000060 implements MigrationInterface {
  name = 'Attachments1764100000060';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'message_attachments',
        columns: [
          id('id', { isPrimary: true }),
          id('uploader_account_id'),
          id('message_id', { isNullable: true }),
          text('name', 255),
          text('media_type', 127),
          { name: 'size', type: 'bigint' },
          text('storage_key', 100),
          time('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_message_attachments_message', columnNames: ['message_id'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('message_attachments', true);
  }
}
