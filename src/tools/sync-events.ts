import 'reflect-metadata';
import { IsNull, Not } from 'typeorm';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { SyncEventEntity } from '../events/sync-event.entity';
import { requeueGivenUpEvents } from '../events/sync.service';

/**
 * `npm run sync-events -- list`: the inbound sync events given up (a practitioner's message, an
 * invitation, a room or treatment event that could not be processed after SYNC_RETRY_MAX_ATTEMPTS
 * tries, or was refused as it can never succeed), with their last error; `npm run sync-events --
 * requeue [event id …]`: puts them (or those with the given event ids) back in line once the cause
 * is fixed. Against DATABASE_URL, beside running instances. Nothing of an event's content is printed.
 */
async function main(): Promise<void> {
  const [command, ...ids] = process.argv.slice(2);
  if (command !== 'list' && command !== 'requeue') {
    console.error('usage: npm run sync-events -- list | requeue [event id …]');
    process.exit(2);
  }
  const db = await openDatabase(loadConfig().database, false);
  try {
    if (command === 'list') {
      const events = await db.getRepository(SyncEventEntity).find({
        where: { processedAt: IsNull(), nextAttemptAt: IsNull(), error: Not(IsNull()) },
        order: { receivedAt: 'ASC' },
      });
      for (const e of events)
        console.log(`${e.eventId}  ${e.type}  ${e.source}  ${e.attempts} attempts  received ${e.receivedAt.toISOString()}  ${e.error ?? ''}`);
      console.log(`${events.length} event(s) given up`);
    } else {
      console.log(`requeued: ${await requeueGivenUpEvents(db, ids)} event(s)`);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `sync-events: ${(err as Error).message}`);
  process.exit(1);
});
