import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotificationRefusedError, type EhrAdapter } from '../../adapters/ports';
import type { Config } from '../config';
import { ErrorCode } from '../errors';
import { BodyTooLargeError, readBody, sendError, sendJson } from '../http/io';
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
  const secret = Buffer.from(`Bearer ${config.FHIR_SUBSCRIPTION_SECRET ?? ''}`);
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> => {
    const source = url.pathname.slice('/sync/fhir/'.length);
    const found = adapter(source);
    const toEvent = found?.notificationToEvent?.bind(found);
    if (!config.FHIR_SUBSCRIPTION_SECRET || !toEvent) return sendError(res, 404, ErrorCode.NOT_FOUND, `No FHIR notification endpoint for '${source}'.`);
    if (req.method !== 'POST') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use POST.', { allow: 'POST' });
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== secret.length || !timingSafeEqual(given, secret)) {
      logger.warn({ requestId, source }, 'FHIR notification refused: authorization');
      return sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'The Authorization header does not carry the subscription secret.');
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, config.SYNC_MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendError(res, 413, ErrorCode.BAD_USER_INPUT, err.message);
      throw err;
    }
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
    const { result, row } = await sync.store(event, raw);
    sendJson(res, 202, result);
    if (row) sync.processInBackground(row, event);
  };
}
