import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config';
import { ErrorCode } from '../../errors';
import { restHookBody, sendError, sendJson } from '../../http/io';
import type { RouteHandlers } from '../../http/routes';
import type { Logger } from '../../observability/logger';
import type { EhealthService } from './ehealth.service';

/**
 * The eHealth module's HTTP routes: the JWKS that modules verify our HTI launch tokens (and the
 * domain our client assertions) with, and the Koppeltaal rest-hook. Neither is mounted without a
 * Koppeltaal domain (no key to publish that anyone verifies); the hook also needs
 * KOPPELTAAL_SUBSCRIPTION_SECRET.
 */
export function ehealthRoutes(
  config: Pick<Config, 'KOPPELTAAL_SUBSCRIPTION_SECRET' | 'SYNC_MAX_BODY_BYTES'>,
  ehealth: EhealthService,
  logger: Logger,
): RouteHandlers {
  if (!ehealth.configured) return {};
  const jwks = JSON.stringify(ehealth.jwks());
  const handlers: RouteHandlers = {
    koppeltaal_jwks: (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use GET.', { allow: 'GET' });
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300', 'content-length': Buffer.byteLength(jwks) });
      res.end(req.method === 'HEAD' ? undefined : jwks);
    },
  };
  if (config.KOPPELTAAL_SUBSCRIPTION_SECRET) handlers.koppeltaal_hook = koppeltaalHook(config, ehealth, logger);
  return handlers;
}

/**
 * POST /koppeltaal/notify: a Koppeltaal (FHIR R4 Subscription) rest-hook. Koppeltaal's
 * notifications carry no payload (or only ids), so the body is read only for Task ids; the Tasks
 * changed since the last look are read again and pushed. The Subscription's `channel.header`
 * carries `Authorization: Bearer <KOPPELTAAL_SUBSCRIPTION_SECRET>`, compared in constant time (as
 * the FHIR rest-hook of the EHRs, src/events/fhir-hook.route.ts). Answered at once; the re-read
 * runs after.
 */
function koppeltaalHook(config: Pick<Config, 'KOPPELTAAL_SUBSCRIPTION_SECRET' | 'SYNC_MAX_BODY_BYTES'>, ehealth: EhealthService, logger: Logger) {
  const secret = config.KOPPELTAAL_SUBSCRIPTION_SECRET ?? '';
  return async (req: IncomingMessage, res: ServerResponse, _url: URL, requestId: string): Promise<void> => {
    const raw = await restHookBody(req, res, secret, config.SYNC_MAX_BODY_BYTES, () =>
      logger.warn({ requestId }, 'Koppeltaal notification refused: authorization'),
    );
    if (!raw) return;
    const taskIds = taskIdsOf(raw);
    sendJson(res, 200, { status: 'ok' });
    ehealth.notified(taskIds).catch((err: Error) => logger.warn({ requestId, err: err.message }, 'Koppeltaal notification: re-reading the Tasks failed'));
  };
}

/** Task ids an id-only notification names (its entries' fullUrl or resource id); none for an empty one. */
export function taskIdsOf(raw: Buffer): string[] {
  if (!raw.length) return [];
  try {
    const body = JSON.parse(raw.toString('utf8')) as { entry?: { fullUrl?: unknown; resource?: { resourceType?: unknown; id?: unknown } }[] };
    return (body.entry ?? []).flatMap((e) => {
      if (e.resource?.resourceType === 'Task' && typeof e.resource.id === 'string') return [e.resource.id];
      const m = typeof e.fullUrl === 'string' ? /(?:^|\/)Task\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(e.fullUrl) : null;
      return m ? [m[1]] : [];
    });
  } catch {
    // Not JSON: still a change notification; the re-read by time finds what changed.
    return [];
  }
}
