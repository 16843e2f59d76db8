import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance (no global state), so two instances in one test do not mix. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly graphqlOperations = new Counter({
    name: 'gateway_graphql_operations_total',
    help: 'GraphQL operations by name, type and outcome',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly graphqlDuration = new Histogram({
    name: 'gateway_graphql_operation_duration_seconds',
    help: 'GraphQL operation latency by name',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly graphqlDirect = new Counter({
    name: 'gateway_graphql_direct_total',
    help: "Queries answered on the direct path (a known query text, no errors), without Apollo's request pipeline",
    registers: [this.registry],
  });
  readonly syncEvents = new Counter({
    name: 'gateway_sync_events_total',
    help: 'Inbound practitioner-system events by type and outcome (accepted, duplicate, refused, invalid, rate_limited, processed, retry, failed)',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly wsConnections = new Gauge({
    name: 'gateway_websocket_connections',
    help: 'Open GraphQL WebSocket connections',
    registers: [this.registry],
  });
  readonly adapterCalls = new Counter({
    name: 'gateway_adapter_calls_total',
    help: 'Calls to EHR adapters by adapter, method and outcome',
    labelNames: ['adapter', 'method', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly adapterDuration = new Histogram({
    name: 'gateway_adapter_call_duration_seconds',
    help: 'EHR adapter call latency',
    labelNames: ['adapter', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly adapterCircuit = new Gauge({
    name: 'gateway_adapter_circuit_open',
    help: '1 while the circuit breaker of an adapter is open',
    labelNames: ['adapter'] as const,
    registers: [this.registry],
  });
  readonly securityEvents = new Counter({
    name: 'gateway_security_events_total',
    help: 'Logins, failed logins, codes sent, refresh reuse, logouts',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  /** What the outbox to the EHRs holds, read at scrape time (set by the composition root). */
  outboxCounts: (() => Promise<{ pending: number; failed: number }>) | null = null;
  readonly outboxRows = new Gauge({
    name: 'gateway_outbox_rows',
    help: 'Writes to the EHRs waiting (pending) and dead letters (failed: retried no more until requeued)',
    labelNames: ['status'] as const,
    registers: [this.registry],
    collect: async () => {
      const counts = await this.outboxCounts?.().catch(() => null);
      if (!counts) return;
      this.outboxRows.set({ status: 'pending' }, counts.pending);
      this.outboxRows.set({ status: 'failed' }, counts.failed);
    },
  });

  /** What the inbound sync events hold, read at scrape time (set by the composition root). */
  syncEventCounts: (() => Promise<{ pending: number; givenUp: number }>) | null = null;
  readonly syncEventRows = new Gauge({
    name: 'gateway_sync_events_open',
    help: 'Inbound sync events not processed: waiting (pending) and given up (given_up: tried no more until requeued)',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: async () => {
      const counts = await this.syncEventCounts?.().catch(() => null);
      if (!counts) return;
      this.syncEventRows.set({ state: 'pending' }, counts.pending);
      this.syncEventRows.set({ state: 'given_up' }, counts.givenUp);
    },
  });

  /** How many stored files wait to be deleted after their rows went, read at scrape time (set by the composition root). */
  fileDeletionsPending: (() => Promise<number>) | null = null;
  readonly storedFileDeletions = new Gauge({
    name: 'gateway_stored_file_deletions_pending',
    help: 'Stored files whose rows are gone and whose bytes are still to be deleted (file storage failed; the next sweep tries again)',
    registers: [this.registry],
    collect: async () => {
      const pending = await this.fileDeletionsPending?.().catch(() => null);
      if (pending !== null && pending !== undefined) this.storedFileDeletions.set(pending);
    },
  });

  /** The operation names that may become label values (bounded: see OperationLabels). */
  readonly operations: OperationLabels;

  constructor(options: { collectDefaults?: boolean; knownOperations?: ReadonlySet<string> | null } = {}) {
    if (options.collectDefaults ?? true) collectDefaultMetrics({ register: this.registry });
    this.operations = new OperationLabels(options.knownOperations ?? null);
  }
}

/** The label every operation name beyond the known ones is counted under. */
export const OTHER_OPERATIONS = '__other__';

/**
 * Operation names are chosen by whoever sends the request, and every label value a Prometheus
 * registry sees is kept for good: thousands of made-up names once made /metrics fail for good. So
 * only known names become labels: with trusted documents, their operations' names; without, the
 * first `max` names of at most 64 characters this instance saw (a frontend's operations are a few
 * dozen). Everything else is counted as one value, OTHER_OPERATIONS.
 */
export class OperationLabels {
  private readonly seen = new Set<string>();

  constructor(
    private readonly known: ReadonlySet<string> | null,
    private readonly max = 200,
  ) {}

  label(name: string | null | undefined): string {
    if (!name || name === 'anonymous') return 'anonymous';
    if (this.known) return this.known.has(name) ? name : OTHER_OPERATIONS;
    if (this.seen.has(name)) return name;
    if (name.length > 64 || this.seen.size >= this.max) return OTHER_OPERATIONS;
    this.seen.add(name);
    return name;
  }
}
