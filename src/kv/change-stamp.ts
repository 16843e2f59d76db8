import { randomUUID } from 'node:crypto';
import type { KeyValueStore } from './kv';

const TTL_SECONDS = 30 * 86_400;
/** After a stamp could not be read, how long every stamp of that store answers null at once (no wait for the store's timeout per read). */
const DOWN_FOR_MS = 2_000;
/** Per store: until when it is taken as away. */
const downUntil = new WeakMap<KeyValueStore, number>();

/**
 * A value in the shared key-value store that every change of some kind renews (on any instance),
 * so an instance may keep what it read for as long as the stamp it read it under is unchanged.
 */
export class ChangeStamp {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly key: string,
  ) {}

  /** The current stamp (made on first use); null when the store cannot answer, so nothing kept may be trusted. */
  async read(): Promise<string | null> {
    // The store failed a moment ago: nothing kept may be trusted, and a request does not wait for its timeout again.
    if ((downUntil.get(this.kv) ?? 0) > Date.now()) return null;
    try {
      const current = await this.kv.get(this.key);
      if (current) return current;
      await this.kv.setIfAbsent(this.key, randomUUID(), TTL_SECONDS);
      return await this.kv.get(this.key);
    } catch {
      downUntil.set(this.kv, Date.now() + DOWN_FOR_MS);
      return null;
    }
  }

  renew(): Promise<void> {
    return this.kv.set(this.key, randomUUID(), TTL_SECONDS);
  }
}
