import type { EhrClient } from '../../adapters/ports';
import type { Abilities, PortalAccess } from '../auth/abilities';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { AppError } from './errors';
import { authorizeClientAccess, createContext, requireViewer, type GatewayContext } from './context';

export interface LiveAccess {
  /** A fresh context for this one event: current portal links, its own DataLoaders and audit writer. */
  ctx: GatewayContext;
  access: PortalAccess;
  can: Abilities;
}

/**
 * Authorises a subscriber again for one event. A subscription's context is built once, so its
 * memoised portal links would keep a revoked right alive: this asks again with a fresh context
 * (session still active, the relation and the ability, treatment-ended and minors rules).
 * Answers null when the viewer may no longer have the event; the caller ends the stream.
 */
export async function reauthorizeLive(ctx: GatewayContext, clientId: string, needed?: keyof Abilities): Promise<LiveAccess | null> {
  const viewer = requireViewer(ctx);
  const profile = sharedPortalProfile(ctx.services, ctx.rootLogger);
  const fresh = createContext({
    services: ctx.services,
    logger: ctx.rootLogger,
    logBindings: { requestId: ctx.requestId },
    requestId: ctx.requestId,
    ip: ctx.ip,
    viewer,
    portalProfile: profile,
    portalsOf: (accountId) => ctx.services.accounts.livePortals(accountId),
  });
  // The session, the links and the client's record are read side by side (each batched or shared
  // over the event's subscribers), not one after another; nothing leaves before all three agree.
  const portals = fresh.portals();
  void profile(clientId).catch(() => undefined);
  portals.catch(() => undefined);
  if (!(await ctx.services.sessions.isActive(viewer.sessionId))) return null;
  try {
    const { access, can } = await authorizeClientAccess(fresh, clientId, needed);
    return { ctx: fresh, access, can };
  } catch (err) {
    if (err instanceof AppError) return null;
    throw err;
  }
}

const profiles = new WeakMap<Services, Map<string, Promise<EhrClient | null>>>();

/**
 * The subscribers of one event re-authorise together, in the same tick (as do sockets subscribing
 * together after a restart): they share one read of the client's record for the portal rules
 * instead of one EHR (or cache) read each. Kept for this tick only, so the next event reads again.
 */
export function sharedPortalProfile(services: Services, logger: Logger): (clientId: string) => Promise<EhrClient | null> {
  return (clientId) => profileThisTick(services, logger, clientId);
}

function profileThisTick(services: Services, logger: Logger, clientId: string): Promise<EhrClient | null> {
  let tick = profiles.get(services);
  if (!tick) {
    tick = new Map();
    profiles.set(services, tick);
    setImmediate(() => profiles.delete(services));
  }
  let profile = tick.get(clientId);
  if (!profile) {
    // A read for the access rules on nobody's behalf: no viewer's account goes upstream with it.
    const system = createContext({ services, logger, requestId: 'live-authorisation', ip: null, viewer: null });
    profile = system.portalProfile(clientId);
    tick.set(clientId, profile);
  }
  return profile;
}
