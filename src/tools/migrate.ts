import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';

/** `npm run migrate`: runs pending migrations against DATABASE_URL and lists what ran. */
async function main(): Promise<void> {
  const config = loadConfig();
  const dataSource = await openDatabase(config.database, false);
  const ran = await dataSource.runMigrations({ transaction: 'each' });
  console.log(ran.length ? `migrated: ${ran.map((m) => m.name).join(', ')}` : 'migrations: nothing pending');
  await dataSource.destroy();
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `migration failed: ${(err as Error).message}`);
  process.exit(1);
});
