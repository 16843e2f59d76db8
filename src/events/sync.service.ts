import { PermanentEventError } from '../errors';
import { randomUUID } from 'node:crypto';
import { In, IsNull, LessThanOrEqual, Not, type DataSource } from 'typeorm';
import { z } from 'zod';
import { parseGlobalId, globalId } from '../modules/ehr/global-id';
import type { VideoService } from '../modules/video/video.service';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { EventBus } from './event-bus';
import { SyncEventEntity } from './sync-event.entity';
import type { EhrCache } from '../modules/ehr/ehr-cache';
import type { MessagesService } from '../modules/messages/messages.service';
import { portalInvitedData, type OnboardingService } from '../modules/onboarding/onboarding.service';
import type { ClientsService } from '../modules/clients/clients.service';

/** Event types of ../shared/contract/http.md; anything else is refused with 400 so a typo is noticed at once. */
export const SYNC_EVENT_TYPES = [
  'message.created',
  'videocall.ready',
  'videocall.ended',
  'appointment.upserted',
  'document.published',
  'questionnaire.assigned',
  'dossier.changed',
  'portal.invited',
  'treatment.ended',
] as const;
export type SyncEventType = (typeof SYNC_EVENT_TYPES)[number];

const text = (max: number) => z.string().trim().min(1).max(max);

const envelope = z.object({
  id: text(128),
  type: z.string(),
  source: text(50),
  clientId: text(128).optional(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});

/** The data each type must carry; types not listed are stored as they come. */
const dataSchemas: Partial<Record<SyncEventType, z.ZodType>> = {
  'videocall.ready': z.object({
    practitionerId: text(128),
    // https only: the link is shown to clients as a button, so no javascript: or plain-http rooms.
    joinUrl: z.url({ protocol: /^https$/ }).max(1000),
  }),
  'videocall.ended': z.object({}),
  'message.created': z.object({ conversationId: text(128).optional(), subject: text(200).optional(), practitionerId: text(128), body: text(1000) }),
  'dossier.changed': z.object({}),
  'portal.invited': portalInvitedData,
  // The source's last episode closed at endedAt (null: treatment resumed); the retention job counts from it.
  'treatment.ended': z.object({ endedAt: z.iso.datetime({ offset: true }).nullable() }),
};

/** Types that concern one client and cannot be stored without saying which. */
const NEEDS_CLIENT = new Set<SyncEventType>([
  'message.created',
  'videocall.ready',
  'videocall.ended',
  'dossier.changed',
  'appointment.upserted',
  'document.published',
  'questionnaire.assigned',
  'portal.invited',
  'treatment.ended',
]);

export interface SyncEvent {
  id: string;
  type: SyncEventType;
  source: string;
  clientId?: string;
  occurredAt?: string;
  data: Record<string, unknown>;
}

export class SyncEventInvalidError extends Error {}

/** Checks a raw body against the contract; throws SyncEventInvalidError with a reason a sender can act on. */
export function parseSyncEvent(raw: Buffer): SyncEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new SyncEventInvalidError('The body is not valid JSON.');
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) throw new SyncEventInvalidError(describe(parsed.error));
  const event = parsed.data;
  if (!(SYNC_EVENT_TYPES as readonly string[]).includes(event.type)) {
    throw new SyncEventInvalidError(`Unknown event type '${event.type.slice(0, 64)}'; known: ${SYNC_EVENT_TYPES.join(', ')}.`);
  }
  const type = event.type as SyncEventType;
  if (NEEDS_CLIENT.has(type) && !event.clientId) throw new SyncEventInvalidError(`clientId is required for ${type}.`);
  const schema = dataSchemas[type];
  if (schema) {
    const data = schema.safeParse(event.data);
    if (!data.success) throw new SyncEventInvalidError(describe(data.error, 'data'));
  }
  return { ...event, type };
}

function describe(error: z.ZodError, prefix?: string): string {
  const issue = error.issues[0];
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return `${path || 'body'}: ${issue.message}`;
}

export type AcceptResult = { status: 'accepted'; id: string } | { status: 'duplicate'; id: string };

export interface SyncRetryOptions {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
  /** How long an accepted event is the receiving instance's own before any instance may process it. */
  claimMs: number;
}

export interface SyncServiceOptions {
  db: DataSource;
  bus: EventBus;
  video: VideoService;
  logger: Logger;
  metrics: Metrics;
  retry: SyncRetryOptions;
  ehrCache: EhrCache;
  messages: MessagesService;
  clients: ClientsService;
  /** Tells the client's people by mail that a document, appointment or questionnaire is there (their notification settings). */
  announce?: (kind: 'document' | 'appointment' | 'questionnaire', clientId: string) => void;
  /** portal.invited: an activation code or an own account for the client or a representative. */
  onboarding?: Pick<OnboardingService, 'invite'>;
}

/**
 * Stores inbound events before they are acknowledged, then processes them. The unique index on
 * event_id makes a resent event (or the same event posted to two instances) land once; only the
 * request that inserted the row processes it.
 */
export class SyncService {
  private readonly inFlight = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: SyncServiceOptions) {}

  async store(event: SyncEvent, raw: Buffer): Promise<{ result: AcceptResult; row: SyncEventEntity | null }> {
    const repo = this.deps.db.getRepository(SyncEventEntity);
    const row: SyncEventEntity = {
      id: randomUUID(),
      eventId: event.id,
      type: event.type,
      source: event.source,
      clientRef: event.clientId ?? null,
      occurredAt: event.occurredAt ? new Date(event.occurredAt) : null,
      payload: raw.toString('utf8'),
      receivedAt: new Date(),
      processedAt: null,
      error: null,
      attempts: 0,
      // The receiving instance processes it now; should it crash first, any instance claims it once this is due.
      nextAttemptAt: new Date(Date.now() + this.deps.retry.claimMs),
    };
    try {
      await repo.insert(row);
    } catch (err) {
      // Driver-neutral duplicate detection (MariaDB 1062, SQLite CONSTRAINT): the row is there, or the error is real.
      if (await repo.existsBy({ eventId: event.id })) return { result: { status: 'duplicate', id: event.id }, row: null };
      throw err;
    }
    return { result: { status: 'accepted', id: event.id }, row };
  }

  /** Processes after the answer went out; stop() waits for what is still running. */
  processInBackground(row: SyncEventEntity, event: SyncEvent): void {
    const job: Promise<void> = this.process(row, event)
      .then(() => undefined)
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  /**
   * Processes events that were stored (and answered 202) but never processed, because the
   * process stopped in between: at start, those no live instance holds (a claim that is due, or
   * none). Each is claimed as a retry is, so two instances starting together, or one starting
   * while another processes what it just accepted, never run one handler twice.
   */
  async resumePending(limit = 500, now = new Date()): Promise<number> {
    const pending = { processedAt: IsNull(), error: IsNull(), type: In([...HANDLED_TYPES]) };
    const rows = await this.deps.db.getRepository(SyncEventEntity).find({
      where: [
        { ...pending, nextAttemptAt: IsNull() },
        { ...pending, nextAttemptAt: LessThanOrEqual(now) },
      ],
      order: { receivedAt: 'ASC' },
      take: limit,
    });
    let resumed = 0;
    for (const row of rows) if (await this.claim(row)) resumed += (await this.runClaimed(row)) ? 1 : 0;
    if (rows.length) this.deps.logger.info({ count: rows.length, resumed }, 'resumed pending sync events');
    return rows.length;
  }

  /** resumePending at start, tracked like any other processing so stop() waits for it. */
  resumeInBackground(): void {
    const job = this.resumePending()
      .then(
        () => undefined,
        (err: Error) => this.deps.logger.warn({ err: err.message }, 'resuming pending sync events failed'),
      )
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  /** Tries failed events again when they are due, by whichever instance claims them first. */
  startRetries(): void {
    const every = Math.min(this.deps.retry.baseMs, this.deps.retry.claimMs, 1000);
    const tick = () => {
      const job = this.retryDue()
        .then(
          () => undefined,
          (err: Error) => this.deps.logger.warn({ err: err.message }, 'retrying sync events failed'),
        )
        .finally(() => {
          this.inFlight.delete(job);
          if (this.retryTimer) this.retryTimer = setTimeout(tick, every).unref();
        });
      this.inFlight.add(job);
    };
    this.retryTimer = setTimeout(tick, every).unref();
  }

  stopRetries(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** One pass over the failed events that are due; answers how many were processed now. */
  async retryDue(now = new Date(), batch = 50): Promise<number> {
    const repo = this.deps.db.getRepository(SyncEventEntity);
    const due = await repo.find({
      where: [
        { processedAt: IsNull(), nextAttemptAt: LessThanOrEqual(now), type: In([...HANDLED_TYPES]) },
        // Stored before claims existed and never tried: anyone's after the claim time.
        {
          processedAt: IsNull(),
          nextAttemptAt: IsNull(),
          attempts: 0,
          error: IsNull(),
          receivedAt: LessThanOrEqual(new Date(now.getTime() - this.deps.retry.claimMs)),
          type: In([...HANDLED_TYPES]),
        },
      ],
      order: { receivedAt: 'ASC' },
      take: batch,
    });
    let processed = 0;
    for (const row of due) if ((await this.claim(row)) && (await this.runClaimed(row))) processed++;
    return processed;
  }

  /**
   * Takes a stored row for this instance if its claim is still the one read (none, or due, or this
   * instance's own when it renews it): only the instance whose update moved it on runs it now; a
   * crash leaves it due again after the lease.
   */
  private async claim(row: SyncEventEntity, leaseMs = RETRY_LEASE_MS): Promise<boolean> {
    const lease = new Date(Date.now() + leaseMs);
    const claimed = await this.deps.db
      .getRepository(SyncEventEntity)
      .update({ id: row.id, processedAt: IsNull(), nextAttemptAt: row.nextAttemptAt ?? IsNull() }, { nextAttemptAt: lease });
    if (claimed.affected !== 1) return false;
    row.nextAttemptAt = lease;
    return true;
  }

  /** A claimed row's event, parsed and processed under its lease; a payload that no longer parses is recorded as its error. */
  private async runClaimed(row: SyncEventEntity): Promise<boolean> {
    let event: SyncEvent;
    try {
      event = parseSyncEvent(Buffer.from(row.payload, 'utf8'));
    } catch (err) {
      await this.deps.db.getRepository(SyncEventEntity).update({ id: row.id }, { error: (err as Error).message.slice(0, 500), nextAttemptAt: null });
      return false;
    }
    return this.process(row, event, RETRY_LEASE_MS);
  }

  /**
   * For the operator (/readyz, /metrics): events still to be processed (waiting for their handler or
   * their next try) and those given up (tried SYNC_RETRY_MAX_ATTEMPTS times, or refused as they
   * can never succeed), which nothing tries again until `npm run sync-events -- requeue`.
   */
  async counts(): Promise<{ pending: number; givenUp: number }> {
    const repo = this.deps.db.getRepository(SyncEventEntity);
    const open = { processedAt: IsNull(), type: In([...HANDLED_TYPES]) };
    const [pending, givenUp] = await Promise.all([
      repo.countBy({ ...open, nextAttemptAt: Not(IsNull()) }),
      repo.countBy({ ...open, nextAttemptAt: IsNull(), error: Not(IsNull()) }),
    ]);
    return { pending, givenUp };
  }

  async drain(): Promise<void> {
    this.stopRetries();
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Answers whether the event was processed; a failure is recorded and scheduled again with backoff.
   * The row is this instance's (its claim, `leaseMs` long, in next_attempt_at) and stays so while the
   * handler runs, however long that takes (see holdClaim).
   */
  async process(row: SyncEventEntity, event: SyncEvent, leaseMs = this.deps.retry.claimMs): Promise<boolean> {
    const repo = this.deps.db.getRepository(SyncEventEntity);
    const held = this.holdClaim(row, leaseMs);
    try {
      const handled = await this.handle(row, event);
      if (handled) {
        await repo.update({ id: row.id }, { processedAt: new Date(), error: null, nextAttemptAt: null });
        this.deps.metrics.syncEvents.inc({ type: event.type, outcome: 'processed' });
      }
      return handled;
    } catch (err) {
      const message = (err as Error).message.slice(0, 500);
      const attempts = row.attempts + 1;
      const giveUp = err instanceof PermanentEventError || attempts >= this.deps.retry.maxAttempts;
      const nextAttemptAt = giveUp ? null : new Date(Date.now() + this.backoff(attempts));
      this.deps.logger.warn(
        { eventId: event.id, type: event.type, attempts, retryAt: nextAttemptAt, err: message },
        giveUp ? 'sync event not processed; given up' : 'sync event not processed; will retry',
      );
      this.deps.metrics.syncEvents.inc({ type: event.type, outcome: giveUp ? 'failed' : 'retry' });
      await repo.update({ id: row.id }, { error: message, attempts, nextAttemptAt }).catch(() => undefined);
      return false;
    } finally {
      held.stop();
    }
  }

  /**
   * Keeps this instance's claim on a row while its handler runs (a slow mail server, an EHR near its
   * timeout): renewed every third of its length, so no other instance's retry pass takes the row and
   * runs the handler a second time meanwhile (a second invitation mail with another code). A handler
   * done within a third of the claim costs a timer and nothing else.
   */
  private holdClaim(row: SyncEventEntity, leaseMs: number): { stop(): void } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const renew = async (): Promise<void> => {
      const kept = await this.claim(row, leaseMs).catch((err: Error) => {
        this.deps.logger.warn({ eventId: row.eventId, err: err.message }, 'sync event: its claim could not be renewed; trying again');
        return null;
      });
      if (stopped) return;
      if (kept === false) {
        this.deps.logger.warn({ eventId: row.eventId }, 'sync event: its claim lapsed while its handler ran; another instance may run it too');
        return;
      }
      schedule();
    };
    const schedule = () => {
      timer = setTimeout(() => void renew(), Math.max(1, Math.floor(leaseMs / 3)));
      timer.unref();
    };
    schedule();
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  private backoff(attempts: number): number {
    const capped = Math.min(this.deps.retry.maxMs, this.deps.retry.baseMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(capped / 2 + (Math.random() * capped) / 2);
  }

  /** Answers whether the event is done; false leaves it pending (processed_at null) for a later handler. */
  private async handle(row: SyncEventEntity, event: SyncEvent): Promise<boolean> {
    switch (event.type) {
      case 'videocall.ready': {
        const clientId = await this.resolveClient(event);
        const data = event.data as { practitionerId: string; joinUrl: string };
        await this.deps.video.markReady(clientId, practitionerGlobalId(event.source, data.practitionerId), data.joinUrl, event.id, row.receivedAt);
        return true;
      }
      case 'videocall.ended': {
        const clientId = await this.resolveClient(event);
        await this.deps.video.markEnded(clientId, event.id, row.receivedAt);
        return true;
      }
      // A changed appointment, a newly published document or an assigned questionnaire changes what the EHR answers:
      // the cache goes, as for dossier.changed, and the client's people hear of it as their notification settings say.
      case 'appointment.upserted':
      case 'document.published':
      case 'questionnaire.assigned':
      case 'dossier.changed': {
        const clientId = await this.resolveClient(event);
        // The cache is shared (Redis) or this instance's own (then it is the only one), so dropping it here reaches every reader.
        await this.deps.ehrCache.dropClient(clientId);
        const kind = ANNOUNCED[event.type];
        if (kind) this.deps.announce?.(kind, clientId);
        return true;
      }
      case 'treatment.ended': {
        const clientId = await this.resolveClient(event);
        const { endedAt } = event.data as { endedAt: string | null };
        // The portal's state (read-only, closed) follows the EHR's record; what was cached of it goes first, so no read
        // from here on reports the old record as newer than this event.
        await this.deps.ehrCache.dropClient(clientId);
        if (!(await this.deps.clients.recordTreatmentEnd(clientId, event.source, endedAt ? new Date(endedAt) : null, row.receivedAt)))
          throw new PermanentEventError(`source '${event.source}' does not know client '${clientId}'`);
        return true;
      }
      case 'message.created': {
        const clientId = await this.resolveClient(event);
        const data = event.data as { conversationId?: string; subject?: string; practitionerId: string; body: string };
        // The time it is added here (for a retried event later than its arrival), not the sender's occurredAt: unread
        // counts, order and a screen's catch-up after a bus outage follow what the client could see, so a message that
        // lands after the client read the conversation counts as new.
        await this.deps.messages.receiveFromPractitioner({
          clientId,
          eventId: event.id,
          conversationId: data.conversationId,
          subject: data.subject,
          practitionerId: practitionerGlobalId(event.source, data.practitionerId),
          body: data.body,
          at: new Date(),
        });
        return true;
      }
      case 'portal.invited': {
        if (!this.deps.onboarding) return false;
        // Keyed by the stored row: a retry of a failed attempt replaces what that attempt made instead of adding to it.
        await this.deps.onboarding.invite({
          rowId: row.id,
          eventId: event.id,
          source: event.source,
          clientRef: event.clientId!,
          data: portalInvitedData.parse(event.data),
        });
        return true;
      }
      default:
        // A type without a handler yet is stored, never dropped.
        return false;
    }
  }

  /**
   * clientId is the portal's own client id (what the portal hands practitioner systems); a
   * system that only knows its own id for the client may send that, and it is looked up under
   * the event's source.
   */
  private async resolveClient(event: SyncEvent): Promise<string> {
    const clientId = await this.deps.clients.resolveRef(event.clientId!, event.source);
    if (!clientId) throw new Error(`unknown client '${event.clientId}' for source '${event.source}'`);
    return clientId;
  }
}

/**
 * Given-up events (all, or those with the given event ids) back in line, tried again from the first
 * backoff step by whichever instance's next retry pass claims them; answers how many.
 * `npm run sync-events -- requeue` calls it while the gateway runs. The last error stays until a try succeeds.
 */
export async function requeueGivenUpEvents(db: DataSource, eventIds?: string[]): Promise<number> {
  const givenUp = { processedAt: IsNull(), nextAttemptAt: IsNull(), error: Not(IsNull()), type: In([...HANDLED_TYPES]) };
  const result = await db
    .getRepository(SyncEventEntity)
    .update(eventIds?.length ? { ...givenUp, eventId: In(eventIds) } : givenUp, { attempts: 0, nextAttemptAt: new Date() });
  return result.affected ?? 0;
}

/** How long a claim taken by a retry (or at start) lasts; renewed while its handler runs. */
const RETRY_LEASE_MS = 60_000;

/** Types with a handler today; the others stay pending until their module handles them. */
const HANDLED_TYPES: readonly SyncEventType[] = [
  'videocall.ready',
  'videocall.ended',
  'dossier.changed',
  'appointment.upserted',
  'document.published',
  'questionnaire.assigned',
  'message.created',
  'portal.invited',
  'treatment.ended',
];

/** The events the client's people get a mail about (if their setting is on). */
const ANNOUNCED: Partial<Record<SyncEventType, 'document' | 'appointment' | 'questionnaire'>> = {
  'document.published': 'document',
  'appointment.upserted': 'appointment',
  'questionnaire.assigned': 'questionnaire',
};

/** Practitioner ids in events are the source system's own; a global id (`source:external`) is kept as is. */
function practitionerGlobalId(source: string, practitionerId: string): string {
  const parsed = parseGlobalId(practitionerId);
  return parsed && parsed.source === source ? practitionerId : globalId(source, practitionerId);
}
