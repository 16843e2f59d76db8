import { randomUUID } from 'node:crypto';
import { readOrFallBack, type KeyValueStore } from './kv';

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
      const current = await readOrFallBack(this.kv, () => this.kv.get(this.key));
      if (current) return current;
      await this.kv.setIfAbsent(this.key, randomUUID(), TTL_SECONDS);
      return await readOrFallBack(this.kv, () => this.kv.get(this.key));
    } catch {
      // After a failed read the next ones fail at once for a moment (readOrFallBack): no second wait per request.
      return null;
    }
  }

  renew(): Promise<void> {
    return this.kv.set(this.key, randomUUID(), TTL_SECONDS);
  }
}
