import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { text } from './columns';

/** An outbox row either sends a message to an EHR or withdraws a copy its author deleted. */
export class OutboxWithdraw1764100000080 implements MigrationInterface {
  name = 'OutboxWithdraw1764100000080';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('message_outbox', new TableColumn(text('action', 16, { default: "'send'" })));
    // One send and at most one withdrawal per message and EHR.
    await q.dropIndex('message_outbox', 'uq_message_outbox_message_source');
    await q.createIndex(
      'message_outbox',
      new TableIndex({ name: 'uq_message_outbox_message_source_action', columnNames: ['message_id', 'source', 'action'], isUnique: true }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DELETE FROM message_outbox WHERE action = 'withdraw'");
    await q.dropIndex('message_outbox', 'uq_message_outbox_message_source_action');
    await q.createIndex('message_outbox', new TableIndex({ name: 'uq_message_outbox_message_source', columnNames: ['message_id', 'source'], isUnique: true }));
    await q.dropColumn('message_outbox', 'action');
  }
}
