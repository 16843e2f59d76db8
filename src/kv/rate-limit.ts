import { RateLimitedError } from '../errors';
import { MemoryKeyValueStore, type KeyValueStore } from './kv';

export interface Limit {
  max: number;
  windowSeconds: number;
}

/**
 * Fixed-window counters in Redis (or in-process): over the limit → RATE_LIMITED with a retry-after.
 * While Redis does not answer, each instance counts on its own (so a limit holds per instance,
 * and nothing that is stored first, such as a practitioner's event, is refused for want of Redis).
 */
export class RateLimiter {
  private readonly local = new MemoryKeyValueStore();

  constructor(private readonly kv: KeyValueStore) {}

  async hit(bucket: string, key: string | null | undefined, limit: Limit): Promise<void> {
    if (!key) return;
    const name = `rl:${bucket}:${key}`;
    const { count, ttlSeconds } = await this.kv.incrementWindow(name, limit.windowSeconds).catch(() => this.local.incrementWindow(name, limit.windowSeconds));
    if (count > limit.max) throw new RateLimitedError(ttlSeconds);
  }
}

/** The limits on the doors people knock on (login, code verification, activation, reset) and on writing. */
export const LIMITS = {
  loginPerAccount: { max: 10, windowSeconds: 15 * 60 },
  loginPerIp: { max: 50, windowSeconds: 15 * 60 },
  verifyPerIp: { max: 50, windowSeconds: 15 * 60 },
  activatePerAccount: { max: 10, windowSeconds: 60 * 60 },
  resetPerAccount: { max: 5, windowSeconds: 60 * 60 },
  resetPerIp: { max: 20, windowSeconds: 60 * 60 },
  // Writing: far above what a person types, well below what a script or a stuck client sends.
  messagesPerAccount: { max: 30, windowSeconds: 15 * 60 },
  conversationsPerAccount: { max: 10, windowSeconds: 60 * 60 },
  uploadsPerAccount: { max: 60, windowSeconds: 60 * 60 },
} satisfies Record<string, Limit>;
