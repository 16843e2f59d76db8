import type { EhrClient } from '../../adapters/ports';
import { authorizeMany, decide, PARENT_ACCESS, type Action, type GateReader, type Grant, type SeatReaders } from '../auth/access';
import type { AuthViewer } from '../auth/tokens';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { createContext } from './context';
import type { ForbiddenError, UnauthenticatedError } from '../errors';

/**
 * Authorises the subscribers of one event again, all at once, through the gate's batched form. A
 * subscription's context is built once, so its memoised links would keep a revoked right alive:
 * this reads again: the sessions (deny-list and rows), the links (kept in memory while no link
 * changed anywhere), the client's record once and the child's consent at most once.
 */
export function reauthorizeSeats(
  services: Services,
  logger: Logger,
  clientId: string,
  viewers: readonly AuthViewer[],
  action: Action,
): Promise<(Grant | null)[]> {
  return authorizeMany(seatReaders(services, logger), clientId, viewers, action);
}

/** What the batched gate reads, from this instance's services. */
export function seatReaders(services: Services, logger: Logger): SeatReaders {
  return {
    settings: services.config,
    sessionsActive: (ids) => services.sessions.activeMany(ids),
    links: (ids) => services.accounts.livePortalsMany(ids),
    profile: sharedPortalProfile(services, logger),
    childConsented: (clientId) => services.consents.isGranted(clientId, PARENT_ACCESS),
  };
}

// A cache for one tick only, per app instance (its Services), dropped at the next turn.
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
    profile = system.profile(clientId);
    tick.set(clientId, profile);
  }
  return profile;
}

/**
 * The gate for an account outside a request (a signed download link, a mail about a new message):
 * its links as they are now, the client's record, the child's consent. `mustChangePassword`: the
 * account's password was set for it and must be replaced first (no client data until then).
 */
export function authorizeAccount(
  services: Services,
  logger: Logger,
  accountId: string,
  clientId: string,
  action: Action,
  options: { mustChangePassword?: boolean } = {},
): Promise<Grant | ForbiddenError | UnauthenticatedError> {
  const reader: GateReader = {
    viewer: { accountId, sessionId: '', tokenId: '', expiresAt: 0, mustChangePassword: options.mustChangePassword ?? false },
    settings: services.config,
    portals: () => services.accounts.portals(accountId),
    profile: sharedPortalProfile(services, logger),
    childConsented: (id) => services.consents.isGranted(id, PARENT_ACCESS),
  };
  return decide(reader, clientId, action);
}
