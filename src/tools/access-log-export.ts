import 'reflect-metadata';
import { runAccessLogExport } from '../audit/access-log-export';

/** `npm run -s access-log:export -- --client <id> --from <date> --to <date>` (src/audit/access-log-export.ts). */
void runAccessLogExport(
  process.argv.slice(2),
  process.env,
  (line) => process.stdout.write(`${line}\n`),
  (line) => process.stderr.write(`${line}\n`),
).then((code) => {
  // Not process.exit(): stdout may still be flushing into a pipe.
  process.exitCode = code;
});
