import type { Context as OtelContext } from '@opentelemetry/api';
import DataLoader from 'dataloader';
import type { AdapterRequestContext, EhrAdapter, EhrPractitioner } from '../../../adapters/ports';
import { UpstreamUnavailableError } from '../../errors';
import type { ClientSourceRef, ClientsService } from '../clients/clients.service';
import type { AdapterRegistry } from './adapter-registry';
import type { EhrCache } from './ehr-cache';
import { globalId, parseGlobalId } from './global-id';

/** An upstream item tagged with the adapter (care organisation) it came from. */
export type Sourced<T> = T & { source: string };

export interface PartialFailure {
  source: string;
  part: string;
}

export interface EhrRequestInfo {
  requestId: string;
  accountId?: string;
  /** The operation's trace: each adapter call is a span under it, and passes it on to the EHR. */
  trace?: OtelContext;
  /** Where partial failures are reported (one adapter down, the others answered). */
  onPartialFailure: (failure: PartialFailure) => void;
}

/**
 * Reads EHR data for one request: resolves the portal's client id to its sources, fans out to
 * every adapter that knows the client in parallel, tags each item with its source, batches
 * practitioners per adapter, and turns one adapter's failure into a partial answer.
 * Build one per request (its DataLoaders must never be shared between viewers).
 */
export class RequestEhr {
  private readonly sources: DataLoader<string, ClientSourceRef[]>;
  private readonly practitioners: DataLoader<string, Sourced<EhrPractitioner> | null>;
  private readonly parts = new Map<string, Promise<unknown>>();
  private readonly loadedPractitioners = new Map<string, Sourced<EhrPractitioner> | null>();

  constructor(
    private readonly registry: AdapterRegistry,
    clients: ClientsService,
    private readonly info: EhrRequestInfo,
    private readonly cache?: EhrCache,
  ) {
    this.sources = new DataLoader(async (ids) => {
      const map = await clients.sourcesOf(ids);
      return ids.map((id) => (map.get(id) ?? []).filter((s) => registry.has(s.source)));
    });
    this.practitioners = new DataLoader(async (ids) => this.loadPractitioners(ids));
  }

  adapterContext(): AdapterRequestContext {
    return { requestId: this.info.requestId, accountId: this.info.accountId };
  }

  clientSources(clientId: string): Promise<ClientSourceRef[]> {
    return this.sources.load(clientId);
  }

  /**
   * A list part from every source, concatenated and mapped to what the gateway serves; partial when
   * some sources fail, an error when all do. The mapped list is what this request keeps, so a part
   * asked twice (dashboard and list) is fetched and mapped once; each part has one mapping.
   */
  collect<T, U>(
    clientId: string,
    part: string,
    fetch: (adapter: EhrAdapter, externalId: string, ctx: AdapterRequestContext) => Promise<T[]>,
    map: (item: T, source: string) => U,
  ): Promise<U[]> {
    return this.memo(clientId, part, async () => {
      const results = await this.fanOut(clientId, part, fetch);
      const items: U[] = [];
      for (const { source, value } of results) for (const item of value) items.push(map(item, source));
      return items;
    });
  }

  /** A single part: the first source (in EHR_ADAPTERS order) that has it. */
  first<T>(
    clientId: string,
    part: string,
    fetch: (adapter: EhrAdapter, externalId: string, ctx: AdapterRequestContext) => Promise<T | null>,
  ): Promise<Sourced<T> | null> {
    return this.memo(clientId, part, async () => {
      const results = await this.fanOut(clientId, part, fetch);
      const hit = results.find((r) => r.value !== null && r.value !== undefined);
      return hit ? Object.assign({}, hit.value as T, { source: hit.source }) : null;
    });
  }

  /** After a write: this request and the cache forget the client's part of that source, so the next read asks the EHR. */
  async forget(clientId: string, source: string, part: string): Promise<void> {
    this.parts.delete(partKey(clientId, part));
    await this.cache?.dropPart(clientId, source, part);
  }

  practitioner(id: string): Promise<Sourced<EhrPractitioner> | null> {
    return this.practitioners.load(id).then((p) => {
      this.loadedPractitioners.set(id, p);
      return p;
    });
  }

  /**
   * A practitioner this request already loaded, without a promise (undefined when not loaded yet):
   * lets a list of 100 appointments resolve its practitioners synchronously after one batch.
   */
  practitionerIfLoaded(id: string): Sourced<EhrPractitioner> | null | undefined {
    return this.loadedPractitioners.get(id);
  }

  /** Loads many practitioners in one batch ahead of the fields that will ask for them. */
  async prefetchPractitioners(ids: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(ids)].map((id) => this.practitioner(id).catch(() => undefined)));
  }

  /** The same part asked twice in one request (e.g. dashboard and list) costs one upstream call. */
  private memo<T>(clientId: string, part: string, load: () => Promise<T>): Promise<T> {
    const key = partKey(clientId, part);
    let hit = this.parts.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = load();
      this.parts.set(key, hit);
    }
    return hit;
  }

  private async fanOut<T>(
    clientId: string,
    part: string,
    fetch: (adapter: EhrAdapter, externalId: string, ctx: AdapterRequestContext) => Promise<T>,
  ): Promise<{ source: string; value: Awaited<T> }[]> {
    const sources = await this.clientSources(clientId);
    const settled = await Promise.allSettled(
      sources.map(async (s) => ({
        source: s.source,
        value: await this.readThrough(clientId, s.source, part, () =>
          this.registry.call(
            s.source,
            part,
            (adapter, attempt) => fetch(adapter, s.externalId, attempt.context(this.adapterContext())),
            'read',
            this.info.trace,
          ),
        ),
      })),
    );
    const ok = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [sources[i].source] : []));
    if (failed.length && !ok.length) throw new UpstreamUnavailableError(failed.join(','));
    for (const source of failed) this.info.onPartialFailure({ source, part });
    return ok;
  }

  private readThrough<T>(clientId: string, source: string, part: string, load: () => Promise<T>): Promise<T> {
    return this.cache ? this.cache.read(clientId, source, part, load) : load();
  }

  private async loadPractitioners(ids: readonly string[]): Promise<(Sourced<EhrPractitioner> | null | Error)[]> {
    const bySource = new Map<string, string[]>();
    for (const id of ids) {
      const parsed = parseGlobalId(id);
      if (parsed && this.registry.has(parsed.source)) bySource.set(parsed.source, [...(bySource.get(parsed.source) ?? []), parsed.externalId]);
    }
    const found = new Map<string, Sourced<EhrPractitioner> | Error>();
    await Promise.all(
      [...bySource.entries()].map(async ([source, externalIds]) => {
        try {
          const list = this.cache
            ? await this.cache.readMany(source, 'practitioner', externalIds, (missing) =>
                this.registry.call(
                  source,
                  'getPractitioners',
                  (adapter, attempt) => adapter.getPractitioners(missing, attempt.context(this.adapterContext())),
                  'read',
                  this.info.trace,
                ),
              )
            : await this.registry.call(
                source,
                'getPractitioners',
                (adapter, attempt) => adapter.getPractitioners(externalIds, attempt.context(this.adapterContext())),
                'read',
                this.info.trace,
              );
          for (const p of list) found.set(globalId(source, p.externalId), { ...p, source });
        } catch (err) {
          for (const externalId of externalIds) found.set(globalId(source, externalId), err as Error);
        }
      }),
    );
    // An Error in the answer rejects only that key (DataLoader's contract).
    return ids.map((id) => found.get(id) ?? null);
  }
}

/** What RequestEhr memoises a client's part under, for the length of one request. */
const partKey = (clientId: string, part: string): string => `${clientId}|${part}`;
