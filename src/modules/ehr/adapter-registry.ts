import type { Context as OtelContext } from '@opentelemetry/api';
import {
  BrokenCircuitError,
  bulkhead,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleAll,
  handleWhen,
  type IPolicy,
  retry,
  TaskCancelledError,
  wrap,
} from 'cockatiel';
import { transientUpstreamFailure, type AdapterRequestContext, type EhrAdapter } from '../../../adapters/ports';
import { UpstreamUnavailableError } from '../../errors';
import { tracedAdapterCall } from '../../observability/tracing';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';

export interface ResilienceOptions {
  /** One attempt's deadline. */
  timeoutMs: number;
  /** A read's deadline over all its attempts and the waits between them (a write has one attempt of timeoutMs). */
  deadlineMs: number;
  retries: number;
  breakerThreshold: number;
  halfOpenAfterMs: number;
  concurrency: number;
}

interface Guarded {
  adapter: EhrAdapter;
  /** Bulkhead, retries (reads only) and circuit breaker; the deadline per attempt is callWithin. */
  read: IPolicy;
  write: IPolicy;
  breakerState: () => CircuitState;
  /** Each method's labelled metrics, looked up once rather than by label object on every call. */
  byMethod: Map<string, MethodMetrics>;
  /** The last answer and the last failure, for /readyz (which asks no EHR itself). */
  lastOk: number | null;
  lastFailure: { at: number; message: string } | null;
}

/**
 * One attempt of an adapter call, as its function sees it: `context(base)` is the request context
 * the adapter method takes, and the attempt's abort signal is made when the adapter first reads
 * `signal` (an adapter that calls over the network does, for fetch). Node makes an AbortSignal in
 * about 2 µs plus its collection (an EventTarget with a changed prototype); an adapter in this
 * process that never reads it (the demo EHR) then costs none, measured 3 % of a 100-appointment
 * screen's CPU at five calls per screen. A signal read after the attempt was cancelled is born
 * aborted, with the same reason.
 */
export class AdapterAttempt {
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** The adapter method's context for this attempt: `base` with this attempt's (lazily made) signal. */
  context(base: Omit<AdapterRequestContext, 'signal'>): AdapterRequestContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter below is the context's, not the attempt's
    const attempt = this;
    return {
      requestId: base.requestId,
      accountId: base.accountId,
      get signal() {
        return attempt.signal;
      },
    };
  }

  abort(reason: Error): void {
    this.reason ??= reason;
    this.controller?.abort(reason);
  }
}

/** What /readyz and /metrics say of one adapter: its breaker and how its last calls went. */
export interface AdapterHealth {
  state: 'closed' | 'open' | 'half-open' | 'isolated';
  lastOk: string | null;
  lastFailure: { at: string; message: string } | null;
}

/**
 * Whether another attempt may help: a refused or reset connection, or the upstream saying it is
 * overloaded or unavailable (429, 502, 503, 504). Not a timeout (the upstream is slow: another
 * attempt would only add to the wait), not an open circuit (fail fast), not a client error.
 */
export function worthRetrying(err: unknown): boolean {
  if (err instanceof BrokenCircuitError || err instanceof TaskCancelledError) return false;
  return transientUpstreamFailure(err);
}

interface MethodMetrics {
  startTimer: () => () => void;
  ok: () => void;
}

/**
 * The loaded EHR adapters, each behind its own policies: a bulkhead (concurrency limit), a circuit
 * breaker, a timeout per call, and (for reads only) retries with capped, jittered backoff.
 * Retries live here and nowhere else, so a slow upstream is never retried at two layers.
 *
 * The timeout is ours (callWithin), not cockatiel's: cockatiel's timeout policy listens on three
 * abort signals per call (the parent's, its own, and a promise made from it), which cost about 5 %
 * of a 100-appointment screen's CPU at five adapter calls per screen (measured against the build
 * with cockatiel's timeout); ours
 * settles the call from its timer and cancels calls at shutdown from a set, with no listeners.
 */
export class AdapterRegistry {
  private readonly guarded = new Map<string, Guarded>();
  /** Aborted by close(): queued calls and retries stop (cockatiel's policies read it). */
  private readonly closing = new AbortController();
  /** How to cancel each attempt under way (abort its signal, fail it): close() cancels them all. */
  private readonly inFlight = new Set<(error: TaskCancelledError) => void>();
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;

  constructor(
    adapters: EhrAdapter[],
    options: ResilienceOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.timeoutMs = options.timeoutMs;
    this.deadlineMs = options.deadlineMs;
    for (const adapter of adapters) {
      const breaker = circuitBreaker(handleAll, {
        halfOpenAfter: options.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(options.breakerThreshold),
      });
      breaker.onStateChange((state) => {
        metrics.adapterCircuit.set({ adapter: adapter.name }, state === CircuitState.Open ? 1 : 0);
        logger.warn({ adapter: adapter.name, state: CircuitState[state] }, 'adapter circuit breaker changed state');
      });
      const limit = bulkhead(options.concurrency, options.concurrency * 4);
      const retryReads = retry(handleWhen(worthRetrying), {
        maxAttempts: options.retries,
        backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }),
      });
      this.guarded.set(adapter.name, {
        adapter,
        read: wrap(limit, retryReads, breaker),
        write: wrap(limit, breaker),
        breakerState: () => breaker.state,
        byMethod: new Map(),
        lastOk: null,
        lastFailure: null,
      });
    }
  }

  get names(): string[] {
    return [...this.guarded.keys()];
  }

  has(name: string): boolean {
    return this.guarded.has(name);
  }

  adapter(name: string): EhrAdapter | undefined {
    return this.guarded.get(name)?.adapter;
  }

  /**
   * Runs one adapter call under its policies; failures become UpstreamUnavailableError(source).
   * Under a request's trace each attempt is a span, and its signal carries the trace to the adapter.
   */
  async call<T>(
    source: string,
    method: string,
    fn: (adapter: EhrAdapter, attempt: AdapterAttempt) => Promise<T>,
    kind: 'read' | 'write' = 'read',
    trace?: OtelContext,
  ): Promise<T> {
    const entry = this.guarded.get(source);
    if (!entry) throw new UpstreamUnavailableError(source, `No adapter named '${source}' is loaded on this gateway.`);
    let measured = entry.byMethod.get(method);
    if (!measured) {
      const duration = this.metrics.adapterDuration.labels({ adapter: source, method });
      const ok = this.metrics.adapterCalls.labels({ adapter: source, method, outcome: 'ok' });
      entry.byMethod.set(method, (measured = { startTimer: () => duration.startTimer(), ok: () => ok.inc() }));
    }
    const end = measured.startTimer();
    // A read has one deadline for all its attempts; each attempt gets what is left of it (at most timeoutMs).
    const deadline = kind === 'read' ? Date.now() + this.deadlineMs : Infinity;
    try {
      const result = await entry[kind].execute(
        () =>
          this.callWithin(
            (attempt) =>
              trace
                ? tracedAdapterCall(trace, `ehr ${source}.${method}`, { 'ggz.ehr.adapter': source, 'ggz.ehr.method': method }, attempt, () =>
                    fn(entry.adapter, attempt),
                  )
                : fn(entry.adapter, attempt),
            Math.min(this.timeoutMs, deadline - Date.now()),
          ),
        this.closing.signal,
      );
      measured.ok();
      entry.lastOk = Date.now();
      return result;
    } catch (err) {
      const outcome = err instanceof BrokenCircuitError ? 'circuit_open' : err instanceof TaskCancelledError ? 'timeout' : 'error';
      this.metrics.adapterCalls.inc({ adapter: source, method, outcome });
      entry.lastFailure = { at: Date.now(), message: `${outcome}: ${(err as Error).message}`.slice(0, 200) };
      this.logger.warn({ adapter: source, method, outcome, err: (err as Error).message }, 'adapter call failed');
      throw new UpstreamUnavailableError(source);
    } finally {
      end();
    }
  }

  /**
   * One attempt with its deadline: the adapter gets a signal that aborts when the time is up (or
   * the gateway shuts down), and the attempt fails with TaskCancelledError then, whether or not the
   * adapter honours the signal (cockatiel's "aggressive" strategy). An attempt that settled in time
   * leaves nothing behind: its timer is cleared and its signal is never aborted.
   */
  private callWithin<T>(run: (attempt: AdapterAttempt) => Promise<T>, timeoutMs: number): Promise<T> {
    const attempt = new AdapterAttempt();
    let timer: NodeJS.Timeout | undefined;
    let cancel!: (error: TaskCancelledError) => void;
    const expired = new Promise<never>((_, reject) => {
      cancel = (error) => {
        attempt.abort(error);
        reject(error);
      };
    });
    if (this.closing.signal.aborted) cancel(new TaskCancelledError('The gateway is shutting down.'));
    else if (timeoutMs <= 0) cancel(new TaskCancelledError(`The read's deadline of ${this.deadlineMs}ms has passed`));
    else timer = setTimeout(() => cancel(new TaskCancelledError(`Operation timed out after ${timeoutMs}ms`)), timeoutMs);
    this.inFlight.add(cancel);
    let running: Promise<T>;
    try {
      running = run(attempt);
    } catch (err) {
      running = Promise.reject(err);
    }
    return Promise.race([running, expired]).finally(() => {
      clearTimeout(timer);
      this.inFlight.delete(cancel);
    });
  }

  /**
   * For /readyz: each adapter's breaker and how its last calls went, without calling it (a probe
   * every few seconds on every instance would otherwise be load on every EHR).
   */
  health(): Record<string, AdapterHealth> {
    const out: Record<string, AdapterHealth> = {};
    for (const [name, entry] of this.guarded) {
      const state = CircuitState[entry.breakerState()].toLowerCase().replace('halfopen', 'half-open') as AdapterHealth['state'];
      out[name] = {
        state,
        lastOk: entry.lastOk ? new Date(entry.lastOk).toISOString() : null,
        lastFailure: entry.lastFailure ? { at: new Date(entry.lastFailure.at).toISOString(), message: entry.lastFailure.message } : null,
      };
    }
    return out;
  }

  /**
   * Asks every adapter once whether its upstream answers (FHIR: GET /metadata), at start, so the
   * log and /readyz say at once when an EHR is unreachable; answers the names that did not answer.
   */
  async probe(timeoutMs: number): Promise<string[]> {
    const down: string[] = [];
    await Promise.all(
      [...this.guarded.entries()].map(async ([name, entry]) => {
        try {
          await entry.adapter.ping(AbortSignal.timeout(timeoutMs));
          entry.lastOk = Date.now();
        } catch (err) {
          entry.lastFailure = { at: Date.now(), message: `probe: ${(err as Error).message}`.slice(0, 200) };
          down.push(name);
        }
      }),
    );
    if (down.length) this.logger.warn({ adapters: down }, 'an EHR did not answer at start; its parts answer UPSTREAM_UNAVAILABLE until it does');
    return down;
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const cancel of this.inFlight) cancel(new TaskCancelledError('The gateway is shutting down.'));
    await Promise.all([...this.guarded.values()].map(async (g) => g.adapter.close?.()));
  }
}
