import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { bool, id, longText, text, time } from './columns';

/** The diary (dagboek) and the client story (Mijn Verhaal): the portal's own records. */
export class Journal1764100000100 implements MigrationInterface {
  name = 'Journal1764100000100';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'diary_entries',
        columns: [id('id', { isPrimary: true }), id('client_id'), id('author_account_id'), text('author_name', 200), longText('text'), time('created_at')],
        indices: [new TableIndex({ name: 'ix_diary_entries_client_created', columnNames: ['client_id', 'created_at'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'client_stories',
        columns: [id('client_id', { isPrimary: true }), longText('text'), bool('shared_with_organisation', false), time('updated_at'), id('updated_by')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('client_stories', true);
    await q.dropTable('diary_entries', true);
  }
}
