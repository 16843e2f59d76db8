import { hostname } from 'node:os';
import type { DataSource } from 'typeorm';
import { nextDay, startOfDutchDay } from '../../adapters/ports';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { ClientsService } from '../modules/clients/clients.service';
import type { AccessLogEntity } from './access-log.entity';
import { AccessLogService } from './access-log.service';

/** What the privacy officer asks for: one client's lines in a period. */
export interface AccessLogExportRequest {
  /** The portal's client id, or `source:externalId` as an EHR knows the client. */
  client: string;
  from: Date;
  /** Exclusive; a date alone (`--to 2026-03-31`) means through the end of that day. */
  to: Date;
  /** Who exports (`--by`, default the operating-system user): the export is itself a line in the client's log. */
  by?: string;
}

export class UsageError extends Error {}

export const EXPORT_USAGE =
  'usage: npm run -s access-log:export -- --client <client id | source:externalId> --from <YYYY-MM-DD | ISO time> --to <YYYY-MM-DD | ISO time> [--by <name>]';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Reads `--client`, `--from`, `--to` and optionally `--by` (each once, `--name value` or `--name=value`); throws UsageError saying what is wrong. */
export function parseExportArgs(argv: readonly string[]): AccessLogExportRequest {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--(client|from|to|by)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unknown argument '${arg.slice(0, 40)}'`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError(`--${match[1]} needs a value`);
    if (given.has(match[1])) throw new UsageError(`--${match[1]} given twice`);
    given.set(match[1], value);
  }
  for (const name of ['client', 'from', 'to']) if (!given.has(name)) throw new UsageError(`--${name} is required`);
  const from = parseTime('from', given.get('from')!, false);
  const to = parseTime('to', given.get('to')!, true);
  if (from >= to) throw new UsageError('--to must be later than --from');
  const by = given.get('by')?.trim().slice(0, 200);
  return { client: given.get('client')!, from, to, ...(by ? { by } : {}) };
}

/**
 * A date is a Dutch calendar day (the client's "1 March" begins at 00:00 in Amsterdam): `--from`
 * its start, `--to` the start of the day after, so the day itself is in the export.
 */
function parseTime(name: string, value: string, endOfDay: boolean): Date {
  const valid = DATE.test(value) ? !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) : DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
  if (!valid) throw new UsageError(`--${name} must be a date (YYYY-MM-DD) or an ISO 8601 time with its offset, got '${value.slice(0, 40)}'`);
  if (!DATE.test(value)) return new Date(value);
  return startOfDutchDay(endOfDay ? nextDay(value) : value);
}

/** One access-log line with every NEN 7513 field, as the export prints it (README, "The access log"). */
export function exportLine(row: AccessLogEntity, client: { id: string; sources: { source: string; externalId: string }[] }): Record<string, unknown> {
  return {
    id: row.id,
    time: row.at.toISOString(),
    action: row.action,
    eventType: row.eventType,
    data: row.resource,
    clientId: client.id,
    clientSources: client.sources,
    userAccountId: row.accountId,
    userName: row.actorName,
    userRole: row.actorRole,
    // The client in person acts for themselves: the responsible user is the user.
    responsibleUser: row.onBehalfOf ?? row.actorName,
    accessPoint: row.accessPoint,
    requestId: row.requestId,
    authorisationApplied: row.authorisationApplied,
    treatmentRelationship: row.treatmentRelationship,
    consentApplied: row.consentApplied,
    emergencyAccess: row.emergencyAccess,
  };
}

/** Writes the client's lines in the period, oldest first, one JSON object a line; answers how many. Throws UsageError for an unknown client. */
export async function exportAccessLog(
  db: DataSource,
  audit: AccessLogService,
  request: AccessLogExportRequest,
  write: (line: string) => void,
): Promise<number> {
  const clients = new ClientsService(db);
  const sourcesOf = async (id: string) => (await clients.sourcesOf([id])).get(id) ?? [];
  let clientId = request.client;
  let refs = await sourcesOf(clientId);
  if (!refs.length) {
    const at = request.client.indexOf(':');
    const bySource = at > 0 ? await clients.existingClientId({ source: request.client.slice(0, at), externalId: request.client.slice(at + 1) }) : null;
    if (!bySource) throw new UsageError(`no client '${request.client.slice(0, 140)}' (give the portal's client id or source:externalId)`);
    clientId = bySource;
    refs = await sourcesOf(clientId);
  }
  const client = { id: clientId, sources: refs.map((r) => ({ source: r.source, externalId: r.externalId })) };
  // Reading the log is an access to the client's record too: logged before a line leaves (fail closed), as the portal's reads are.
  await audit.record({
    action: 'E',
    eventType: 'access-log.export',
    resource: `Toegangslog geëxporteerd: ${request.from.toISOString()} tot ${request.to.toISOString()}`,
    clientId,
    accountId: null,
    actorName: request.by ?? 'operator',
    actorRole: 'PRIVACY_OFFICER',
    accessPoint: `access-log:export on ${hostname()}`,
  });
  let count = 0;
  let after: { at: Date; id: string } | undefined;
  for (;;) {
    const rows = await audit.listForExport(clientId, request.from, request.to, 1000, after);
    for (const row of rows) write(JSON.stringify(exportLine(row, client)));
    count += rows.length;
    if (rows.length < 1000) return count;
    after = { at: rows[rows.length - 1].at, id: rows[rows.length - 1].id };
  }
}

/**
 * `npm run -s access-log:export -- --client <id> --from <date> --to <date>`: one client's access-log
 * lines of a period as JSON lines on stdout (every NEN 7513 field), for the privacy officer.
 * Against DATABASE_URL, beside running instances; reads only. Exit 2 for bad arguments.
 */
export async function runAccessLogExport(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let request: AccessLogExportRequest;
  try {
    request = parseExportArgs(argv);
  } catch (e) {
    err(`access-log:export: ${(e as Error).message}\n${EXPORT_USAGE}`);
    return 2;
  }
  let db: DataSource;
  try {
    db = await openDatabase(loadConfig(env).database, false);
  } catch (e) {
    err(e instanceof ConfigError ? e.message : `access-log:export: ${(e as Error).message}`);
    return 1;
  }
  try {
    const count = await exportAccessLog(db, new AccessLogService(db), { ...request, by: request.by ?? env.USER ?? env.LOGNAME }, out);
    err(`access-log:export: ${count} line(s)`);
    return 0;
  } catch (e) {
    err(`access-log:export: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    await db.destroy();
  }
}
