import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { id, int, longText, text, time } from './columns';

/** The outbox of the client's writes to the EHRs, and a submitted questionnaire's draft waiting for it. */
export class EhrWrites1764100000120 implements MigrationInterface {
  name = 'EhrWrites1764100000120';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ehr_writes',
        columns: [
          id('id', { isPrimary: true }),
          id('client_id'),
          text('source', 50),
          text('method', 64),
          text('subject', 200),
          longText('payload'),
          text('status', 16),
          int('attempts', { default: 0 }),
          time('next_attempt_at'),
          text('last_error', 500, { isNullable: true }),
          time('created_at'),
          time('delivered_at', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'ix_ehr_writes_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({ name: 'ix_ehr_writes_subject', columnNames: ['client_id', 'subject'] }),
        ],
      }),
    );
    await q.addColumn('questionnaire_drafts', new TableColumn(time('submitted_at', { isNullable: true })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('questionnaire_drafts', 'submitted_at');
    await q.dropTable('ehr_writes', true);
  }
}
