import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { MessageOutboxEntity } from '../modules/messages/message.entity';
import { requeueDeadLetters } from '../modules/messages/message-outbox';
import { EhrWriteEntity } from '../modules/ehr/ehr-write.entity';
import { requeueFailedWrites } from '../modules/ehr/ehr-writes';

/**
 * `npm run outbox -- list`: the dead letters of both outboxes (messages, and the client's other
 * writes) that no EHR took after OUTBOX_MAX_ATTEMPTS, with their last error; `npm run outbox --
 * requeue [id …]`: puts them (or those of the given message ids or write subjects) back in line
 * once the cause is fixed. Against DATABASE_URL, beside running instances.
 */
async function main(): Promise<void> {
  const [command, ...ids] = process.argv.slice(2);
  if (command !== 'list' && command !== 'requeue') {
    console.error('usage: npm run outbox -- list | requeue [messageId or subject …]');
    process.exit(2);
  }
  const db = await openDatabase(loadConfig().database, false);
  try {
    if (command === 'list') {
      const rows = await db.getRepository(MessageOutboxEntity).find({ where: { status: 'failed' }, order: { createdAt: 'ASC' } });
      for (const r of rows)
        console.log(`${r.messageId}  ${r.source}  ${r.action}  ${r.attempts} attempts  since ${r.createdAt.toISOString()}  ${r.lastError ?? ''}`);
      const writes = await db.getRepository(EhrWriteEntity).find({ where: { status: 'failed' }, order: { createdAt: 'ASC' } });
      for (const w of writes)
        console.log(`${w.subject}  ${w.source}  ${w.method}  ${w.attempts} attempts  since ${w.createdAt.toISOString()}  ${w.lastError ?? ''}`);
      console.log(`${rows.length} message(s) and ${writes.length} other write(s) as dead letters`);
    } else {
      console.log(`requeued: ${await requeueDeadLetters(db, ids)} message(s), ${await requeueFailedWrites(db, ids)} other write(s)`);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `outbox: ${(err as Error).message}`);
  process.exit(1);
});
