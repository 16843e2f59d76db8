import type { Redis } from 'ioredis';

/**
 * The small key-value surface the gateway needs (deny-list, rate limits, cache, one-time codes):
 * Redis when REDIS_URL is set, an in-process map otherwise. Keys are namespaced by the caller.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  /** Several keys in one round trip; null where absent. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  del(...keys: string[]): Promise<void>;
  /** Increments a counter that expires ttlSeconds after its first increment; answers the count and seconds left. */
  incrementWindow(key: string, ttlSeconds: number): Promise<{ count: number; ttlSeconds: number }>;
  /** Removes every key that starts with the prefix. */
  deletePrefix(prefix: string): Promise<void>;
  /** Adds (or renews) a member of a set under `key` that lapses on its own after ttlSeconds. */
  addMember(key: string, member: string, ttlSeconds: number): Promise<void>;
  removeMember(key: string, member: string): Promise<void>;
  /** How many members of the set have not lapsed. */
  countMembers(key: string): Promise<number>;
  ping(): Promise<void>;
}

export class MemoryKeyValueStore implements KeyValueStore {
  private readonly map = new Map<string, { value: string; expiresAt: number }>();
  private readonly sets = new Map<string, Map<string, number>>();

  private live(key: string): { value: string; expiresAt: number } | undefined {
    const entry = this.map.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    return entry;
  }
  async get(key: string) {
    return this.live(key)?.value ?? null;
  }
  async getMany(keys: string[]) {
    return keys.map((k) => this.live(k)?.value ?? null);
  }
  async set(key: string, value: string, ttlSeconds: number) {
    this.map.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
    if (this.map.size % 1000 === 0) this.sweep();
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    if (this.live(key)) return false;
    await this.set(key, value, ttlSeconds);
    return true;
  }
  async del(...keys: string[]) {
    for (const k of keys) this.map.delete(k);
  }
  async incrementWindow(key: string, ttlSeconds: number) {
    const entry = this.live(key);
    if (!entry) {
      this.map.set(key, { value: '1', expiresAt: Date.now() + ttlSeconds * 1000 });
      return { count: 1, ttlSeconds };
    }
    entry.value = String(Number(entry.value) + 1);
    return { count: Number(entry.value), ttlSeconds: Math.max(1, Math.ceil((entry.expiresAt - Date.now()) / 1000)) };
  }
  async deletePrefix(prefix: string) {
    for (const k of [...this.map.keys()]) if (k.startsWith(prefix)) this.map.delete(k);
    for (const k of [...this.sets.keys()]) if (k.startsWith(prefix)) this.sets.delete(k);
  }
  async addMember(key: string, member: string, ttlSeconds: number) {
    const set = this.sets.get(key) ?? new Map<string, number>();
    set.set(member, Date.now() + ttlSeconds * 1000);
    this.sets.set(key, set);
  }
  async removeMember(key: string, member: string) {
    const set = this.sets.get(key);
    set?.delete(member);
    if (set && !set.size) this.sets.delete(key);
  }
  async countMembers(key: string) {
    const set = this.sets.get(key);
    if (!set) return 0;
    const now = Date.now();
    for (const [member, until] of set) if (until <= now) set.delete(member);
    return set.size;
  }
  async ping() {}
  private sweep() {
    const now = Date.now();
    for (const [k, v] of this.map) if (v.expiresAt <= now) this.map.delete(k);
  }
}

/** After a read failed (Redis gone or frozen), how long readers with a fallback skip the store instead of each waiting for its timeout. */
const READS_DOWN_FOR_MS = 2_000;
const readsDownUntil = new WeakMap<KeyValueStore, number>();

/**
 * A read for a caller that falls back to the database when it fails (the deny-list, the change
 * stamps): after one such read failed, the others fail at once for READS_DOWN_FOR_MS, so while
 * Redis is away a request waits for its timeout once per 2 s per instance, not at every read.
 * Readers without a fallback (a login's state, a code) ask the store as always.
 */
export async function readOrFallBack<T>(kv: KeyValueStore, read: () => Promise<T>): Promise<T> {
  if ((readsDownUntil.get(kv) ?? 0) > Date.now()) throw new Error('the key-value store did not answer a moment ago; not asked again yet');
  try {
    return await read();
  } catch (err) {
    readsDownUntil.set(kv, Date.now() + READS_DOWN_FOR_MS);
    throw err;
  }
}

export class RedisKeyValueStore implements KeyValueStore {
  /** `redis` must be created with keyPrefix; SCAN patterns need the prefix added by hand. */
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async get(key: string) {
    return this.redis.get(key);
  }
  async getMany(keys: string[]) {
    return keys.length ? this.redis.mget(...keys) : [];
  }
  async set(key: string, value: string, ttlSeconds: number) {
    await this.redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds)));
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    return (await this.redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX')) === 'OK';
  }
  async del(...keys: string[]) {
    if (keys.length) await this.redis.del(...keys);
  }
  async incrementWindow(key: string, ttlSeconds: number) {
    const [[, count], , [, ttl]] = (await this.redis.multi().incr(key).expire(key, ttlSeconds, 'NX').ttl(key).exec()) as [
      [null, number],
      [null, number],
      [null, number],
    ];
    return { count, ttlSeconds: ttl > 0 ? ttl : ttlSeconds };
  }
  async deletePrefix(prefix: string) {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.keyPrefix}${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await this.redis.del(...keys.map((k) => k.slice(this.keyPrefix.length)));
    } while (cursor !== '0');
  }
  /** A sorted set scored by each member's lapse time, so a member whose instance died lapses too. */
  async addMember(key: string, member: string, ttlSeconds: number) {
    const now = Date.now();
    await this.redis
      .multi()
      .zremrangebyscore(key, '-inf', now)
      .zadd(key, now + ttlSeconds * 1000, member)
      .pexpire(key, ttlSeconds * 1000)
      .exec();
  }
  async removeMember(key: string, member: string) {
    await this.redis.zrem(key, member);
  }
  async countMembers(key: string) {
    return this.redis.zcount(key, `(${Date.now()}`, '+inf');
  }
  async ping() {
    await this.redis.ping();
  }
}
