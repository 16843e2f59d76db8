import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { id, int, text, time } from './columns';

interface OutboxRow {
  id: string;
  message_id: string;
  client_id: string;
  external_id: string | null;
  source: string;
  status: string;
  action: string;
  attempts: number;
  next_attempt_at: unknown;
  last_error: string | null;
  created_at: unknown;
  delivered_at: unknown;
}

/**
 * Messages go to the EHRs through the one EHR write outbox: every row of message_outbox moves to
 * ehr_writes (its send or withdrawal, its state, attempts and errors kept; the client's id in that
 * EHR read once here), and message_outbox goes. Stop every instance of the previous version before
 * migrating: one still running would write to the table that is gone.
 */
export class MessagesOntoEhrWrites1764100000130 implements MigrationInterface {
  name = 'MessagesOntoEhrWrites1764100000130';

  async up(q: QueryRunner): Promise<void> {
    const rows = (await q.query(
      `SELECT o.id, o.message_id, m.client_id, s.external_id, o.source, o.status, o.action, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.delivered_at
         FROM message_outbox o
         JOIN messages m ON m.id = o.message_id
         LEFT JOIN client_sources s ON s.client_id = m.client_id AND s.source = o.source`,
    )) as OutboxRow[];
    for (const r of rows) {
      // A source that no longer knows the client had nothing to deliver to: kept, as cancelled.
      const status = r.external_id === null && r.status === 'pending' ? 'cancelled' : r.status;
      await q.query(
        `INSERT INTO ehr_writes (id, client_id, source, method, subject, payload, status, attempts, next_attempt_at, last_error, created_at, delivered_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          r.id,
          r.client_id,
          r.source,
          r.action === 'withdraw' ? 'withdrawMessage' : 'sendMessage',
          r.message_id,
          JSON.stringify({ externalClientId: r.external_id ?? '', input: { messageId: r.message_id } }),
          status,
          r.attempts,
          r.next_attempt_at,
          r.last_error,
          r.created_at,
          r.delivered_at,
        ],
      );
    }
    await q.dropTable('message_outbox', true);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'message_outbox',
        columns: [
          id('id', { isPrimary: true }),
          id('message_id'),
          text('source', 50),
          text('status', 16),
          text('action', 16, { default: "'send'" }),
          int('attempts', { default: 0 }),
          time('next_attempt_at'),
          text('last_error', 500, { isNullable: true }),
          time('created_at'),
          time('delivered_at', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'uq_message_outbox_message_source_action', columnNames: ['message_id', 'source', 'action'], isUnique: true }),
          new TableIndex({ name: 'ix_message_outbox_due', columnNames: ['status', 'next_attempt_at'] }),
        ],
      }),
    );
    await q.query(
      `INSERT INTO message_outbox (id, message_id, source, status, action, attempts, next_attempt_at, last_error, created_at, delivered_at)
       SELECT id, subject, source, status, CASE method WHEN 'withdrawMessage' THEN 'withdraw' ELSE 'send' END, attempts, next_attempt_at, last_error, created_at, delivered_at
         FROM ehr_writes WHERE method IN ('sendMessage', 'withdrawMessage') AND status IN ('pending', 'delivered', 'cancelled', 'failed')`,
    );
    await q.query("DELETE FROM ehr_writes WHERE method IN ('sendMessage', 'withdrawMessage')");
  }
}
