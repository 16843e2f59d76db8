import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { MessageOutboxEntity } from '../modules/messages/message.entity';
import { requeueDeadLetters } from '../modules/messages/message-outbox';

/**
 * `npm run outbox -- list`: the dead letters (writes no EHR took after OUTBOX_MAX_ATTEMPTS), with
 * their last error; `npm run outbox -- requeue [messageId …]`: puts them (or those of the given
 * messages) back in line once the cause is fixed. Against DATABASE_URL, beside running instances.
 */
async function main(): Promise<void> {
  const [command, ...ids] = process.argv.slice(2);
  if (command !== 'list' && command !== 'requeue') {
    console.error('usage: npm run outbox -- list | requeue [messageId …]');
    process.exit(2);
  }
  const db = await openDatabase(loadConfig().database, false);
  try {
    if (command === 'list') {
      const rows = await db.getRepository(MessageOutboxEntity).find({ where: { status: 'failed' }, order: { createdAt: 'ASC' } });
      for (const r of rows)
        console.log(`${r.messageId}  ${r.source}  ${r.action}  ${r.attempts} attempts  since ${r.createdAt.toISOString()}  ${r.lastError ?? ''}`);
      console.log(`${rows.length} dead letter(s)`);
    } else {
      console.log(`requeued: ${await requeueDeadLetters(db, ids)}`);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `outbox: ${(err as Error).message}`);
  process.exit(1);
});
