import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { bool, id, longText, text, time } from './columns';

/** Inbound practitioner-system events (stored before they are answered) and each client's video room. */
export class SyncVideo1764100000005 implements MigrationInterface {
  name = 'SyncVideo1764100000005';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'sync_events',
        columns: [
          id('id', { isPrimary: true }),
          text('event_id', 128),
          text('type', 64),
          text('source', 50),
          text('client_ref', 128, { isNullable: true }),
          time('occurred_at', { isNullable: true }),
          longText('payload'),
          time('received_at'),
          time('processed_at', { isNullable: true }),
          text('error', 500, { isNullable: true }),
        ],
        indices: [
          // The idempotency guarantee: the same event id is stored (and processed) once, whichever instance receives it.
          new TableIndex({ name: 'uq_sync_events_event_id', columnNames: ['event_id'], isUnique: true }),
          new TableIndex({ name: 'ix_sync_events_pending', columnNames: ['processed_at', 'received_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'video_rooms',
        columns: [
          id('client_id', { isPrimary: true }),
          bool('ready', false),
          text('practitioner_id', 200, { isNullable: true }),
          text('join_url', 1000, { isNullable: true }),
          time('ready_since', { isNullable: true }),
          time('refreshed_at'),
          text('last_event_id', 128, { isNullable: true }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('video_rooms');
    await q.dropTable('sync_events');
  }
}
