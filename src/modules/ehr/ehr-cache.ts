import type { KeyValueStore } from '../../kv/kv';

/**
 * Read-through cache of EHR answers, in Redis when configured (shared by all instances) or in
 * process. Keys are per portal client, source and part (`ehr:<client>:<source>:<part>`), never per
 * viewer: the data is the same for everyone allowed to see it, and authorisation runs before any
 * read. Document content is never cached. A `dossier.changed` sync event drops a client's keys.
 */
export class EhrCache {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly ttlSeconds: number,
  ) {}

  get enabled(): boolean {
    return this.ttlSeconds > 0;
  }

  async read<T>(clientId: string, source: string, part: string, load: () => Promise<T>): Promise<T> {
    if (!this.enabled) return load();
    const key = partKey(clientId, source, part);
    const hit = await this.kv.get(key).catch(() => null);
    if (hit !== null) return JSON.parse(hit) as T;
    const value = await load();
    // A cache that cannot be written is no reason to fail a read.
    await this.kv.set(key, JSON.stringify(value ?? null), this.ttlSeconds).catch(() => undefined);
    return value;
  }

  /**
   * Items that are the same for every client (practitioners), by id: reads what is cached in one
   * round trip and loads only the missing ids (one batch upstream).
   */
  async readMany<T extends { externalId: string }>(
    source: string,
    kind: string,
    ids: readonly string[],
    load: (missing: string[]) => Promise<T[]>,
  ): Promise<T[]> {
    if (!this.enabled) return load([...ids]);
    const keys = ids.map((id) => itemKey(kind, source, id));
    const hits = await this.kv.getMany(keys).catch(() => keys.map(() => null));
    const found: T[] = [];
    const missing: string[] = [];
    hits.forEach((hit, i) => (hit === null ? missing.push(ids[i]) : found.push(JSON.parse(hit) as T)));
    if (missing.length) {
      const loaded = await load(missing);
      await Promise.all(
        loaded.map((item) => this.kv.set(itemKey(kind, source, item.externalId), JSON.stringify(item), this.ttlSeconds).catch(() => undefined)),
      );
      found.push(...loaded);
    }
    return found;
  }

  /** One part of one source, after the portal wrote it (an approval): the next read asks the EHR. */
  async dropPart(clientId: string, source: string, part: string): Promise<void> {
    if (this.enabled) await this.kv.del(partKey(clientId, source, part));
  }

  async dropClient(clientId: string): Promise<void> {
    await this.kv.deletePrefix(`ehr:${clientId}:`);
  }
}

const partKey = (clientId: string, source: string, part: string): string => `ehr:${clientId}:${source}:${part}`;
const itemKey = (kind: string, source: string, id: string): string => `ehr-${kind}:${source}:${id}`;
