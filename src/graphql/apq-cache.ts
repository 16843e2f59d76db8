import { LRUCache } from 'lru-cache';
import type { KeyValueStore } from '../kv/kv';
import type { Logger } from '../observability/logger';

/**
 * Apollo's automatic persisted queries keep each query text under its SHA-256. Apollo stores a text
 * only after it parsed and validated with every query limit, so an entry is a document this server
 * would run anyway; APQ saves the text's bytes on the wire, it is no safelist (TRUSTED_DOCUMENTS is).
 * The cache is Apollo's KeyValueCache shape (get, set, delete).
 */
export interface ApqCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttl?: number | null }): Promise<void>;
  delete(key: string): Promise<boolean | void>;
}

/**
 * The key Apollo asks this cache for a hash under (its APQ_CACHE_PREFIX, added by the
 * PrefixingKeyValueCache it wraps the cache in), for the direct path's lookups of the same entries.
 */
export const apolloApqKey = (sha256Hash: string): string => `apq:${sha256Hash}`;

/** Longer texts are not kept (the client sends them in full each time, as without APQ). */
const MAX_TEXT_CHARS = 64 * 1024;

/**
 * With Redis: shared by every instance (a hash registered on one is found on the others), each
 * entry expiring after APQ_TTL_SECONDS, so the set is bounded by what clients used in that time
 * (and by Redis's maxmemory policy); Redis away: a miss, and the client sends the full text again.
 */
export function sharedApqCache(kv: KeyValueStore, ttlSeconds: number, logger: Logger): ApqCache {
  // Apollo's keys already name what they are (apolloApqKey: `apq:<hash>`); the store adds its own prefix.
  return {
    async get(key) {
      try {
        return (await kv.get(key)) ?? undefined;
      } catch (err) {
        logger.debug({ err: (err as Error).message }, 'APQ lookup failed; the client sends the query again');
        return undefined;
      }
    },
    async set(key, text) {
      if (text.length > MAX_TEXT_CHARS) return;
      await kv.set(key, text, ttlSeconds).catch((err: Error) => logger.debug({ err: err.message }, 'APQ store failed'));
    },
    async delete(key) {
      await kv.del(key).catch(() => undefined);
    },
  };
}

/** Without Redis: this instance only, least recently used texts dropped beyond APQ_MEMORY_BYTES. */
export function memoryApqCache(maxBytes: number, ttlSeconds: number): ApqCache {
  const texts = new LRUCache<string, string>({ maxSize: maxBytes, sizeCalculation: (text, key) => text.length + key.length, ttl: ttlSeconds * 1000 });
  return {
    async get(key) {
      return texts.get(key);
    },
    async set(key, text) {
      if (text.length <= MAX_TEXT_CHARS) texts.set(key, text);
    },
    async delete(key) {
      return texts.delete(key);
    },
  };
}
