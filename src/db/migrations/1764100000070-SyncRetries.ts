import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { int, time } from './columns';

/** Failed sync events are tried again with backoff: how often so far, and when next. */
export class SyncRetries1764100000070 implements MigrationInterface {
  name = 'SyncRetries1764100000070';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('sync_events', [new TableColumn(int('attempts', { default: 0 })), new TableColumn(time('next_attempt_at', { isNullable: true }))]);
    await q.createIndex('sync_events', new TableIndex({ name: 'ix_sync_events_retry', columnNames: ['next_attempt_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('sync_events', 'ix_sync_events_retry');
    await q.dropColumns('sync_events', ['attempts', 'next_attempt_at']);
  }
}
