import { EventEmitter, on } from 'node:events';

/**
 * Carries live events (new messages, video-call readiness) to subscribers. In-process by default;
 * a Redis-backed bus carries them between gateway instances. The database stays the truth:
 * an event is a signal to look, never the only copy of anything.
 */
export interface EventBus {
  publish(channel: string, payload: unknown): Promise<void>;
  subscribe(channel: string, signal?: AbortSignal): AsyncIterableIterator<unknown>;
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
    const source = on(this.emitter, channel, signal ? { signal } : undefined);
    const iterator: AsyncIterableIterator<unknown> = {
      async next() {
        const r = await source.next();
        return r.done ? r : { done: false, value: (r.value as unknown[])[0] };
      },
      async return() {
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
    this.emitter.removeAllListeners();
  }
}

/** type-graphql's PubSub shape over an EventBus (topics are channels). */
export function typeGraphqlPubSub(bus: EventBus) {
  return {
    publish: (routingKey: string, ...args: unknown[]) => void bus.publish(routingKey, args[0]),
    subscribe: (routingKey: string) => bus.subscribe(routingKey),
  };
}
