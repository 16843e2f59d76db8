import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { Config } from '../config';
import { entities, migrations } from './registry';

/** Data source options for the configured database; migrations only, never synchronize. */
export function dataSourceOptions(database: Config['database']): DataSourceOptions {
  if (database.type === 'sqlite') {
    if (database.path !== ':memory:') mkdirSync(dirname(database.path), { recursive: true });
    return {
      type: 'better-sqlite3',
      database: database.path,
      entities,
      migrations,
      migrationsRun: false,
      synchronize: false,
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        // WAL + NORMAL: durable against crashes of the process; SQLite is the embedded default, not production.
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
      },
    };
  }
  return {
    type: 'mysql',
    url: database.url,
    entities,
    migrations,
    synchronize: false,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    // typeorm sends text queries, never prepared ones; mysql2's default statement cache (16 000
    // slots) still allocates about a megabyte per pooled connection.
    extra: { connectionLimit: 20, maxPreparedStatements: 64 },
  };
}

export async function openDatabase(database: Config['database'], runMigrations: boolean): Promise<DataSource> {
  const dataSource = new DataSource(dataSourceOptions(database));
  await dataSource.initialize();
  if (runMigrations) await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}
