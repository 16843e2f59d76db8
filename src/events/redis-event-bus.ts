import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger';
import { listen, type EventBus } from './event-bus';

/** Where an instance whose publishes failed asks every instance to catch up (its own channel under the prefix). */
const RESYNC_CHANNEL = '__bus:resync';

export interface RedisEventBusOptions {
  url: string;
  /** Channels live under this prefix (config.REDIS_KEY_PREFIX), so deployments sharing a Redis stay apart. */
  prefix: string;
  logger: Logger;
  /** Names both connections (CLIENT LIST), so operators and tests can find this instance's sockets. */
  connectionName?: string;
}

/**
 * An EventBus over Redis pub/sub, so a subscriber on one instance sees an event published on
 * another. One subscriber connection per instance (a subscribed connection can do nothing else),
 * one Redis SUBSCRIBE per channel however many local subscribers share it. ioredis reconnects
 * and resubscribes after Redis restarts; while Redis is down, publishes fall back to local
 * subscribers and never throw, so requests keep being served. Events are signals: the database
 * stays the truth, and a client that reconnects catches up with a query.
 */
export class RedisEventBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly local = new EventEmitter({ captureRejections: false });
  private readonly counts = new Map<string, number>();
  private closed = false;
  /** When the subscriber connection was lost (null while it is up), and who wants to know it came back. */
  private downSince: Date | null = null;
  private readonly reconnectListeners = new Set<(since: Date) => void>();
  /** The first publish that failed since the publisher was last up (null: none): the others are told once it is back. */
  private publishLostSince: Date | null = null;
  /** Names this bus in its resync requests, so it does not redeliver to its own sockets what it delivered locally. */
  private readonly busId = randomUUID();

  constructor(private readonly options: RedisEventBusOptions) {
    const base: RedisOptions = {
      // Not keyPrefix: ioredis applies it to keys, and channels are named explicitly below.
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
      ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    };
    // No offline queue on the publisher: a publish while Redis is down fails at once instead of piling up.
    this.publisher = new Redis(options.url, { ...base, enableOfflineQueue: false, lazyConnect: false });
    // The subscriber waits out an outage (no retry limit): its commands are only SUBSCRIBE/UNSUBSCRIBE.
    this.subscriber = new Redis(options.url, { ...base, maxRetriesPerRequest: null, autoResubscribe: true });
    this.local.setMaxListeners(0);
    for (const [role, conn] of [
      ['publisher', this.publisher],
      ['subscriber', this.subscriber],
    ] as const) {
      conn.on('error', (err: Error) => options.logger.warn({ err: err.message, role }, 'event bus: redis connection problem'));
    }
    // Publishes failed while this publisher was away but the other instances' subscribers were not: they never
    // resync by themselves, so they are told to catch up from when the first publish failed.
    this.publisher.on('ready', () => {
      const since = this.publishLostSince;
      if (!since) return;
      this.publisher
        .publish(options.prefix + RESYNC_CHANNEL, JSON.stringify({ since: since.toISOString(), from: this.busId }))
        .then(() => {
          if (this.publishLostSince === since) this.publishLostSince = null;
        })
        .catch(() => undefined);
    });
    this.subscriber.on('close', () => {
      if (!this.closed && !this.downSince) this.downSince = new Date();
    });
    this.subscriber.on('ready', () => {
      options.logger.info({ channels: this.counts.size }, 'event bus: redis subscriber ready');
      const since = this.downSince;
      this.downSince = null;
      // Whatever was published while it was away never arrived here: the subscribers are told to catch up.
      if (since) for (const listener of this.reconnectListeners) listener(since);
      // Belt and braces beside autoResubscribe: a SUBSCRIBE that failed during an outage was never recorded by ioredis.
      this.subscriber.subscribe(...[RESYNC_CHANNEL, ...this.counts.keys()].map((c) => options.prefix + c)).catch(() => undefined);
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(options.prefix)) return;
      if (channel === options.prefix + RESYNC_CHANNEL) return this.resyncAsked(message);
      let payload: unknown;
      try {
        payload = JSON.parse(message);
      } catch {
        options.logger.warn({ channel }, 'event bus: dropped a message that is not JSON');
        return;
      }
      this.local.emit(channel.slice(options.prefix.length), payload);
    });
  }

  /** Resolves once both connections are up (start-up waits for it, so the first events are not missed). */
  async ready(timeoutMs = 5000): Promise<boolean> {
    const wait = (conn: Redis) => (conn.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => conn.once('ready', () => resolve())));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    return (await Promise.race([Promise.all([wait(this.publisher), wait(this.subscriber)]), timeout])) !== 'timeout';
  }

  async publish(channel: string, payload: unknown): Promise<void> {
    if (this.closed) return;
    const message = JSON.stringify(payload);
    try {
      await this.publisher.publish(this.options.prefix + channel, message);
    } catch (err) {
      // Redis is down: other instances miss this signal (they catch up by query), this one still delivers it.
      this.options.logger.warn({ err: (err as Error).message, channel }, 'event bus: publish failed, delivering locally only');
      this.publishLostSince ??= new Date();
      this.local.emit(channel, JSON.parse(message) as unknown);
    }
  }

  /** Another instance (or this one) could not publish for a while: what was published meanwhile never arrived here. */
  private resyncAsked(message: string): void {
    let since: Date;
    try {
      const asked = JSON.parse(message) as { since: string; from?: string };
      // Its own request: what it published meanwhile it delivered here itself.
      if (asked.from === this.busId) return;
      since = new Date(asked.since);
    } catch {
      return;
    }
    if (Number.isNaN(since.getTime())) return;
    this.options.logger.info({ since }, 'event bus: an instance could not publish for a while; catching up');
    for (const listener of this.reconnectListeners) listener(since);
  }

  localSubscribers(channel: string): number {
    return this.local.listenerCount(channel);
  }

  onReconnect(listener: (since: Date) => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  subscribe(channel: string, signal?: AbortSignal): AsyncIterableIterator<unknown> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    // Listen locally before asking Redis, so nothing published right after subscribing is lost here.
    const source = listen(this.local, channel, controller.signal);
    this.retain(channel);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      signal?.removeEventListener('abort', abort);
      this.releaseChannel(channel);
    };
    controller.signal.addEventListener('abort', release, { once: true });
    const iterator: AsyncIterableIterator<unknown> = {
      async next() {
        try {
          const r = await source.next();
          if (r.done) {
            release();
            return { done: true, value: undefined };
          }
          return r;
        } catch (err) {
          release();
          if ((err as Error).name === 'AbortError') return { done: true, value: undefined };
          throw err;
        }
      },
      async return() {
        release();
        await source.return?.();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.local.removeAllListeners();
    // QUIT would wait in the offline queue for a Redis that is down; only a live connection says goodbye.
    await Promise.all(
      [this.publisher, this.subscriber].map(async (c) => {
        if (c.status !== 'ready') return c.disconnect();
        await c.quit().catch(() => c.disconnect());
      }),
    );
  }

  private retain(channel: string): void {
    const n = this.counts.get(channel) ?? 0;
    this.counts.set(channel, n + 1);
    if (n === 0) {
      // ioredis remembers the subscription and resubscribes after a reconnect, even if this first call fails.
      this.subscriber.subscribe(this.options.prefix + channel).catch((err: Error) => {
        this.options.logger.warn({ err: err.message, channel }, 'event bus: subscribe failed, retried on reconnect');
      });
    }
  }

  private releaseChannel(channel: string): void {
    const n = (this.counts.get(channel) ?? 1) - 1;
    if (n > 0) {
      this.counts.set(channel, n);
      return;
    }
    this.counts.delete(channel);
    if (!this.closed) this.subscriber.unsubscribe(this.options.prefix + channel).catch(() => undefined);
  }
}
