import 'reflect-metadata';
import { loadFileStorage } from '../../adapters/loader';
import { AccessLogService } from '../audit/access-log.service';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { AttachmentsService } from '../modules/files/attachments.service';
import { RetentionJob } from '../modules/retention/retention.service';
import { createLogger } from '../observability/logger';

/**
 * `npm run -s retention -- --dry-run`: what the retention job would remove now (per table, which
 * clients, how many access-log lines), as JSON, removing nothing; `npm run -s retention -- --now`:
 * one run now, whatever the interval (still one instance at a time: the lease). Against DATABASE_URL.
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.length !== 1 || !['--dry-run', '--now'].includes(args[0])) {
    console.error('usage: npm run -s retention -- --dry-run | --now');
    return 2;
  }
  const config = loadConfig();
  const db = await openDatabase(config.database, false);
  try {
    const s3 =
      config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
        : undefined;
    const job = new RetentionJob({
      db,
      audit: new AccessLogService(db),
      attachments: new AttachmentsService(db, loadFileStorage(config.FILE_STORAGE_URL, s3), config.UPLOAD_MAX_BYTES),
      logger: createLogger('warn'),
      settings: config.retention,
    });
    const report = await job.runOnce({ dryRun: args[0] === '--dry-run', force: true });
    console.log(JSON.stringify(report, null, 2));
    if (!report.ran) console.error('retention: another instance is running the job now; try again later');
    return report.ran ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    console.error(err instanceof ConfigError ? err.message : `retention: ${err.message}`);
    process.exitCode = 1;
  },
);
