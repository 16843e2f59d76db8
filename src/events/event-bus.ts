import { EventEmitter } from 'node:events';

/**
 * Carries live events (new messages, video-call readiness) to subscribers. In-process by default;
 * a Redis-backed bus carries them between gateway instances. The database stays the truth:
 * an event is a signal to look, never the only copy of anything.
 */
export interface EventBus {
  publish(channel: string, payload: unknown): Promise<void>;
  subscribe(channel: string, signal?: AbortSignal): AsyncIterableIterator<unknown>;
  /** How many subscribers this instance has on a channel. */
  localSubscribers(channel: string): number;
  /**
   * Called when the bus is back after events may have been missed (Redis was away since `since`):
   * whoever holds subscribers tells them what happened meanwhile (live rooms resync). Answers the
   * function that stops listening.
   */
  onReconnect(listener: (since: Date) => void): () => void;
  close(): Promise<void>;
}

export class InProcessEventBus implements EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async publish(channel: string, payload: unknown): Promise<void> {
    this.emitter.emit(channel, payload);
  }

  subscribe(channel: string, signal?: AbortSignal): AsyncIterableIterator<unknown> {
    return listen(this.emitter, channel, signal);
  }

  localSubscribers(channel: string): number {
    return this.emitter.listenerCount(channel);
  }

  /** In one process nothing is ever missed. */
  onReconnect(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/**
 * The events of one channel as an async iterator, ending (done, never throwing) on return() or
 * when the signal aborts. Instead of node's events.on(), whose two fixed queues cost ~36 KB per
 * iterator: one per open subscription, so per idle socket.
 */
export function listen(emitter: EventEmitter, channel: string, signal?: AbortSignal): AsyncIterableIterator<unknown> {
  const queued: unknown[] = [];
  const waiting: ((r: IteratorResult<unknown>) => void)[] = [];
  let finished = false;
  const onEvent = (value: unknown) => {
    const resolve = waiting.shift();
    if (resolve) resolve({ done: false, value });
    else queued.push(value);
  };
  const finish = (): IteratorReturnResult<undefined> => {
    const done = { done: true, value: undefined } as const;
    if (finished) return done;
    finished = true;
    emitter.off(channel, onEvent);
    signal?.removeEventListener('abort', finish);
    queued.length = 0;
    for (const resolve of waiting.splice(0)) resolve(done);
    return done;
  };
  if (signal?.aborted) finished = true;
  else {
    emitter.on(channel, onEvent);
    signal?.addEventListener('abort', finish, { once: true });
  }
  const iterator: AsyncIterableIterator<unknown> = {
    next() {
      if (queued.length) return Promise.resolve({ done: false, value: queued.shift() });
      if (finished) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => waiting.push(resolve));
    },
    async return() {
      return finish();
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** type-graphql's PubSub shape over an EventBus (topics are channels). */
export function typeGraphqlPubSub(bus: EventBus) {
  return {
    publish: (routingKey: string, ...args: unknown[]) => void bus.publish(routingKey, args[0]),
    subscribe: (routingKey: string) => bus.subscribe(routingKey),
  };
}
