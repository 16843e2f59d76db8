import { randomUUID } from 'node:crypto';
import type { KeyValueStore } from '../../kv/kv';

/**
 * Read-through cache of EHR answers, in Redis when configured (shared by all instances) or in
 * process. Keys are per portal client, source and part (`ehr2:<client>:<source>:<part>`), never per
 * viewer: the data is the same for everyone allowed to see it, and authorisation runs before any
 * read. Document content is never cached. A `dossier.changed` sync event drops a client's keys.
 *
 * Each client's entries are kept under the client's stamp (`ehr-stamp:<client>`, renewed by every
 * drop) and count only while it is unchanged: a read that asked the EHR before a drop and stores
 * its answer after it (the EHR was slow, the event quick) leaves an entry nobody takes, so the
 * next read asks the EHR again instead of serving the old answer for CACHE_TTL_SECONDS. The stamp
 * comes with the entry in one round trip.
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
    const [hit, stamp] = await this.kv.getMany([key, stampKey(clientId)]).catch(() => [null, null]);
    const under = stamp ?? '';
    if (hit !== null) {
      const cut = hit.indexOf('|');
      if (cut >= 0 && hit.slice(0, cut) === under) return JSON.parse(hit.slice(cut + 1)) as T;
    }
    const value = await load();
    // A cache that cannot be written is no reason to fail a read.
    await this.kv.set(key, `${under}|${JSON.stringify(value ?? null)}`, this.ttlSeconds).catch(() => undefined);
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
    if (!this.enabled) return;
    // The client's stamp too: a read of this part under way now must not store its answer for later reads.
    await Promise.all([this.renewStamp(clientId), this.kv.del(partKey(clientId, source, part))]);
  }

  async dropClient(clientId: string): Promise<void> {
    // Also the keys of the build before the stamps (`ehr:`), which instances of it still write during a rolling update.
    await Promise.all([
      this.enabled ? this.renewStamp(clientId) : undefined,
      this.kv.deletePrefix(`${PART_PREFIX}${clientId}:`),
      this.kv.deletePrefix(`ehr:${clientId}:`),
    ]);
  }

  /**
   * Outlives every entry stored under it by an hour (an entry stored under the stamp's absence
   * before a drop must not count again once the drop's stamp lapses).
   */
  private renewStamp(clientId: string): Promise<void> {
    return this.kv.set(stampKey(clientId), randomUUID(), this.ttlSeconds + 3600);
  }
}

/**
 * Entries under the stamp (`<stamp>|<json>`) live under their own prefix: an instance of the build
 * before, still running during a rolling update, reads its plain JSON under `ehr:` and never this.
 */
const PART_PREFIX = 'ehr2:';
const partKey = (clientId: string, source: string, part: string): string => `${PART_PREFIX}${clientId}:${source}:${part}`;
// Not under a prefix a drop deletes.
const stampKey = (clientId: string): string => `ehr-stamp:${clientId}`;
const itemKey = (kind: string, source: string, id: string): string => `ehr-${kind}:${source}:${id}`;
