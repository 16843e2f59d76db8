import { PARENT_ACCESS, restsOnChildConsent, type AccessSettings, type GateReader } from '../auth/access';
import { PortalRelation, type PortalAccess } from '../auth/permissions';
import type { LiveSink } from './execution/live-execution';
import type { HandedOver } from './execution/jit-executor';
import type { EhrClient } from '../../adapters/ports';
import type { AccountEntity } from '../modules/identity/account.entity';
import type { AuthViewer } from '../auth/tokens';
import type { Context as OtelContext } from '@opentelemetry/api';
import type { AccessEvent } from '../audit/access-log.service';
import { endSpan, SpanKind, startSpan } from '../observability/tracing';
import type { Logger } from '../observability/logger';
import type { PartialFailure, RequestEhr } from '../modules/ehr/ehr.service';
import type { Services } from '../services';
import { UnauthenticatedError } from '../errors';

/** Everything one operation (HTTP request or WebSocket subscription) runs with; also what the access gate reads. */
export interface GatewayContext extends GateReader {
  requestId: string;
  ip: string | null;
  viewer: AuthViewer | null;
  services: Services;
  logger: Logger;
  /** The logger this context's own one is a child of (for contexts made from this one). */
  rootLogger: Logger;
  ehr: RequestEhr;
  partialFailures: PartialFailure[];
  /** The operation's trace (its span's context), for calls that are not the EHR reader's (Koppeltaal). */
  trace?: OtelContext;
  /** When the GraphQL route's direct path began executing (hrtime), so a hand-over to Apollo times the whole operation. */
  operationStarted?: bigint;
  /** Why a presented token was refused (expired, revoked), for a precise UNAUTHENTICATED message. */
  authError?: UnauthenticatedError;
  /** A subscription's socket, when the operation is one (set by the WebSocket layer, read by its live room). */
  liveSink?: LiveSink;
  /** What the GraphQL route's direct path already executed, for Apollo to format (jit-executor.ts). */
  handedOver?: HandedOver;
  /** One promise per key for the length of this operation (a part several fields ask for, read and logged once). */
  once<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** The viewer's account, loaded once per request. */
  account(): Promise<AccountEntity>;
  /** The viewer's portal links, loaded once per request. */
  portals(): Promise<PortalAccess[]>;
  /** Writes an access-log line; awaited before the data it covers leaves (fail closed). */
  audit(event: Omit<AccessEvent, 'at' | 'accountId' | 'actorName' | 'actorRole' | 'accessPoint' | 'requestId'>, access: PortalAccess): Promise<void>;
  /** The client's record as the portal rules need it (treatment end, birth date); null when no EHR answers. */
  profile(clientId: string): Promise<EhrClient | null>;
  settings: AccessSettings;
}

export interface ContextInput {
  services: Services;
  /** The parent logger; the context's own child (with `logBindings`) is made on first use. */
  logger: Logger;
  logBindings?: Record<string, unknown>;
  requestId: string;
  ip: string | null;
  viewer: AuthViewer | null;
  /** Where profile reads; live re-authorisation passes one read shared by an event's subscribers. */
  profile?: (clientId: string) => Promise<EhrClient | null>;
  /** The operation's trace (its span's context): adapter calls and access-log writes are its children. */
  trace?: OtelContext;
  /**
   * When the request came in (Date.now()): its access-log lines carry it as the start of the event
   * (NEN 7513), not the later moment the line was made (after the EHR answered who the client is,
   * for a parent's read). Without it (a subscription, which lives for many events), a line carries
   * the time it is made.
   */
  startedAt?: number;
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
  let consents: Map<string, Promise<boolean>> | undefined;
  let memo: Map<string, Promise<unknown>> | undefined;

  const ctx: GatewayContext = {
    services,
    requestId: input.requestId,
    ip: input.ip,
    viewer,
    partialFailures,
    trace: input.trace,
    rootLogger: input.logger,
    get logger() {
      return (logger ??= input.logBindings ? input.logger.child(input.logBindings) : input.logger);
    },
    get ehr() {
      return (ehr ??= services.readEhr({
        requestId: input.requestId,
        accountId: viewer?.accountId,
        trace: input.trace,
        onPartialFailure: (f) => partialFailures.push(f),
      }));
    },
    settings: services.config,
    profile(clientId) {
      if (input.profile) return input.profile(clientId);
      // The EHR being down is no reason to lock people out of what the portal itself holds.
      return ctx.ehr.first(clientId, 'getClient', (a, id, c) => a.getClient(id, c)).catch(() => null);
    },
    once<T>(key: string, make: () => Promise<T>): Promise<T> {
      memo ??= new Map();
      let hit = memo.get(key) as Promise<T> | undefined;
      if (!hit) memo.set(key, (hit = make()));
      return hit;
    },
    childConsented(clientId) {
      consents ??= new Map();
      let granted = consents.get(clientId);
      if (!granted) consents.set(clientId, (granted = services.consents.isGranted(clientId, PARENT_ACCESS)));
      return granted;
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
      const at = new Date(input.startedAt ?? Date.now());
      const [account, profile] = await Promise.all([ctx.account(), access.relation === PortalRelation.SELF ? null : ctx.profile(access.clientId)]);
      writer ??= services.audit.writer();
      // Every field named (not `...event`, which V8 copies several times slower), and typed so
      // that a field added to AccessEvent cannot be left out here.
      const line: { [K in keyof Required<AccessEvent>]: AccessEvent[K] } = {
        at,
        action: event.action,
        eventType: event.eventType,
        resource: event.resource,
        clientId: event.clientId,
        treatmentRelationship: event.treatmentRelationship,
        // A parent sees a child of 16 or older only by the child's consent (WGBO): such a line says so (NEN 7513).
        consentApplied: event.consentApplied || restsOnChildConsent(access, profile),
        emergencyAccess: event.emergencyAccess,
        accountId: account.id,
        actorName: account.displayName,
        actorRole: access.relation,
        onBehalfOf: onBehalfOf(access, profile?.name),
        accessPoint: input.ip,
        requestId: input.requestId,
      };
      if (!input.trace) return writer(line);
      const { span } = startSpan('access-log write', input.trace, SpanKind.INTERNAL, { 'ggz.access_log.event_type': event.eventType });
      try {
        await writer(line);
        endSpan(span);
      } catch (err) {
        endSpan(span, err);
        throw err;
      }
    },
  };
  return ctx;
}

/**
 * The responsible person on whose behalf a parent, representative or network member acts: the
 * client, by name (the record is already read for the portal rules); the client in person acts
 * for themselves.
 */
/** The access-log's "on behalf of" for a link: the client's name, or null for the client in person. */
export function onBehalfOf(access: Pick<PortalAccess, 'relation'>, clientName: string | null | undefined): string | null {
  return access.relation === PortalRelation.SELF ? null : (clientName ?? UNKNOWN_CLIENT_NAME);
}

/** When no EHR answers for the client's name, the line still says it was on the client's behalf. */
export const UNKNOWN_CLIENT_NAME = 'de cliënt (naam niet beschikbaar)';

export function requireViewer(ctx: GatewayContext): AuthViewer {
  if (!ctx.viewer) throw ctx.authError ?? new UnauthenticatedError();
  return ctx.viewer;
}
