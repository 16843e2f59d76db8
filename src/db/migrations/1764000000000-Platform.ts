import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { bool, id, text, time } from './columns';

/** Accounts, clients and their sources, portal links, sessions, and the append-only access log. */
export class Platform1764000000000 implements MigrationInterface {
  name = 'Platform1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'accounts',
        columns: [
          id('id', { isPrimary: true }),
          text('email', 254, { isNullable: true, isUnique: true }),
          text('display_name', 200),
          text('bsn_hash', 64, { isNullable: true, isUnique: true }),
          id('preferred_client_id', { isNullable: true }),
          time('last_login_at', { isNullable: true }),
          time('previous_login_at', { isNullable: true }),
          bool('notify_new_message', true),
          bool('notify_new_document', true),
          bool('notify_new_appointment', true),
          bool('notify_new_questionnaire', true),
          time('created_at'),
        ],
      }),
    );
    await q.createTable(new Table({ name: 'clients', columns: [id('id', { isPrimary: true }), time('created_at')] }));
    await q.createTable(
      new Table({
        name: 'client_sources',
        columns: [id('id', { isPrimary: true }), id('client_id'), text('source', 50), text('external_id', 128)],
        indices: [
          new TableIndex({ name: 'uq_client_sources_source_external', columnNames: ['source', 'external_id'], isUnique: true }),
          new TableIndex({ name: 'ix_client_sources_client', columnNames: ['client_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'portal_links',
        columns: [
          id('id', { isPrimary: true }),
          id('account_id'),
          id('client_id'),
          text('relation', 20),
          text('permissions', 400),
          bool('is_admin', false),
          time('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_portal_links_account_client', columnNames: ['account_id', 'client_id'], isUnique: true }),
          new TableIndex({ name: 'ix_portal_links_client', columnNames: ['client_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'access_log',
        columns: [
          id('id', { isPrimary: true }),
          time('at'),
          text('action', 1),
          text('event_type', 80),
          text('resource', 200),
          id('client_id'),
          id('account_id', { isNullable: true }),
          text('actor_name', 200),
          text('actor_role', 40),
          text('on_behalf_of', 200, { isNullable: true }),
          text('access_point', 64, { isNullable: true }),
          text('request_id', 64, { isNullable: true }),
          bool('authorisation_applied', true),
          bool('treatment_relationship', false),
          bool('consent_applied', false),
          bool('emergency_access', false),
        ],
        indices: [new TableIndex({ name: 'ix_access_log_client_at', columnNames: ['client_id', 'at'] })],
      }),
    );
    await forbidChanges(q, 'access_log');
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          id('id', { isPrimary: true }),
          id('account_id'),
          text('method', 20),
          time('created_at'),
          time('last_used_at'),
          time('expires_at'),
          time('revoked_at', { isNullable: true }),
          text('revoked_reason', 40, { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'ix_sessions_account', columnNames: ['account_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'refresh_tokens',
        columns: [id('id', { isPrimary: true }), id('session_id'), text('token_hash', 64), time('created_at'), time('used_at', { isNullable: true })],
        indices: [
          new TableIndex({ name: 'ix_refresh_tokens_session', columnNames: ['session_id'] }),
          new TableIndex({ name: 'uq_refresh_tokens_hash', columnNames: ['token_hash'], isUnique: true }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['refresh_tokens', 'sessions', 'access_log', 'portal_links', 'client_sources', 'clients', 'accounts']) await q.dropTable(table, true);
  }
}

/** The access log is append-only: the database itself refuses UPDATE and DELETE on it. */
async function forbidChanges(q: QueryRunner, table: string): Promise<void> {
  const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
  for (const op of ['UPDATE', 'DELETE']) {
    const name = `${table}_no_${op.toLowerCase()}`;
    if (mysql) {
      await q.query(`CREATE TRIGGER ${name} BEFORE ${op} ON ${table} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${table} is append-only'`);
    } else {
      await q.query(`CREATE TRIGGER ${name} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`);
    }
  }
}
