import { randomUUID, type KeyObject } from 'node:crypto';
import type { ActivityDefinition, Bundle, Endpoint, Patient, RelatedPerson, Resource, Task } from '@medplum/fhirtypes';
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  handleWhen,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
  type IPolicy,
} from 'cockatiel';
import jwt, { type Algorithm } from 'jsonwebtoken';
import type { AdapterRequestContext, ChangedTasks, KoppeltaalClientRef, KoppeltaalPort, KoppeltaalTask } from '../ports';
import { traceCall, traceHeadersOf, transientUpstreamFailure } from '../ports';
import { issuedToken, readPages, TokenCache, type IssuedToken } from '../fhir/fhir-http';
import { definitionKey, definitionOf, isSubtask, KT2, refId, toKoppeltaalTask } from './koppeltaal.mapping';

/** SMART backend services (`private_key_jwt`): the client assertion is signed with our key, as the HTI tokens are. */
export interface KoppeltaalAuth {
  tokenUrl: string;
  clientId: string;
  privateKey: KeyObject;
  keyId: string;
  algorithm: Algorithm;
  scope?: string;
}

export interface KoppeltaalResilience {
  timeoutMs: number;
  retries: number;
  breakerThreshold: number;
  halfOpenAfterMs: number;
  concurrency: number;
}

export interface KoppeltaalAdapterOptions {
  baseUrl: string;
  auth: KoppeltaalAuth;
  /** The identifier system under which the EHR registers its patient numbers on the domain's Patients. */
  patientIdentifierSystem: string;
  /** Which EHR (EHR_ADAPTERS name) those numbers are of. */
  ehrSource: string;
  resilience: KoppeltaalResilience;
  fetch?: typeof fetch;
  /** Resources per search page (`_count`), 100 unless a test asks for fewer. */
  pageSize?: number;
  /** Pages one search follows at most (20): a longer one fails, but for changed Tasks, which answer the oldest so many. */
  maxPages?: number;
}

/** A non-2xx answer from the Koppeltaal server or its token endpoint. */
export class KoppeltaalHttpError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`Koppeltaal answered ${status} for ${what}`);
    this.name = 'KoppeltaalHttpError';
  }
}

const FHIR_JSON = 'application/fhir+json';
const MAX_PAGES = 20;
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The Koppeltaal domain's FHIR R4 server (the KT2 profiles). Every call goes through its own
 * cockatiel policy: a bulkhead, retries of reads with capped backoff, a circuit breaker and a
 * timeout per attempt (the EHR adapters get theirs from the AdapterRegistry; this port has no registry).
 */
export class KoppeltaalFhirAdapter implements KoppeltaalPort {
  readonly name = 'koppeltaal';
  private readonly base: URL;
  private readonly fetchFn: typeof fetch;
  private readonly policy: IPolicy;
  private readonly tokens: TokenCache;

  constructor(private readonly options: KoppeltaalAdapterOptions) {
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.fetchFn = options.fetch ?? fetch;
    this.tokens = new TokenCache((signal) => this.fetchToken(signal));
    const r = options.resilience;
    this.policy = wrap(
      bulkhead(r.concurrency, r.concurrency * 4),
      retry(handleWhen(transientUpstreamFailure), { maxAttempts: r.retries, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }) }),
      circuitBreaker(handleAll, { halfOpenAfter: r.halfOpenAfterMs, breaker: new ConsecutiveBreaker(r.breakerThreshold) }),
      timeout(r.timeoutMs, TimeoutStrategy.Aggressive),
    );
  }

  async findPatient(refs: readonly KoppeltaalClientRef[], ctx: AdapterRequestContext): Promise<string | null> {
    const system = this.options.patientIdentifierSystem;
    for (const ref of refs.filter((r) => r.source === this.options.ehrSource)) {
      const patients = await this.search<Patient>('Patient', [['identifier', `${system}|${ref.externalId}`]], ctx);
      const found = patients.find((p) => p.identifier?.some((i) => i.system === system && i.value === ref.externalId));
      if (found?.id) return found.id;
    }
    return null;
  }

  async clientRefOf(patientId: string, ctx: AdapterRequestContext): Promise<KoppeltaalClientRef | null> {
    const patient = await this.read<Patient>('Patient', patientId, ctx);
    const value = patient?.identifier?.find((i) => i.system === this.options.patientIdentifierSystem)?.value;
    return value ? { source: this.options.ehrSource, externalId: value } : null;
  }

  async findRelatedPerson(patientId: string, email: string, ctx: AdapterRequestContext): Promise<string | null> {
    const wanted = email.trim().toLowerCase();
    const people = await this.search<RelatedPerson>('RelatedPerson', [['patient', `Patient/${patientId}`]], ctx);
    const match = people.find(
      (p) =>
        p.active !== false &&
        refId(p.patient.reference, 'Patient') === patientId &&
        p.telecom?.some((t) => t.system === 'email' && t.value?.trim().toLowerCase() === wanted),
    );
    return match?.id ?? null;
  }

  async listTasks(patientId: string, ctx: AdapterRequestContext): Promise<KoppeltaalTask[]> {
    const tasks = await this.search<Task>('Task', [['patient', `Patient/${patientId}`]], ctx);
    return this.withDefinitions(
      tasks.filter((t) => !isSubtask(t) && refId(t.for?.reference, 'Patient') === patientId),
      ctx,
    );
  }

  async getTask(taskId: string, ctx: AdapterRequestContext): Promise<KoppeltaalTask | null> {
    const task = await this.read<Task>('Task', taskId, ctx);
    if (!task || isSubtask(task)) return null;
    return (await this.withDefinitions([task], ctx))[0] ?? null;
  }

  /**
   * Oldest first and at most `maxPages` pages: a domain where more changed than that since the
   * last look (a bulk assignment) answers the oldest ones with `complete: false`, and the caller
   * asks again from the newest one's time, instead of failing the whole re-read every time.
   */
  async changedTasks(since: string, ctx: AdapterRequestContext): Promise<ChangedTasks> {
    const { items, complete } = await this.searchPages<Task>(
      'Task',
      [
        ['_lastUpdated', `ge${since}`],
        ['_sort', '_lastUpdated'],
      ],
      ctx,
    );
    const tasks = await this.withDefinitions(
      items.filter((t) => !isSubtask(t)),
      ctx,
    );
    return { tasks, complete };
  }

  /** The Tasks' ActivityDefinitions (by id or canonical url) and their Endpoints: two searches more at most, never one per Task. */
  private async withDefinitions(tasks: Task[], ctx: AdapterRequestContext): Promise<KoppeltaalTask[]> {
    if (!tasks.length) return [];
    const keys = tasks.flatMap((t) => {
      const d = definitionOf(t);
      return d ? [definitionKey(d)] : [];
    });
    const ids = [...new Set(keys.flatMap((k) => ('id' in k ? [k.id] : [])))];
    const urls = [...new Set(keys.flatMap((k) => ('url' in k ? [k.url] : [])))];
    const [byId, byUrl] = await Promise.all([
      ids.length ? this.search<ActivityDefinition>('ActivityDefinition', [['_id', ids.join(',')]], ctx) : Promise.resolve([]),
      urls.length ? this.search<ActivityDefinition>('ActivityDefinition', [['url', urls.join(',')]], ctx) : Promise.resolve([]),
    ]);
    const definitions = [...byId, ...byUrl];
    const endpointIds = [
      ...new Set(definitions.flatMap((d) => refId(d.extension?.find((e) => e.url === KT2.endpoint)?.valueReference?.reference, 'Endpoint') ?? [])),
    ];
    const endpoints = endpointIds.length ? await this.search<Endpoint>('Endpoint', [['_id', endpointIds.join(',')]], ctx) : [];
    return tasks.map((task) => {
      const d = definitionOf(task);
      const key = d ? definitionKey(d) : null;
      const definition = key ? definitions.find((ad) => ('id' in key ? ad.id === key.id : ad.url === key.url)) : undefined;
      const endpointId = refId(definition?.extension?.find((e) => e.url === KT2.endpoint)?.valueReference?.reference, 'Endpoint');
      return toKoppeltaalTask(
        task,
        definition,
        endpoints.find((e) => e.id === endpointId),
      );
    });
  }

  private async read<T extends Resource>(type: string, id: string, ctx: AdapterRequestContext): Promise<T | null> {
    const url = new URL(`${type}/${encodeURIComponent(id)}`, this.base);
    return this.call(ctx, async (signal) => {
      const res = await this.get(url, signal);
      if (res.status === 404 || res.status === 410) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new KoppeltaalHttpError(res.status, url.pathname);
      }
      const resource = (await res.json()) as Resource;
      return resource.resourceType === type ? (resource as T) : null;
    });
  }

  /** A search with its `next` pages (on this server only: a `next` elsewhere would take our token with it). */
  private async search<T extends Resource>(type: string, params: [string, string][], ctx: AdapterRequestContext): Promise<T[]> {
    const { items, complete } = await this.searchPages<T>(type, params, ctx);
    if (!complete) throw new Error(`Koppeltaal search ${type} has more than ${this.maxPages} pages`);
    return items;
  }

  /** Up to `maxPages` pages of a search; `complete` says whether that was all of it. */
  private async searchPages<T extends Resource>(
    type: string,
    params: [string, string][],
    ctx: AdapterRequestContext,
  ): Promise<{ items: T[]; complete: boolean }> {
    const query = new URLSearchParams(params);
    query.set('_count', String(this.options.pageSize ?? 100));
    return this.call(ctx, async (signal) => {
      const { bundles, complete } = await readPages(new URL(`${type}?${query.toString()}`, this.base), this.base, this.maxPages, async (url) => {
        const res: Response = await this.get(url, signal);
        if (!res.ok) {
          await res.body?.cancel();
          throw new KoppeltaalHttpError(res.status, url.pathname);
        }
        return (await res.json()) as Bundle;
      });
      const items: T[] = [];
      for (const bundle of bundles)
        for (const entry of bundle.entry ?? []) if (entry.resource?.resourceType === type && entry.search?.mode !== 'include') items.push(entry.resource as T);
      return { items, complete };
    });
  }

  private get maxPages(): number {
    return this.options.maxPages ?? MAX_PAGES;
  }

  /** One attempt under the policy, aborted by its timeout or by the caller; the caller's trace goes with it (to get's headers). */
  private call<T>(ctx: AdapterRequestContext, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const trace = traceHeadersOf(ctx.signal);
    return this.policy.execute(({ signal }) => {
      const attempt = ctx.signal ? AbortSignal.any([signal, ctx.signal]) : signal;
      if (trace) traceCall(attempt, trace);
      return run(attempt);
    });
  }

  private async get(url: URL, signal: AbortSignal): Promise<Response> {
    const token = await this.tokens.get(signal);
    const res = await this.fetchFn(url, { headers: { accept: FHIR_JSON, authorization: `Bearer ${token}`, ...traceHeadersOf(signal) }, signal });
    // An expired or revoked token: dropped, so the next attempt fetches a fresh one.
    if (res.status === 401) this.tokens.invalidate();
    return res;
  }

  /** SMART Backend Services: client_credentials with a client assertion (RFC 7523) signed with our key. */
  private async fetchToken(signal: AbortSignal): Promise<IssuedToken> {
    const { tokenUrl, clientId, privateKey, keyId, algorithm, scope } = this.options.auth;
    const assertion = jwt.sign({}, privateKey, {
      algorithm,
      keyid: keyId,
      issuer: clientId,
      subject: clientId,
      audience: tokenUrl,
      expiresIn: 300,
      jwtid: randomUUID(),
    });
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion });
    if (scope) body.set('scope', scope);
    const res = await this.fetchFn(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      signal,
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new KoppeltaalHttpError(res.status, 'the token endpoint');
    }
    return issuedToken(res, 'the Koppeltaal token endpoint');
  }
}
