import { randomUUID } from 'node:crypto';
import type { KeyValueStore } from './kv';

const TTL_SECONDS = 30 * 86_400;

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
    try {
      const current = await this.kv.get(this.key);
      if (current) return current;
      await this.kv.setIfAbsent(this.key, randomUUID(), TTL_SECONDS);
      return await this.kv.get(this.key);
    } catch {
      // Redis fails its reads at once for a moment after one failed (RedisKeyValueStore), so this costs a request no second wait.
      return null;
    }
  }

  renew(): Promise<void> {
    return this.kv.set(this.key, randomUUID(), TTL_SECONDS);
  }
}
