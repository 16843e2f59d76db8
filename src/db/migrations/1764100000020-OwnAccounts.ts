import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { bool, id, int, text, time } from './columns';

/** Own accounts: password and second factor, login challenges, activation codes, password resets. */
export class OwnAccounts1764100000020 implements MigrationInterface {
  name = 'OwnAccounts1764100000020';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'account_credentials',
        columns: [
          id('account_id', { isPrimary: true }),
          text('password_hash', 200),
          bool('must_change_password', false),
          text('code_channel', 5, { default: "'EMAIL'" }),
          text('phone', 20, { isNullable: true }),
          bool('phone_verified', false),
          time('updated_at'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'login_challenges',
        columns: [
          id('id', { isPrimary: true }),
          id('account_id', { isNullable: true }),
          text('code_hash', 64),
          text('channel', 5),
          text('masked_destination', 100),
          time('expires_at'),
          int('attempts', { default: 0 }),
          int('resends', { default: 0 }),
          time('last_sent_at'),
          time('consumed_at', { isNullable: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'activation_codes',
        columns: [
          id('id', { isPrimary: true }),
          text('code_hash', 64),
          id('client_id'),
          text('birth_date', 10),
          text('relation', 20),
          time('expires_at'),
          int('attempts', { default: 0 }),
          time('used_at', { isNullable: true }),
          time('created_at'),
        ],
        indices: [new TableIndex({ name: 'uq_activation_codes_hash', columnNames: ['code_hash'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'password_resets',
        columns: [id('id', { isPrimary: true }), id('account_id'), text('token_hash', 64), time('expires_at'), time('used_at', { isNullable: true })],
        indices: [new TableIndex({ name: 'uq_password_resets_hash', columnNames: ['token_hash'], isUnique: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['password_resets', 'activation_codes', 'login_challenges', 'account_credentials']) await q.dropTable(table, true);
  }
}
