import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { id, longText, text, time } from './columns';

/** Questionnaire answers saved and not yet sent. */
export class QuestionnaireDrafts1764100000110 implements MigrationInterface {
  name = 'QuestionnaireDrafts1764100000110';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'questionnaire_drafts',
        columns: [id('id', { isPrimary: true }), id('client_id'), text('assignment_id', 200), longText('answers'), time('updated_at'), id('updated_by')],
        indices: [new TableIndex({ name: 'uq_questionnaire_drafts_assignment', columnNames: ['client_id', 'assignment_id'], isUnique: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('questionnaire_drafts', true);
  }
}
