import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { text } from './columns';

/** The client's name as the EHR last gave it: the portal still shows whose it is while that EHR is down. */
export class ClientNames1764100000090 implements MigrationInterface {
  name = 'ClientNames1764100000090';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('clients', new TableColumn(text('display_name', 200, { isNullable: true })));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('clients', 'display_name');
  }
}
