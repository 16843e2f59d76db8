import { abilities, PortalRelation, type Abilities, type PortalAccess } from '../auth/abilities';
import { ageInYears, parentMayAccess, portalState } from '../auth/portal-rules';
import { PARENT_ACCESS } from '../modules/consents/consents.service';
import type { EhrClient } from '../../adapters/ports';
import type { AccountEntity } from '../auth/account.entity';
import type { AuthViewer } from '../auth/sessions.service';
import type { AccessEvent } from '../audit/access-log.service';
import type { Logger } from '../observability/logger';
import { RequestEhr, type PartialFailure } from '../modules/ehr/ehr.service';
import type { Services } from '../services';
import { ForbiddenError, UnauthenticatedError } from './errors';

/** Everything one operation (HTTP request or WebSocket subscription) runs with. */
export interface GatewayContext {
  requestId: string;
  ip: string | null;
  viewer: AuthViewer | null;
  services: Services;
  logger: Logger;
  /** The logger this context's own one is a child of (for contexts made from this one). */
  rootLogger: Logger;
  ehr: RequestEhr;
  partialFailures: PartialFailure[];
  /** When the GraphQL route's direct path began executing (hrtime), so a hand-over to Apollo times the whole operation. */
  operationStarted?: bigint;
  /** Why a presented token was refused (expired, revoked), for a precise UNAUTHENTICATED message. */
  authError?: UnauthenticatedError;
  /** The viewer's account, loaded once per request. */
  account(): Promise<AccountEntity>;
  /** The viewer's portal links, loaded once per request. */
  portals(): Promise<PortalAccess[]>;
  /** Writes an access-log line; awaited before the data it covers leaves (fail closed). */
  audit(event: Omit<AccessEvent, 'accountId' | 'actorName' | 'actorRole' | 'accessPoint' | 'requestId'>, access: PortalAccess): Promise<void>;
  /** The client's record as the portal rules need it (treatment end, birth date); null when no EHR answers. */
  portalProfile(clientId: string): Promise<EhrClient | null>;
}

export interface ContextInput {
  services: Services;
  /** The parent logger; the context's own child (with `logBindings`) is made on first use. */
  logger: Logger;
  logBindings?: Record<string, unknown>;
  requestId: string;
  ip: string | null;
  viewer: AuthViewer | null;
  /** Where portalProfile reads; live re-authorisation passes one read shared by an event's subscribers. */
  portalProfile?: (clientId: string) => Promise<EhrClient | null>;
}

/**
 * The context of one operation. What an open subscription may never use (its EHR reader, its
 * child logger) is made on first use: thousands of idle sockets each hold one of these.
 */
export function createContext(input: ContextInput): GatewayContext {
  const { services, viewer } = input;
  const partialFailures: PartialFailure[] = [];
  let accountPromise: Promise<AccountEntity> | undefined;
  let portalsPromise: Promise<PortalAccess[]> | undefined;
  let writer: ((e: AccessEvent) => Promise<void>) | undefined;
  let ehr: RequestEhr | undefined;
  let logger: Logger | undefined;

  const ctx: GatewayContext = {
    services,
    requestId: input.requestId,
    ip: input.ip,
    viewer,
    partialFailures,
    rootLogger: input.logger,
    get logger() {
      return (logger ??= input.logBindings ? input.logger.child(input.logBindings) : input.logger);
    },
    get ehr() {
      return (ehr ??= new RequestEhr(
        services.registry,
        services.clients,
        { requestId: input.requestId, accountId: viewer?.accountId, onPartialFailure: (f) => partialFailures.push(f) },
        services.ehrCache,
      ));
    },
    portalProfile(clientId) {
      if (input.portalProfile) return input.portalProfile(clientId);
      // The EHR being down is no reason to lock people out of what the portal itself holds.
      return ctx.ehr.first(clientId, 'getClient', (a, id, c) => a.getClient(id, c)).catch(() => null);
    },
    account() {
      if (!viewer) return Promise.reject(ctx.authError ?? new UnauthenticatedError());
      accountPromise ??= services.accounts.findById(viewer.accountId).then((a) => {
        if (!a) throw new UnauthenticatedError('This account no longer exists.');
        return a;
      });
      return accountPromise;
    },
    portals() {
      if (!viewer) return Promise.reject(ctx.authError ?? new UnauthenticatedError());
      if (!portalsPromise) {
        // The access log needs the account after the links: asked in the same batch, not a turn later.
        ctx.account().catch(() => undefined);
      }
      portalsPromise ??= services.accounts.portals(viewer.accountId);
      return portalsPromise;
    },
    async audit(event, access) {
      const account = await ctx.account();
      writer ??= services.audit.writer();
      // Every field named (not `...event`, which V8 copies several times slower), and typed so
      // that a field added to AccessEvent cannot be left out here.
      const line: { [K in keyof Required<AccessEvent>]: AccessEvent[K] } = {
        action: event.action,
        eventType: event.eventType,
        resource: event.resource,
        clientId: event.clientId,
        treatmentRelationship: event.treatmentRelationship,
        consentApplied: event.consentApplied,
        emergencyAccess: event.emergencyAccess,
        accountId: account.id,
        actorName: account.displayName,
        actorRole: access.relation,
        // A parent or representative acts on behalf of the client whose portal this is.
        onBehalfOf: access.relation === 'SELF' ? null : `client:${access.clientId}`,
        accessPoint: input.ip,
        requestId: input.requestId,
      };
      await writer(line);
    },
  };
  return ctx;
}

export function requireViewer(ctx: GatewayContext): AuthViewer {
  if (!ctx.viewer) throw ctx.authError ?? new UnauthenticatedError();
  return ctx.viewer;
}

/**
 * The one gate for client data: the viewer must have a relation to the client and, where asked,
 * the named ability. Answers the access with the abilities it carries.
 */
export async function authorizeClientAccess(
  ctx: GatewayContext,
  clientId: string,
  needed?: keyof Abilities,
  options: { write?: boolean } = {},
): Promise<{ access: PortalAccess; can: Abilities }> {
  const granted = accessIn(requireViewer(ctx), await ctx.portals(), clientId, needed);
  await checkPortalRules(ctx, granted.access, options.write ?? false);
  return granted;
}

const abilitiesOf = new WeakMap<PortalAccess, Abilities>();

/**
 * The relation and ability part of the gate, on links already read: throws FORBIDDEN with the
 * reason. A link object read once and kept (live re-checks) computes its abilities once.
 */
export function accessIn(viewer: AuthViewer, portals: readonly PortalAccess[], clientId: string, needed?: keyof Abilities): { access: PortalAccess; can: Abilities } {
  if (viewer.mustChangePassword) throw new ForbiddenError('Set a new password first (changePassword).', { reason: 'PASSWORD_CHANGE_REQUIRED' });
  const access = portals.find((p) => p.clientId === clientId);
  if (!access) throw new ForbiddenError('You have no access to this portal.');
  let can = abilitiesOf.get(access);
  if (!can) abilitiesOf.set(access, (can = abilities(access)));
  if (needed && !can[needed]) throw new ForbiddenError(`You have no permission for this part of the portal (${needed}).`, { reason: needed });
  return { access, can };
}

/**
 * The rules that depend on the client's record: access ends when treatment ends, and from 16 a
 * child decides whether the parents still see the portal. Asked once per client per request.
 */
async function checkPortalRules(ctx: GatewayContext, access: PortalAccess, write: boolean): Promise<void> {
  const refusal = portalRefusal(ctx.services.config, await ctx.portalProfile(access.clientId), access, write);
  if (refusal === ASK_CHILD_CONSENT) {
    if (!(await ctx.services.consents.isGranted(access.clientId, PARENT_ACCESS))) throw childDecides();
  } else if (refusal) throw refusal;
}

/** A parent's access to a child of 16 or older hangs on the child's consent, which is not in the record. */
export const ASK_CHILD_CONSENT = 'ask-child-consent';

/**
 * The portal rules on the client's record, without I/O: a refusal, null when access stands, or
 * ASK_CHILD_CONSENT when only the child's consent (PARENT_ACCESS) can decide.
 */
export function portalRefusal(
  config: Pick<Services['config'], 'TREATMENT_END_GRACE_DAYS' | 'TREATMENT_END_READ_ONLY_DAYS'>,
  profile: EhrClient | null,
  access: PortalAccess,
  write: boolean,
): ForbiddenError | typeof ASK_CHILD_CONSENT | null {
  const state = portalState(profile, { graceDays: config.TREATMENT_END_GRACE_DAYS, readOnlyDays: config.TREATMENT_END_READ_ONLY_DAYS });
  if (state === 'closed') return new ForbiddenError('This portal has closed because the treatment has ended.', { reason: 'TREATMENT_ENDED' });
  if (state === 'read-only' && write) return new ForbiddenError('The treatment has ended: this portal can still be read but no longer changed.', { reason: 'PORTAL_READ_ONLY' });
  if (access.relation === PortalRelation.PARENT) {
    const age = ageInYears(profile?.birthDate);
    // Without the consent, parentMayAccess says no from 16; with it, yes.
    if (age !== null && age >= 16 && !parentMayAccess(access.relation, age, false)) return ASK_CHILD_CONSENT;
  }
  return null;
}

const childDecides = (): ForbiddenError =>
  new ForbiddenError('From 16 the client decides who sees the portal, and has not given parents access.', { reason: 'CHILD_DECIDES' });
