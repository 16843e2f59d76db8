import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { int, text, time } from './columns';

/** The bytes still to be deleted from file storage after their row went (src/modules/files/stored-file-deletion.entity.ts). */
export class StoredFileDeletions1764600000100 implements MigrationInterface {
  name = 'StoredFileDeletions1764600000100';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'stored_file_deletions',
        columns: [
          text('storage_key', 100, { isPrimary: true }),
          time('queued_at'),
          int('attempts', { default: 0 }),
          text('last_error', 200, { isNullable: true }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('stored_file_deletions', true);
  }
}
