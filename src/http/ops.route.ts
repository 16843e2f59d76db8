import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import type { Services } from '../services';
import { sendError, sendJson } from './io';

type Check = { ok: boolean; error?: string; [key: string]: unknown };

/** The promise's answer, or a rejection once `ms` passed without one. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}

async function timed(fn: () => Promise<unknown>, ms: number): Promise<Check> {
  try {
    await within(fn(), ms);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** /healthz (process up), /readyz (this instance can serve; its dependencies in the body), /metrics (Prometheus). */
export function opsRoutes(
  services: Services,
  db: DataSource,
  isShuttingDown: () => boolean,
  /** The outbox to the EHRs: rows waiting and dead letters. */
  outbox: () => Promise<{ pending: number; failed: number }>,
  /** Inbound sync events: waiting to be processed, and given up. */
  syncEvents: () => Promise<{ pending: number; givenUp: number }>,
) {
  return {
    healthz(_req: IncomingMessage, res: ServerResponse) {
      sendJson(res, 200, { status: 'ok' });
    },
    /**
     * Readiness is about this instance being able to serve: its database answers and it is not
     * shutting down. Redis and the EHRs are reported in the body (and in /metrics), never in the
     * status: with Redis away the instance serves on (the database decides, limits count locally),
     * and with one EHR away the other parts, the portal's own data and the cache still answer, so an
     * orchestrator routing by readiness must not take every instance out. No EHR is called here.
     */
    async readyz(_req: IncomingMessage, res: ServerResponse) {
      let writes: { pending: number; failed: number } | { error: string } = { pending: 0, failed: 0 };
      let inbound: { pending: number; givenUp: number } | { error: string } = { pending: 0, givenUp: 0 };
      const [database, cache] = await Promise.all([
        timed(() => db.query('SELECT 1'), 2000),
        services.config.REDIS_URL
          ? timed(() => services.kv.ping(), services.config.REDIS_COMMAND_TIMEOUT_MS + 100)
          : Promise.resolve({ ok: true, mode: 'in-process' } as Check),
        within(outbox(), 2000).then(
          (counts) => void (writes = counts),
          (err: Error) => void (writes = { error: err.message }),
        ),
        within(syncEvents(), 2000).then(
          (counts) => void (inbound = counts),
          (err: Error) => void (inbound = { error: err.message }),
        ),
      ]);
      const adapters = services.registry.health();
      const koppeltaal = services.ehealth.health();
      const ready = !isShuttingDown() && database.ok;
      // A dead letter is a write a client made that no EHR has: the operator must look (it is kept, and requeued by hand).
      const degraded = !cache.ok || Object.values(adapters).some((a) => a.state !== 'closed') || ('failed' in writes && writes.failed > 0);
      sendJson(res, ready ? 200 : 503, {
        status: !ready ? 'not ready' : degraded ? 'degraded' : 'ready',
        shuttingDown: isShuttingDown(),
        database,
        redis: cache,
        adapters,
        // The Koppeltaal domain, when configured: only the eHealth modules depend on it.
        ...(koppeltaal ? { koppeltaal } : {}),
        outbox: writes,
        // Given up: a practitioner's message or an invitation that never reached the portal (npm run sync-events -- list).
        syncEvents: inbound,
      });
    },
    async metrics(req: IncomingMessage, res: ServerResponse) {
      // Counts and names of operations are for the operator, not for the public.
      if (!metricsAllowed(services.config.METRICS_ALLOW, req.socket.remoteAddress)) {
        return sendError(res, 403, 'FORBIDDEN', 'Metrics are served only to the addresses in METRICS_ALLOW.');
      }
      const text = await services.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': services.metrics.registry.contentType });
      res.end(text);
    },
  };
}

/** Whether a peer may read /metrics: by its socket address (an IPv4 peer may appear as ::ffff:a.b.c.d). */
export function metricsAllowed(allow: string, peer: string | undefined): boolean {
  if (allow.trim() === '*') return true;
  if (!peer) return false;
  const address = peer.startsWith('::ffff:') ? peer.slice(7) : peer;
  return allow.split(',').some((a) => a.trim() === address || a.trim() === peer);
}
