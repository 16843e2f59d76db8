import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { EhrWriteEntity } from '../modules/ehr/ehr-write.entity';
import { requeueFailedWrites } from '../modules/ehr/ehr-writes';

/**
 * `npm run outbox -- list`: the dead letters of the EHR write outbox (messages and every other
 * write) that no EHR took after OUTBOX_MAX_ATTEMPTS, with their last error; `npm run outbox --
 * requeue [subject …]`: puts them (or those about the given message ids or subjects) back in line
 * once the cause is fixed. Against DATABASE_URL, beside running instances.
 */
async function main(): Promise<void> {
  const [command, ...ids] = process.argv.slice(2);
  if (command !== 'list' && command !== 'requeue') {
    console.error('usage: npm run outbox -- list | requeue [subject (a message id, an assignment id…) …]');
    process.exit(2);
  }
  const db = await openDatabase(loadConfig().database, false);
  try {
    if (command === 'list') {
      const writes = await db.getRepository(EhrWriteEntity).find({ where: { status: 'failed' }, order: { createdAt: 'ASC' } });
      for (const w of writes)
        console.log(`${w.subject}  ${w.source}  ${w.method}  ${w.attempts} attempts  since ${w.createdAt.toISOString()}  ${w.lastError ?? ''}`);
      console.log(`${writes.length} write(s) as dead letters`);
    } else {
      console.log(`requeued: ${await requeueFailedWrites(db, ids)} write(s)`);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `outbox: ${(err as Error).message}`);
  process.exit(1);
});
