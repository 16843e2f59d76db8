import { LRUCache } from 'lru-cache';
import type { AdapterRequestContext, KoppeltaalPort, KoppeltaalTask } from '../../../adapters/ports';
import { PortalRelation, type PortalAccess } from '../../auth/permissions';
import { AppError, UpstreamUnavailableError } from '../../errors';
import type { EventBus } from '../../events/event-bus';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { tracedAdapterCall } from '../../observability/tracing';
import { AdapterAttempt } from '../ehr/adapter-registry';
import type { Context as OtelContext } from '@opentelemetry/api';
import type { KeyValueStore } from '../../kv/kv';
import type { ClientsService } from '../clients/clients.service';
import { EHEALTH_TOPIC } from './ehealth.topics';
import { EhealthModuleStatus, type EhealthModule } from './ehealth.types';
import type { LaunchKey } from './launch-key';

/** FHIR Task.status → the module's state; undefined: not shown (a draft). */
const STATUS: Record<string, EhealthModuleStatus | undefined> = {
  requested: EhealthModuleStatus.ASSIGNED,
  received: EhealthModuleStatus.ASSIGNED,
  accepted: EhealthModuleStatus.ASSIGNED,
  ready: EhealthModuleStatus.ASSIGNED,
  'in-progress': EhealthModuleStatus.IN_PROGRESS,
  'on-hold': EhealthModuleStatus.ON_HOLD,
  completed: EhealthModuleStatus.COMPLETED,
  cancelled: EhealthModuleStatus.CANCELLED,
  rejected: EhealthModuleStatus.CANCELLED,
  failed: EhealthModuleStatus.CANCELLED,
  // Recorded by mistake: not shown, in the list or live.
  'entered-in-error': undefined,
};
const LAUNCHABLE = new Set([EhealthModuleStatus.ASSIGNED, EhealthModuleStatus.IN_PROGRESS, EhealthModuleStatus.COMPLETED]);

/** A rest-hook says only that something changed: Tasks are looked for from this long before the last one seen. */
const OVERLAP_MS = 2_000;
/** How long the instances remember a pushed change (longer than any look back). */
const SEEN_TTL_SECONDS = 3600;

export interface EhealthOptions {
  port: KoppeltaalPort | null;
  clients: ClientsService;
  bus: EventBus;
  key: LaunchKey;
  /** Our client id in the Koppeltaal domain: the HTI token's `iss`. */
  clientId: string;
  launchTtlSeconds: number;
  logger: Logger;
  /** Calls to the domain counted and timed as the EHR adapters' are (adapter `koppeltaal`). */
  metrics: Pick<Metrics, 'adapterCalls' | 'adapterDuration'>;
  /** Shared by the instances: a Task's change is pushed once, whichever instance got the rest-hook. */
  kv: Pick<KeyValueStore, 'setIfAbsent'>;
}

/** What /readyz shows of the Koppeltaal domain: when it last answered and last failed. */
export interface KoppeltaalHealth {
  lastOkAt: string | null;
  lastFailure: { at: string; method: string; message: string } | null;
}

/** Who the viewer is in the Koppeltaal domain for one client: the HTI `sub`. */
export type Subject = `Patient/${string}` | `RelatedPerson/${string}`;

/**
 * The client's eHealth modules in the Koppeltaal domain and their launch. Who sees and launches a
 * module: the client, their Task (owner absent or their own Patient); a parent or representative
 * only a Task whose `owner` is their own RelatedPerson of that Patient (the organisation assigned
 * it to them), found by their account's e-mail in the RelatedPerson's telecom. Network members
 * never (the gate: VIEW_EHEALTH_MODULES and LAUNCH_EHEALTH_MODULE have no member permission).
 */
export class EhealthService {
  private readonly seen = new LRUCache<string, true>({ max: 10_000 });
  /** Found RelatedPersons (patient|e-mail → id) and a Patient's client, briefly: a live event asks for every seat. */
  private readonly people = new LRUCache<string, string>({ max: 10_000, ttl: 60_000 });
  private readonly patients = new LRUCache<string, string>({ max: 10_000, ttl: 300_000 });
  private readonly patientOfClient = new LRUCache<string, string>({ max: 10_000, ttl: 300_000 });
  /** A rest-hook's re-read looks from here; process start at first (notifications before it are not ours to catch up). */
  private watermark = new Date(Date.now() - 60_000);
  private refreshing: Promise<void> | null = null;
  private again = false;
  private readonly named = new Set<string>();
  private lastOkAt: string | null = null;
  private lastFailure: KoppeltaalHealth['lastFailure'] = null;

  constructor(private readonly o: EhealthOptions) {}

  /** The public key modules verify our launch tokens with (the JWKS route). */
  jwks() {
    return this.o.key.jwks();
  }

  get configured(): boolean {
    return this.o.port !== null;
  }

  /** The client's Patient in the domain, or null (no Koppeltaal, or the client is not there). */
  async patientOf(clientId: string, ctx: AdapterRequestContext): Promise<string | null> {
    const port = this.o.port;
    if (!port) return null;
    const known = this.patientOfClient.get(clientId);
    if (known) return known;
    const refs = (await this.o.clients.sourcesOf([clientId])).get(clientId) ?? [];
    const patientId = refs.length ? await this.upstream('findPatient', ctx, (c) => port.findPatient(refs, c)) : null;
    // Both ways, as briefly as clientOfPatient keeps them: a screen and its live events then search the domain once.
    if (patientId) {
      this.patientOfClient.set(clientId, patientId);
      this.patients.set(patientId, clientId);
    }
    return patientId;
  }

  /** The viewer as `sub`: the client's Patient, or their own RelatedPerson of it; null when they have none. */
  async subjectOf(access: PortalAccess, email: string | null, patientId: string, ctx: AdapterRequestContext): Promise<Subject | null> {
    if (access.relation === PortalRelation.SELF) return `Patient/${patientId}`;
    if (access.relation === PortalRelation.NETWORK_MEMBER || !email || !this.o.port) return null;
    const port = this.o.port;
    const key = `${patientId}|${email.trim().toLowerCase()}`;
    const id = this.people.get(key) ?? (await this.upstream('findRelatedPerson', ctx, (c) => port.findRelatedPerson(patientId, email, c)));
    if (id) this.people.set(key, id);
    return id ? `RelatedPerson/${id}` : null;
  }

  /** The Tasks this viewer sees, as modules; drafts never. */
  async list(patientId: string, subject: Subject | null, ctx: AdapterRequestContext): Promise<EhealthModule[]> {
    const port = this.o.port;
    if (!port || !subject) return [];
    const tasks = await this.upstream('listTasks', ctx, (c) => port.listTasks(patientId, c));
    return tasks.filter((t) => visibleTo(t, subject, patientId)).flatMap((t) => present(t) ?? []);
  }

  async task(taskId: string, ctx: AdapterRequestContext): Promise<KoppeltaalTask | null> {
    const port = this.o.port;
    return port ? this.upstream('getTask', ctx, (c) => port.getTask(taskId, c)) : null;
  }

  /** The portal's client a domain Patient is, or null. */
  async clientOfPatient(patientId: string, ctx: AdapterRequestContext): Promise<string | null> {
    const port = this.o.port;
    if (!port) return null;
    const known = this.patients.get(patientId);
    if (known) return known;
    const ref = await this.upstream('clientRefOf', ctx, (c) => port.clientRefOf(patientId, c));
    const clientId = ref ? await this.o.clients.existingClientId(ref) : null;
    if (clientId) this.patients.set(patientId, clientId);
    return clientId;
  }

  /** The HTI 2.0 launch: the signed token for this viewer and Task, and where the browser posts it (`now`: tests sign expired ones). */
  launch(task: KoppeltaalTask & { launchUrl: string; device: string }, subject: Subject, patientId: string, now = Date.now()) {
    const claims = {
      iss: this.o.clientId,
      aud: task.device,
      sub: subject,
      resource: `Task/${task.id}`,
      ...(task.definition ? { definition: task.definition } : {}),
      ...(subject.startsWith('Patient/') ? {} : { patient: `Patient/${patientId}` }),
      intent: 'plan',
    };
    const signed = this.o.key.signLaunch(claims, this.o.launchTtlSeconds, now);
    return { url: task.launchUrl, method: 'POST', fields: [{ name: 'token', value: signed.token }], expiresAt: signed.expiresAt, jti: signed.jti };
  }

  /**
   * A Koppeltaal rest-hook arrived (no payload, or only ids): the Tasks changed since the last
   * look are read again and each one's new state goes to its client's live subscribers. One
   * re-read at a time; notifications meanwhile make one more afterwards.
   */
  notified(taskIds: readonly string[] = []): Promise<void> {
    for (const id of taskIds) this.named.add(id);
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          // The ids named by every notification since the last look, also those that came during it.
          const named = [...this.named];
          this.named.clear();
          await this.refresh(named);
        } while (this.again);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  health(): KoppeltaalHealth | null {
    return this.o.port ? { lastOkAt: this.lastOkAt, lastFailure: this.lastFailure } : null;
  }

  /**
   * One call to the domain (its adapter holds the timeout, retries, breaker and bulkhead): counted
   * and timed, a failure logged and kept for /readyz, and answered as UPSTREAM_UNAVAILABLE.
   */
  private async upstream<T>(method: string, ctx: UpstreamContext, run: (ctx: AdapterRequestContext) => Promise<T>): Promise<T> {
    const end = this.o.metrics.adapterDuration.startTimer({ adapter: 'koppeltaal', method });
    try {
      const result = ctx.trace ? await traced(method, ctx, ctx.trace, run) : await run(ctx);
      this.o.metrics.adapterCalls.inc({ adapter: 'koppeltaal', method, outcome: 'ok' });
      this.lastOkAt = new Date().toISOString();
      return result;
    } catch (err) {
      if (err instanceof AppError) throw err;
      const message = (err as Error).message.slice(0, 200);
      this.o.metrics.adapterCalls.inc({ adapter: 'koppeltaal', method, outcome: 'error' });
      this.lastFailure = { at: new Date().toISOString(), method, message };
      this.o.logger.warn({ adapter: 'koppeltaal', method, err: message }, 'Koppeltaal call failed');
      throw new UpstreamUnavailableError('koppeltaal', 'The eHealth modules (Koppeltaal) do not answer right now.');
    } finally {
      end();
    }
  }

  /** Waits for a re-read under way (shutdown: before the bus and database close). */
  async drain(): Promise<void> {
    await this.refreshing?.catch(() => undefined);
  }

  private async refresh(taskIds: readonly string[]): Promise<void> {
    const port = this.o.port;
    if (!port) return;
    const ctx = { requestId: 'koppeltaal-notification' };
    const since = new Date(this.watermark.getTime() - OVERLAP_MS).toISOString();
    const before = this.watermark.getTime();
    const { tasks: changed, complete } = await this.upstream('changedTasks', ctx, (c) => port.changedTasks(since, c));
    for (const id of taskIds)
      if (!changed.some((t) => t.id === id)) changed.push(...[await this.upstream('getTask', ctx, (c) => port.getTask(id, c))].flatMap((t) => t ?? []));
    for (const task of changed) {
      const modified = task.updatedAt ? new Date(task.updatedAt) : null;
      if (modified && modified > this.watermark) this.watermark = modified;
      const key = `${task.id}|${task.updatedAt ?? ''}|${task.status}|${task.progress ?? ''}`;
      if (this.seen.has(key) || !task.patientId) continue;
      const clientId = await this.clientOfPatient(task.patientId, ctx);
      if (!clientId) continue;
      this.seen.set(key, true);
      // Another instance may have pushed this very change (its own rest-hook, an overlapping look back); without Redis, once per instance.
      const first = await this.o.kv.setIfAbsent(`koppeltaal:pushed:${key}`, '1', SEEN_TTL_SECONDS).catch(() => true);
      if (!first) continue;
      await EHEALTH_TOPIC.publish(this.o.bus, { clientId, patientId: task.patientId, task });
    }
    if (complete) return;
    // More changed than one answer holds: the oldest came, the rest from the newest one's time, at once.
    if (this.watermark.getTime() > before) this.again = true;
    else this.o.logger.warn({ since }, 'Koppeltaal: more Tasks changed within the look-back than one answer holds; the rest is read at the next notification');
  }
}

/** Whether a Task is this viewer's to see and launch (see EhealthService). */
export function visibleTo(task: KoppeltaalTask, subject: Subject, patientId: string): boolean {
  if (task.patientId !== patientId) return false;
  if (subject.startsWith('Patient/')) return task.owner === null || task.owner === subject;
  return task.owner === subject;
}

/** A Task as the module it is; null for a draft. */
export function present(task: KoppeltaalTask): EhealthModule | null {
  const status = STATUS[task.status];
  if (!status) return null;
  return {
    id: task.id,
    title: task.title,
    description: task.description,
    status,
    progress: task.progress,
    lastModified: task.lastModified ? new Date(task.lastModified) : null,
    launchable: LAUNCHABLE.has(status) && !!task.launchUrl && !!task.device,
  };
}

/**
 * A Koppeltaal call's context: a request's (GatewayContext) or the re-read's, with the request's
 * trace when it has one. No caller's signal: the adapter's own policy holds the timeout.
 */
type UpstreamContext = Omit<AdapterRequestContext, 'signal'> & { trace?: OtelContext };

/**
 * The call as a CLIENT span under the request's trace, as the EHR registry makes its attempts: the
 * span's W3C headers reach the adapter by the attempt's signal (the ports' traceHeadersOf), so the
 * Koppeltaal server continues the trace.
 */
function traced<T>(method: string, ctx: UpstreamContext, trace: OtelContext, run: (ctx: AdapterRequestContext) => Promise<T>): Promise<T> {
  const attempt = new AdapterAttempt();
  return tracedAdapterCall(trace, `koppeltaal ${method}`, { 'ggz.ehr.adapter': 'koppeltaal', 'ggz.ehr.method': method }, attempt, () =>
    run(attempt.context(ctx)),
  );
}
