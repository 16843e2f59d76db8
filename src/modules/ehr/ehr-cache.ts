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
    const key = `ehr:${clientId}:${source}:${part}`;
    const hit = await this.kv.get(key).catch(() => null);
    if (hit !== null) return JSON.parse(hit) as T;
    const value = await load();
    // A cache that cannot be written is no reason to fail a read.
    await this.kv.set(key, JSON.stringify(value ?? null), this.ttlSeconds).catch(() => undefined);
    return value;
  }

  async dropClient(clientId: string): Promise<void> {
    await this.kv.deletePrefix(`ehr:${clientId}:`);
  }
}
