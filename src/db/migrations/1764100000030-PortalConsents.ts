import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { bool, id, text, time } from './columns';

/** Consents the portal owns (the WGBO parent-access consent of a child from 16). */
export class PortalConsents1764100000030 implements MigrationInterface {
  name = 'PortalConsents1764100000030';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'portal_consents',
        columns: [id('id', { isPrimary: true }), id('client_id'), text('topic', 40), bool('granted', false), time('changed_at'), id('changed_by')],
        indices: [new TableIndex({ name: 'uq_portal_consents_client_topic', columnNames: ['client_id', 'topic'], isUnique: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('portal_consents', true);
  }
}
