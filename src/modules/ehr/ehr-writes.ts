import { randomUUID } from 'node:crypto';
import { In, IsNull, LessThanOrEqual, MoreThan, Not, type DataSource, type EntityManager } from 'typeorm';
import type { AdapterRequestContext, EhrAdapter, EhrWriteResult } from '../../../adapters/ports';
import { LRUCache } from 'lru-cache';
import { ChangeStamp } from '../../kv/change-stamp';
import type { KeyValueStore } from '../../kv/kv';
import type { Logger } from '../../observability/logger';
import type { AdapterRegistry } from './adapter-registry';
import { EhrWriteEntity, type EhrWriteStatus } from './ehr-write.entity';
import { cappedBackoff, PollLoop, type OutboxOptions } from './poll-loop';

/** The port methods a client's write goes through: (the client's id in that EHR, the input, the context) → EhrWriteResult. */
export type EhrWriteMethod =
  | 'saveQuestionnaireAnswers'
  | 'approve'
  | 'setConsent'
  | 'addTreatmentGoal'
  | 'removeTreatmentGoal'
  | 'shareClientStory'
  | 'uploadDocument'
  | 'cancelAppointment'
  | 'sendMessage'
  | 'withdrawMessage';

export interface EhrWriteRequest<I> {
  clientId: string;
  source: string;
  externalClientId: string;
  method: EhrWriteMethod;
  /** What it is about, to show its state beside it (an assignment's global id, a message's id). */
  subject: string;
  input: I;
}

/** A write the EHR has not taken yet, as a read shows it beside its item. */
export interface OpenWrite {
  status: EhrWriteStatus;
  at: string | null;
  input: Record<string, unknown>;
}

/** What became of a write tried at once: taken, refused by the EHR's rules, or waiting for the EHR. */
export type WriteOutcome =
  { state: 'delivered'; id?: string } | { state: 'refused'; refusal: 'NOT_FOUND' | 'NOT_CHANGEABLE'; reason: string } | { state: 'pending' };

export interface EhrWritesOptions {
  db: DataSource;
  registry: AdapterRegistry;
  logger: Logger;
  options: OutboxOptions;
  /** Where each client's open-writes stamp lives (shared by the instances): see openAll. */
  kv: KeyValueStore;
  /** After the EHR took a write, what the portal does with its own record (per method). */
  onDelivered?: (row: EhrWriteEntity) => Promise<void>;
  /**
   * What a stored input needs before the call that JSON cannot hold (an upload's bytes, read from
   * file storage; a message, read from the portal's record when it goes). Throwing WriteCancelled
   * settles the write as cancelled (nothing to send any more); any other error retries it.
   */
  prepare?: (row: EhrWriteEntity, input: unknown) => Promise<unknown>;
  /** After the EHR refused a write it was retried for (its rules, not an outage): the portal's record is open again. */
  onRefused?: (row: EhrWriteEntity) => Promise<void>;
}

type Call = (adapter: EhrAdapter, externalClientId: string, input: unknown, ctx: AdapterRequestContext) => Promise<EhrWriteResult> | undefined;
type Input<M extends EhrWriteMethod> = Parameters<NonNullable<EhrAdapter[M]>>[1];
const taken = (): EhrWriteResult => ({ done: true });

/** Each method as the adapter takes it; undefined where the adapter lacks it. */
const CALLS: Record<EhrWriteMethod, Call> = {
  saveQuestionnaireAnswers: (a, id, input, ctx) => a.saveQuestionnaireAnswers?.(id, input as Input<'saveQuestionnaireAnswers'>, ctx),
  approve: (a, id, input, ctx) => a.approve?.(id, input as Input<'approve'>, ctx),
  addTreatmentGoal: (a, id, input, ctx) => a.addTreatmentGoal?.(id, input as Input<'addTreatmentGoal'>, ctx),
  removeTreatmentGoal: (a, id, input, ctx) => a.removeTreatmentGoal?.(id, input as Input<'removeTreatmentGoal'>, ctx),
  uploadDocument: (a, id, input, ctx) => a.uploadDocument?.(id, input as Input<'uploadDocument'>, ctx),
  shareClientStory: (a, id, input, ctx) => a.shareClientStory?.(id, input as Input<'shareClientStory'>, ctx),
  setConsent: (a, id, input, ctx) => a.setConsent?.(id, input as Input<'setConsent'>, ctx),
  cancelAppointment: (a, id, input, ctx) => a.cancelAppointment?.(id, input as Input<'cancelAppointment'>, ctx),
  sendMessage: (a, id, input, ctx) => a.sendMessage?.(id, input as Input<'sendMessage'>, ctx).then(taken),
  withdrawMessage: (a, id, input, ctx) => a.withdrawMessage?.(id, (input as { messageId: string }).messageId, ctx).then(taken),
};

/** Thrown by `prepare` when a write has nothing left to send (a message deleted before it went): the row is settled as cancelled. */
export class WriteCancelled extends Error {}

/**
 * The outbox of the client's writes to the EHRs: a write is stored with the portal's own record
 * (one transaction), tried at once, and, while the EHR is away, retried with capped backoff (by
 * whichever instance claims it first) until the EHR takes or refuses it; after OUTBOX_MAX_ATTEMPTS
 * it is a dead letter (failed). The port's writes are idempotent (portal-chosen ids), so a retry
 * after a lost answer changes nothing more. Every write of the portal to an EHR goes through it:
 * questionnaire answers, akkoorden, consents, goals, the shared story, uploaded documents,
 * cancelled appointments, and messages (sent and withdrawn; see messages/message-writes.ts).
 */
export class EhrWrites {
  private readonly loop: PollLoop;
  /** What openAll read per client, under the client's stamp when it read it. */
  private readonly kept = new LRUCache<string, { stamp: string; at: number; open: Map<EhrWriteMethod, Map<string, OpenWrite>> }>({ max: 10_000 });

  constructor(private readonly deps: EhrWritesOptions) {
    this.loop = new PollLoop(() => this.runOnce(), deps.options.pollMs, deps.logger, 'EHR write outbox');
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Runs a pass now (or right after the current one): a write that need not be tried while its writer waits (a message). */
  kick(): void {
    this.loop.kick();
  }

  /** Stores a write in the caller's transaction; answers its row (tried with `tryNow` once committed). */
  async enqueue<I>(tx: EntityManager, request: EhrWriteRequest<I>): Promise<EhrWriteEntity> {
    const overlaid = !UNSHOWN.has(request.method);
    if (overlaid) {
      this.generation++;
      // Renewed before the write and again once it is tried (after the commit): what was read in between is not kept.
      await this.changed(request.clientId);
    }
    const row: EhrWriteEntity = {
      id: randomUUID(),
      clientId: request.clientId,
      source: request.source,
      method: request.method,
      subject: request.subject,
      payload: JSON.stringify({ externalClientId: request.externalClientId, input: request.input } satisfies WritePayload),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: new Date(),
      lastError: null,
      createdAt: new Date(),
      deliveredAt: null,
    };
    // A later write of the same thing to the same EHR replaces one still waiting (a consent changed twice while the EHR was away): only the last goes, so the EHR ends as the client left it.
    // (A message's send or withdrawal is written once per EHR: nothing to replace.)
    if (overlaid)
      await tx
        .getRepository(EhrWriteEntity)
        .update(
          { clientId: request.clientId, source: request.source, subject: request.subject, method: request.method, status: 'pending' },
          { status: 'superseded' },
        );
    await tx.getRepository(EhrWriteEntity).insert(row);
    return row;
  }

  /** Stores a write that has no record of the portal's own beside it (an akkoord: the EHR holds it). */
  enqueueAlone<I>(request: EhrWriteRequest<I>): Promise<EhrWriteEntity> {
    return this.deps.db.transaction((tx) => this.enqueue(tx, request));
  }

  /**
   * Bumped by every write this instance stores or tries: a request that read the open writes
   * before its own write reads them again after it (see openWrites in client-items.ts).
   */
  generation = 0;

  /**
   * A client's writes the EHR has not taken yet (pending, or dead letters), by method and subject,
   * with the time in their input: one query for every part a page overlays (a message's state is
   * read per conversation instead).
   */
  async openAll(clientId: string): Promise<Map<EhrWriteMethod, Map<string, OpenWrite>>> {
    // Almost always nothing is open: a screen then costs one read of the client's stamp, not a query.
    const stamp = await this.stamp(clientId).read();
    const hit = stamp ? this.kept.get(clientId) : undefined;
    if (hit && hit.stamp === stamp && Date.now() - hit.at < KEPT_MAX_AGE_MS) return hit.open;
    const open = await this.queryOpen(clientId);
    if (stamp) this.kept.set(clientId, { stamp, at: Date.now(), open });
    return open;
  }

  private async queryOpen(clientId: string): Promise<Map<EhrWriteMethod, Map<string, OpenWrite>>> {
    const rows = await this.deps.db
      .getRepository(EhrWriteEntity)
      .find({ where: { clientId, status: In(['pending', 'failed']), method: Not(In([...UNSHOWN])) }, order: { createdAt: 'ASC' } });
    const out = new Map<EhrWriteMethod, Map<string, OpenWrite>>();
    for (const r of rows) {
      const input = (payloadOf(r).input as Record<string, unknown> | undefined) ?? {};
      const method = r.method as EhrWriteMethod;
      if (!out.has(method)) out.set(method, new Map());
      out.get(method)!.set(r.subject, { status: r.status, at: typeof input.at === 'string' ? input.at : null, input });
    }
    return out;
  }

  /**
   * Tries a write just stored and committed now (the client waits for this one attempt); later
   * attempts are the loop's. The row as `enqueue` answered it: the claim finds it unless another
   * instance or a later write of the same thing took it meanwhile (then it is pending here).
   */
  async tryNow(write: EhrWriteEntity): Promise<WriteOutcome> {
    this.generation++;
    // The commit is done: renewed again, so what was read while it was under way is not kept.
    await this.changed(write.clientId);
    return this.attempt(write);
  }

  /** Each client's stamp, renewed (on any instance) whenever one of its writes is stored or settled. */
  private stamp(clientId: string): ChangeStamp {
    return new ChangeStamp(this.deps.kv, `ehr-writes-open:${clientId}`);
  }

  /** Renews the client's stamp; when the store cannot take it, this instance forgets what it kept (the others by its age). */
  private async changed(clientId: string): Promise<void> {
    await this.stamp(clientId)
      .renew()
      .catch(() => this.kept.delete(clientId));
  }

  /** Rows waiting and dead letters (/readyz, /metrics). */
  async counts(): Promise<{ pending: number; failed: number }> {
    const rows: { status: EhrWriteStatus; n: number | string }[] = await this.deps.db
      .getRepository(EhrWriteEntity)
      .createQueryBuilder('w')
      .select('w.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .where('w.status IN (:...statuses)', { statuses: ['pending', 'failed'] })
      .groupBy('w.status')
      .getRawMany();
    const of = (status: EhrWriteStatus) => Number(rows.find((r) => r.status === status)?.n ?? 0);
    return { pending: of('pending'), failed: of('failed') };
  }

  /** One pass over the due rows; answers how many the EHRs took. */
  async runOnce(now = new Date()): Promise<number> {
    const due = await this.deps.db.getRepository(EhrWriteEntity).find({
      where: { status: 'pending', nextAttemptAt: LessThanOrEqual(now) },
      order: { nextAttemptAt: 'ASC' },
      take: this.deps.options.batch ?? 20,
    });
    let delivered = 0;
    for (const row of due) if ((await this.attempt(row)).state === 'delivered') delivered++;
    return delivered;
  }

  /** Claims the row (only the instance whose update moved it on tries it now), calls the EHR, records what came of it. */
  private async attempt(row: EhrWriteEntity): Promise<WriteOutcome> {
    const repo = this.deps.db.getRepository(EhrWriteEntity);
    const now = new Date();
    const lease = new Date(now.getTime() + (this.deps.options.leaseMs ?? 60_000));
    const overlaid = !UNSHOWN.has(row.method as EhrWriteMethod);
    const sameThing = { clientId: row.clientId, source: row.source, subject: row.subject, method: row.method };
    if (overlaid) {
      // One write of a thing at a time: while an earlier one is still being handed over (this instance or another),
      // this one waits for it, at most until its claim runs out; it is woken as soon as that attempt settles.
      const busy = await repo.findOne({ where: { ...sameThing, id: Not(row.id), sendingUntil: MoreThan(now) }, select: { id: true, sendingUntil: true } });
      if (busy?.sendingUntil) {
        await repo.update({ id: row.id, status: 'pending', nextAttemptAt: row.nextAttemptAt }, { nextAttemptAt: busy.sendingUntil });
        // Settled meanwhile (its wake came before this wait was set): due now instead of at its lease's end.
        const still = await repo.findOne({ where: { id: busy.id }, select: { id: true, sendingUntil: true } });
        if (!still?.sendingUntil || still.sendingUntil <= new Date()) {
          await repo.update({ id: row.id, status: 'pending', nextAttemptAt: busy.sendingUntil }, { nextAttemptAt: new Date() });
          this.kick();
        }
        return { state: 'pending' };
      }
    }
    const claimed = await repo.update({ id: row.id, status: 'pending', nextAttemptAt: row.nextAttemptAt }, { nextAttemptAt: lease, sendingUntil: lease });
    if (claimed.affected !== 1) return { state: 'pending' };
    const settle = async (status: EhrWriteStatus, changes: Partial<EhrWriteEntity>) => {
      await repo.update({ id: row.id }, { status, attempts: row.attempts + 1, sendingUntil: null, ...changes });
      if (overlaid) await this.changed(row.clientId);
    };
    const released = async () => {
      if (!overlaid) return;
      // A newer write of the same thing that waited for this one goes now.
      const woken = await repo.update(
        { ...sameThing, id: Not(row.id), status: 'pending', sendingUntil: IsNull(), nextAttemptAt: MoreThan(new Date()) },
        { nextAttemptAt: new Date() },
      );
      if (woken.affected) this.kick();
    };
    try {
      return await this.send(row, settle);
    } finally {
      await released().catch((err: Error) => this.deps.logger.warn({ err: err.message, writeId: row.id }, 'waking the next write of the same thing'));
    }
  }

  /** The claimed row's call to its EHR, and what came of it (settled, or back in line with backoff). */
  private async send(row: EhrWriteEntity, settle: (status: EhrWriteStatus, changes: Partial<EhrWriteEntity>) => Promise<void>): Promise<WriteOutcome> {
    const repo = this.deps.db.getRepository(EhrWriteEntity);
    try {
      const { externalClientId, input: stored } = payloadOf(row);
      const input = this.deps.prepare ? await this.deps.prepare(row, stored) : stored;
      // An adapter not loaded here (another instance may have it: a rolling configuration change) fails the call below: the row is kept and retried.
      const result = await this.deps.registry.call(
        row.source,
        row.method,
        (a, attempt) =>
          CALLS[row.method as EhrWriteMethod](a, externalClientId, input, attempt.context({ requestId: `ehr-write:${row.id}` })) ??
          Promise.resolve(cannot(row)),
        'write',
      );
      if (!result.done) {
        await settle('refused', { lastError: result.reason.slice(0, 500) });
        await this.deps.onRefused?.(row).catch((err: Error) => this.deps.logger.warn({ err: err.message, writeId: row.id }, 'after an EHR refusal'));
        return { state: 'refused', refusal: result.refusal, reason: result.reason };
      }
      await settle('delivered', { deliveredAt: new Date(), lastError: null });
      await this.deps.onDelivered?.(row).catch((err: Error) => this.deps.logger.warn({ err: err.message, writeId: row.id }, 'after an EHR write'));
      return { state: 'delivered', ...(result.id ? { id: result.id } : {}) };
    } catch (err) {
      const reason = (err as Error).message.slice(0, 500);
      if (err instanceof WriteCancelled) {
        await settle('cancelled', { lastError: reason });
        return { state: 'refused', refusal: 'NOT_CHANGEABLE', reason };
      }
      const attempts = row.attempts + 1;
      if (attempts >= (this.deps.options.maxAttempts ?? Number.POSITIVE_INFINITY)) {
        this.deps.logger.error({ writeId: row.id, method: row.method, source: row.source, attempts, err: reason }, 'EHR write is a dead letter');
        await settle('failed', { lastError: reason });
      } else {
        this.deps.logger.warn({ writeId: row.id, method: row.method, source: row.source, attempts, err: reason }, 'EHR write not taken yet; will retry');
        await repo.update(
          { id: row.id },
          {
            attempts,
            lastError: reason,
            sendingUntil: null,
            nextAttemptAt: new Date(Date.now() + cappedBackoff(attempts, this.deps.options.retryBaseMs, this.deps.options.retryMaxMs)),
          },
        );
      }
      return { state: 'pending' };
    }
  }
}

/** Methods whose open writes no read overlays (a message's state is read per conversation): they leave openAll's memory alone. */
const UNSHOWN: ReadonlySet<EhrWriteMethod> = new Set(['sendMessage', 'withdrawMessage']);

/**
 * How long openAll keeps what it read even while the client's stamp stays the same: a stamp that
 * could not be renewed (the store away during a write) is noticed by this age limit.
 */
const KEPT_MAX_AGE_MS = 30_000;

/** What a write's row keeps in `payload`: the client's id in that EHR and the method's input. */
interface WritePayload {
  externalClientId: string;
  input: unknown;
}

/** A write row's payload as stored by enqueue (the one place that knows its format). */
export const payloadOf = (row: Pick<EhrWriteEntity, 'payload'>): WritePayload => JSON.parse(row.payload) as WritePayload;

const cannot = (row: EhrWriteEntity): EhrWriteResult => ({ done: false, refusal: 'NOT_CHANGEABLE', reason: `adapter '${row.source}' cannot ${row.method}` });

/**
 * Dead letters of the client's writes back in line (all, or those about the given subjects), tried
 * again from the first backoff step; answers how many. `npm run outbox -- requeue` calls it while
 * the gateway runs: any instance's next pass picks them up (the clients' stamps are not renewed
 * here, so what openAll kept may say FAILED for up to KEPT_MAX_AGE_MS more).
 */
export async function requeueFailedWrites(db: DataSource, subjects?: string[]): Promise<number> {
  const result = await db.getRepository(EhrWriteEntity).update(subjects?.length ? { status: 'failed', subject: In(subjects) } : { status: 'failed' }, {
    status: 'pending',
    attempts: 0,
    nextAttemptAt: new Date(),
  });
  return result.affected ?? 0;
}
