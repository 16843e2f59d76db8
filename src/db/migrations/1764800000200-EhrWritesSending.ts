import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { time } from './columns';

/** Until when a write is being handed to its EHR (its claim): a newer write of the same thing waits for it. */
export class EhrWritesSending1764800000200 implements MigrationInterface {
  name = 'EhrWritesSending1764800000200';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('ehr_writes', new TableColumn(time('sending_until', { isNullable: true })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('ehr_writes', 'sending_until');
  }
}
