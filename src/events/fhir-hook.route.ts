import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotificationRefusedError, type EhrAdapter } from '../../adapters/ports';
import type { Config } from '../config';
import { ErrorCode } from '../errors';
import { restHookBody, sendError, sendJson } from '../http/io';
import type { Logger } from '../observability/logger';
import { parseSyncEvent, SyncEventInvalidError, type SyncService } from './sync.service';

/**
 * POST /sync/fhir/<adapter>: a FHIR R4 Subscription rest-hook endpoint. R4 rest-hooks carry no
 * signature, so the Subscription sends `Authorization: Bearer <FHIR_SUBSCRIPTION_SECRET>` in
 * `channel.header`, compared in constant time. Notifications become the same stored, idempotent
 * sync events as POST /sync/events.
 */
export function fhirHookRoute(
  config: Pick<Config, 'FHIR_SUBSCRIPTION_SECRET' | 'SYNC_MAX_BODY_BYTES'>,
  adapter: (name: string) => EhrAdapter | undefined,
  sync: SyncService,
  logger: Logger,
) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> => {
    const source = url.pathname.slice('/sync/fhir/'.length);
    const found = adapter(source);
    const toEvent = found?.notificationToEvent?.bind(found);
    if (!config.FHIR_SUBSCRIPTION_SECRET || !toEvent) return sendError(res, 404, ErrorCode.NOT_FOUND, `No FHIR notification endpoint for '${source}'.`);
    const raw = await restHookBody(req, res, config.FHIR_SUBSCRIPTION_SECRET, config.SYNC_MAX_BODY_BYTES, () =>
      logger.warn({ requestId, source }, 'FHIR notification refused: authorization'),
    );
    if (!raw) return;
    // A heartbeat or handshake notification (payload empty): nothing to store.
    if (!raw.length) return sendJson(res, 200, { status: 'ok' });
    let event;
    try {
      const mapped = toEvent(JSON.parse(raw.toString('utf8')));
      event = parseSyncEvent(Buffer.from(JSON.stringify(mapped)));
    } catch (err) {
      if (err instanceof NotificationRefusedError || err instanceof SyncEventInvalidError || err instanceof SyntaxError) {
        return sendError(res, 400, ErrorCode.BAD_USER_INPUT, err instanceof SyntaxError ? 'The body is not valid JSON.' : err.message);
      }
      throw err;
    }
    // The event as mapped, not the FHIR resource: a retry (or a restart) parses what is stored as a sync event.
    const { result, row } = await sync.store(event, Buffer.from(JSON.stringify(event)));
    sendJson(res, 202, result);
    if (row) sync.processInBackground(row, event);
  };
}
