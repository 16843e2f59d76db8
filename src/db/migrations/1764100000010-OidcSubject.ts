import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { text } from './columns';

/** Accounts found by a broker's pseudonym: a keyed hash of (issuer, subject), beside the BSN hash. */
export class OidcSubject1764100000010 implements MigrationInterface {
  name = 'OidcSubject1764100000010';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('accounts', new TableColumn(text('oidc_subject_hash', 64, { isNullable: true })));
    // A separate unique index (not a column constraint) reads the same on SQLite and MariaDB.
    await q.createIndex('accounts', new TableIndex({ name: 'uq_accounts_oidc_subject_hash', columnNames: ['oidc_subject_hash'], isUnique: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('accounts', 'uq_accounts_oidc_subject_hash');
    await q.dropColumn('accounts', 'oidc_subject_hash');
  }
}
