import type { GatewayContext } from '../graphql/context';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { LiveRooms, type RoomKind } from './live-rooms';

/** A kind of live room, declared beside the module whose events it carries; LiveDelivery makes its rooms. */
export interface RoomsDefinition<E extends { clientId: string }, V> {
  readonly name: string;
  make(services: Services): RoomKind<E, V>;
}

export function defineRooms<E extends { clientId: string }, V>(
  name: string,
  make: (services: Services) => Omit<RoomKind<E, V>, 'name'>,
): RoomsDefinition<E, V> {
  return { name, make: (services) => ({ name, ...make(services) }) };
}

/**
 * Live delivery, one per app instance (made in createApp, `services.live`): the rooms of every kind
 * of subscription on this instance. A subscription's resolver joins its client's room of its kind;
 * the room holds one bus subscription for the topic, authorises every event again for all its seats
 * at once and writes the answers to each seat's sink (the socket the WebSocket layer handed over).
 */
export class LiveDelivery {
  private readonly made = new Map<RoomsDefinition<never, never>, LiveRooms<never, never>>();

  constructor(private readonly options: { services: () => Services; logger: Logger }) {}

  /** The rooms of one kind on this instance, made on first use. */
  rooms<E extends { clientId: string }, V>(definition: RoomsDefinition<E, V>): LiveRooms<E, V> {
    const key = definition as unknown as RoomsDefinition<never, never>;
    let rooms = this.made.get(key) as LiveRooms<E, V> | undefined;
    if (!rooms) {
      const services = this.options.services();
      rooms = new LiveRooms(services, this.options.logger, definition.make(services));
      this.made.set(key, rooms as unknown as LiveRooms<never, never>);
    }
    return rooms;
  }

  /** A seat for an authorised subscriber in its client's room of this kind (see LiveRooms.join). */
  join<E extends { clientId: string }, V>(
    definition: RoomsDefinition<E, V>,
    ctx: GatewayContext,
    clientId: string,
    onLeave?: () => void,
  ): AsyncIterableIterator<V> {
    return this.rooms(definition).join(ctx, clientId, onLeave);
  }
}
