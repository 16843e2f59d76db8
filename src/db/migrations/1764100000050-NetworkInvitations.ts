import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { bool, id, text, time } from './columns';

/** Invitations to a client's personal network. */
export class NetworkInvitations1764100000050 implements MigrationInterface {
  name = 'NetworkInvitations1764100000050';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'network_invitations',
        columns: [
          id('id', { isPrimary: true }),
          id('client_id'),
          id('invited_by'),
          text('name', 200),
          text('email', 254),
          text('language', 10),
          text('permissions', 400),
          bool('admin', false),
          text('token_hash', 64),
          time('expires_at'),
          time('accepted_at', { isNullable: true }),
          time('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_network_invitations_client', columnNames: ['client_id'] }),
          new TableIndex({ name: 'uq_network_invitations_token', columnNames: ['token_hash'], isUnique: true }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('network_invitations', true);
  }
}
