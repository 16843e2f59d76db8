import {
  BrokenCircuitError,
  bulkhead,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleAll,
  type IPolicy,
  retry,
  TaskCancelledError,
  wrap,
} from 'cockatiel';
import type { EhrAdapter } from '../../../adapters/ports';
import { UpstreamUnavailableError } from '../../graphql/errors';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';

export interface ResilienceOptions {
  timeoutMs: number;
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

  constructor(
    adapters: EhrAdapter[],
    options: ResilienceOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.timeoutMs = options.timeoutMs;
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
      const retryReads = retry(handleAll, {
        maxAttempts: options.retries,
        backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }),
      });
      this.guarded.set(adapter.name, {
        adapter,
        read: wrap(limit, retryReads, breaker),
        write: wrap(limit, breaker),
        breakerState: () => breaker.state,
        byMethod: new Map(),
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

  /** Runs one adapter call under its policies; failures become UpstreamUnavailableError(source). */
  async call<T>(source: string, method: string, fn: (adapter: EhrAdapter, signal: AbortSignal) => Promise<T>, kind: 'read' | 'write' = 'read'): Promise<T> {
    const entry = this.guarded.get(source);
    if (!entry) throw new UpstreamUnavailableError(source, `No adapter named '${source}' is loaded on this gateway.`);
    let measured = entry.byMethod.get(method);
    if (!measured) {
      const duration = this.metrics.adapterDuration.labels({ adapter: source, method });
      const ok = this.metrics.adapterCalls.labels({ adapter: source, method, outcome: 'ok' });
      entry.byMethod.set(method, (measured = { startTimer: () => duration.startTimer(), ok: () => ok.inc() }));
    }
    const end = measured.startTimer();
    try {
      const result = await entry[kind].execute(() => this.callWithin((signal) => fn(entry.adapter, signal)), this.closing.signal);
      measured.ok();
      return result;
    } catch (err) {
      const outcome = err instanceof BrokenCircuitError ? 'circuit_open' : err instanceof TaskCancelledError ? 'timeout' : 'error';
      this.metrics.adapterCalls.inc({ adapter: source, method, outcome });
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
  private callWithin<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let cancel!: (error: TaskCancelledError) => void;
    const expired = new Promise<never>((_, reject) => {
      cancel = (error) => {
        controller.abort(error);
        reject(error);
      };
    });
    if (this.closing.signal.aborted) cancel(new TaskCancelledError('The gateway is shutting down.'));
    else timer = setTimeout(() => cancel(new TaskCancelledError(`Operation timed out after ${this.timeoutMs}ms`)), this.timeoutMs);
    this.inFlight.add(cancel);
    let attempt: Promise<T>;
    try {
      attempt = run(controller.signal);
    } catch (err) {
      attempt = Promise.reject(err);
    }
    return Promise.race([attempt, expired]).finally(() => {
      clearTimeout(timer);
      this.inFlight.delete(cancel);
    });
  }

  /** For /readyz: each adapter's ping (bounded by its timeout) and its breaker state. */
  async readiness(timeoutMs: number): Promise<Record<string, { ok: boolean; state: string; error?: string }>> {
    const out: Record<string, { ok: boolean; state: string; error?: string }> = {};
    await Promise.all(
      [...this.guarded.entries()].map(async ([name, entry]) => {
        const state = CircuitState[entry.breakerState()]!.toLowerCase();
        try {
          await entry.adapter.ping(AbortSignal.timeout(timeoutMs));
          out[name] = { ok: entry.breakerState() !== CircuitState.Open, state };
        } catch (err) {
          out[name] = { ok: false, state, error: (err as Error).message };
        }
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const cancel of this.inFlight) cancel(new TaskCancelledError('The gateway is shutting down.'));
    await Promise.all([...this.guarded.values()].map((g) => g.adapter.close?.()));
  }
}
