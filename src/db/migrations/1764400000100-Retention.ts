import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { id, text, time } from './columns';

const APPEND_ONLY = "'access_log is append-only'";

/**
 * Retention: when each source's treatment of a client ended (the date the retention job counts
 * from), the lease that lets one instance at a time run the job, and the one DELETE the access log
 * allows: lines older than the marker row the pruning transaction writes (and removes) itself.
 */
export class Retention1764400000100 implements MigrationInterface {
  name = 'Retention1764400000100';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'client_treatment_ends',
        columns: [id('id', { isPrimary: true }), id('client_id'), text('source', 50), time('ended_at', { isNullable: true })],
        indices: [new TableIndex({ name: 'uq_client_treatment_ends_client_source', columnNames: ['client_id', 'source'], isUnique: true })],
      }),
    );
    await q.createTable(new Table({ name: 'retention_removals', columns: [id('client_id', { isPrimary: true }), time('removed_at')] }));
    await q.createTable(
      new Table({
        name: 'job_leases',
        columns: [
          text('name', 64, { isPrimary: true }),
          text('holder', 64, { isNullable: true }),
          time('expires_at'),
          time('last_run_at', { isNullable: true }),
        ],
      }),
    );
    await q.createTable(new Table({ name: 'access_log_prune', columns: [id('id', { isPrimary: true }), time('before_at')] }));
    await q.query('DROP TRIGGER access_log_no_delete');
    if (isMysql(q)) {
      await q.query(
        `CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log FOR EACH ROW BEGIN ` +
          `IF NOT EXISTS (SELECT 1 FROM access_log_prune p WHERE OLD.at < p.before_at) THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = ${APPEND_ONLY}; END IF; END`,
      );
    } else {
      await q.query(
        `CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log ` +
          `WHEN NOT EXISTS (SELECT 1 FROM access_log_prune p WHERE OLD.at < p.before_at) BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER access_log_no_delete');
    if (isMysql(q)) {
      await q.query(`CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = ${APPEND_ONLY}`);
    } else {
      await q.query(`CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END`);
    }
    await q.dropTable('access_log_prune', true);
    await q.dropTable('job_leases', true);
    await q.dropTable('retention_removals', true);
    await q.dropTable('client_treatment_ends', true);
  }
}

const isMysql = (q: QueryRunner) => q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
