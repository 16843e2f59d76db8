import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';
import type { RateLimiter } from '../kv/rate-limit';
import { ErrorCode, RateLimitedError } from '../errors';
import { BodyTooLargeError, readBody, sendError, sendJson } from '../http/io';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { parseSyncEvent, SyncEventInvalidError, type SyncService } from './sync.service';
import { verifySyncSignature } from './sync.signature';

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * POST /sync/events from practitioner systems (../shared/contract/http.md): size limit, then the
 * signature over the raw bytes, then the body; 202 only once the event is stored.
 */
export function syncRoute(
  config: Pick<Config, 'syncSecret' | 'SYNC_MAX_BODY_BYTES' | 'SYNC_RATE_LIMIT_PER_MINUTE'>,
  sync: SyncService,
  logger: Logger,
  metrics: Metrics,
  limiter: RateLimiter,
) {
  return async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    if (req.method !== 'POST') {
      sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use POST.', { allow: 'POST' });
      return;
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, config.SYNC_MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendError(res, 413, ErrorCode.BAD_USER_INPUT, err.message, { connection: 'close' });
        return;
      }
      throw err;
    }
    // The signature comes before parsing: an unsigned body is never even read as JSON.
    const check = verifySyncSignature(config.syncSecret, { signature: header(req, 'x-signature'), timestamp: header(req, 'x-signature-timestamp') }, raw);
    if (!check.ok) {
      logger.warn({ requestId, reason: check.reason }, 'sync event refused: signature');
      metrics.syncEvents.inc({ type: 'unknown', outcome: 'refused' });
      sendError(res, 401, ErrorCode.UNAUTHENTICATED, check.reason);
      return;
    }
    let event;
    try {
      event = parseSyncEvent(raw);
    } catch (err) {
      if (err instanceof SyncEventInvalidError) {
        metrics.syncEvents.inc({ type: 'unknown', outcome: 'invalid' });
        sendError(res, 400, ErrorCode.BAD_USER_INPUT, err.message);
        return;
      }
      throw err;
    }
    // Per source system, after the signature: a runaway sender is slowed down, the others are not.
    if (config.SYNC_RATE_LIMIT_PER_MINUTE > 0) {
      try {
        await limiter.hit('sync', event.source, { max: config.SYNC_RATE_LIMIT_PER_MINUTE, windowSeconds: 60 });
      } catch (err) {
        if (!(err instanceof RateLimitedError)) throw err;
        metrics.syncEvents.inc({ type: event.type, outcome: 'rate_limited' });
        sendError(res, 429, ErrorCode.RATE_LIMITED, `Too many events from '${event.source}'; send again in ${err.retryAfterSeconds} seconds.`, {
          'retry-after': String(err.retryAfterSeconds),
        });
        return;
      }
    }
    const { result, row } = await sync.store(event, raw);
    metrics.syncEvents.inc({ type: event.type, outcome: result.status });
    sendJson(res, 202, result);
    if (row) sync.processInBackground(row, event);
  };
}
