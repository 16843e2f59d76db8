import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { time } from './columns';

/** When the stored treatment end was reported (an event's arrival, an EHR read), so an older report never overrides a later one. */
export class TreatmentEndReports1764800000100 implements MigrationInterface {
  name = 'TreatmentEndReports1764800000100';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('client_treatment_ends', new TableColumn(time('reported_at', { isNullable: true })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('client_treatment_ends', 'reported_at');
  }
}
