import type { EventBus } from '../events/event-bus';

/**
 * A kind of live event the bus carries, one channel per client: its name, what its payload is,
 * and how a payload off the bus is recognised. Publisher and live room use the same constant
 * (type-graphql's examples/redis-subscriptions/topics.ts is the pattern), so "find references"
 * on it connects the two ends.
 */
export interface Topic<T extends { clientId: string }> {
  readonly name: string;
  /** The bus channel of one client's events. */
  channel(clientId: string): string;
  /** A payload off the bus (unknown JSON), when it is this topic's and this client's; null otherwise. */
  accept(payload: unknown, clientId: string): T | null;
  publish(bus: EventBus, event: T): Promise<void>;
}

export function topic<T extends { clientId: string }>(name: string, is: (payload: unknown) => payload is T): Topic<T> {
  const channel = (clientId: string) => `${name}:${clientId}`;
  return {
    name,
    channel,
    accept: (payload, clientId) => (is(payload) && payload.clientId === clientId ? payload : null),
    publish: (bus, event) => bus.publish(channel(event.clientId), event),
  };
}
