import type { Abilities, PortalAccess } from '../auth/abilities';
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
  if (!(await ctx.services.sessions.isActive(viewer.sessionId))) return null;
  const fresh = createContext({ services: ctx.services, logger: ctx.logger, requestId: ctx.requestId, ip: ctx.ip, viewer });
  try {
    const { access, can } = await authorizeClientAccess(fresh, clientId, needed);
    return { ctx: fresh, access, can };
  } catch (err) {
    if (err instanceof AppError) return null;
    throw err;
  }
}
