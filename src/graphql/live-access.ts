import type { EhrClient } from '../../adapters/ports';
import type { Abilities, PortalAccess } from '../auth/abilities';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import type { AuthViewer } from '../auth/sessions.service';
import { PARENT_ACCESS } from '../modules/consents/consents.service';
import { AppError } from './errors';
import { accessIn, ASK_CHILD_CONSENT, createContext, portalRefusal } from './context';

/**
 * Authorises the subscribers of one event again, all at once. A subscription's context is built
 * once, so its memoised portal links would keep a revoked right alive: this asks again, by the
 * rules every request follows (accessIn, portalRefusal): the session still active, the relation
 * and the ability, the treatment-ended and minors rules. One deny-list and session read, one read
 * of the links (kept in memory while no link changed anywhere), one client record and at most one
 * consent read for all of them, then a plain loop. Answers, per viewer in order, the rights, or
 * null when the event must not reach that viewer (the caller ends that stream).
 */
export async function reauthorizeSeats(
  services: Services,
  logger: Logger,
  clientId: string,
  viewers: readonly AuthViewer[],
  needed?: keyof Abilities,
): Promise<({ access: PortalAccess; can: Abilities } | null)[]> {
  if (!viewers.length) return [];
  const [active, links, profile] = await Promise.all([
    services.sessions.activeMany(viewers.map((v) => v.sessionId)),
    services.accounts.livePortalsMany(viewers.map((v) => v.accountId)),
    sharedPortalProfile(services, logger)(clientId),
  ]);
  let childConsent: Promise<boolean> | undefined;
  const answers = viewers.map((viewer, i) => {
    if (!active[i]) return null;
    try {
      const granted = accessIn(viewer, links[i]!, clientId, needed);
      const refusal = portalRefusal(services.config, profile, granted.access, false);
      if (refusal === ASK_CHILD_CONSENT) {
        childConsent ??= services.consents.isGranted(clientId, PARENT_ACCESS);
        return childConsent.then((consented) => (consented ? granted : null));
      }
      return refusal ? null : granted;
    } catch (err) {
      if (err instanceof AppError) return null;
      throw err;
    }
  });
  return childConsent ? Promise.all(answers) : (answers as ({ access: PortalAccess; can: Abilities } | null)[]);
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
