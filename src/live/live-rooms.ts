import type { Action, Grant, Rights } from '../auth/access';
import type { PortalAccess } from '../auth/permissions';
import type { AuthViewer } from '../auth/tokens';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { requireViewer, type GatewayContext } from '../graphql/context';
import { reauthorizeSeats } from '../graphql/gate-readers';
import type { DirectSource } from '../graphql/execution/live-execution';
import type { Topic } from './topic';

/** What one kind of live room carries, and how a subscriber sees it. */
export interface RoomKind<E extends { clientId: string }, V> {
  /** For logs, e.g. 'video call'. */
  name: string;
  /** The events a room of this kind listens to, on its client's channel. */
  topic: Topic<E>;
  /** What every seat must still be allowed, by the gate, for each event. */
  action: Action;
  /**
   * What each seat still admitted receives of an event, in order, or null to pass that seat over
   * for this event (it stays open). Seats with the same answer may share one object.
   */
  present(event: E, seats: readonly Admitted[]): (V | null)[] | Promise<(V | null)[]>;
  /**
   * Where an event stands in its room's order (e.g. when its source reported it), null if it has
   * none: an event published after a later one (two writers, one slower to publish) is passed over,
   * so a subscriber's last event is the latest. Equal orders are delivered (a lapse of the same state).
   */
  order?(event: E): number | null;
  /** When an event lapses without a newer one (readiness expiring): the room then asks `current`. */
  lapsesAt?(event: E): number | null;
  /** The room's state now, asked when a lapse falls due (and when the room opens, to time it). */
  current?(clientId: string): Promise<E>;
  /**
   * What happened since `since`, from the database, when the bus is back after an outage (events
   * published meanwhile never arrived): delivered to the seats as any event. A seat may so receive
   * an event twice (one it got just before the outage); the events carry ids to tell.
   */
  resync?(clientId: string, since: Date): Promise<E[]>;
}

/** A seat that passed this event's re-authorisation, with its current rights. */
export interface Admitted {
  ctx: GatewayContext;
  viewer: AuthViewer;
  access: PortalAccess;
  can: Rights;
}

const DONE = { done: true, value: undefined } as const;
/** After a failed `current` read, the lapse is tried again this much later. */
const LAPSE_RETRY_MS = 5_000;

/**
 * The open subscriptions of one kind on this instance, one room per client: a room holds one bus
 * subscription for all its seats and handles each event once for them all (one batched
 * re-authorisation, one shared presentation per distinct right, one lapse timer), so an event's
 * cost per socket is a queue push instead of its own bus iterator, context, awaits and timer.
 */
export class LiveRooms<E extends { clientId: string }, V> {
  private readonly rooms = new Map<string, Room<E, V>>();

  constructor(
    private readonly services: Services,
    private readonly logger: Logger,
    private readonly kind: RoomKind<E, V>,
  ) {
    if (kind.resync) services.events.onReconnect((since) => this.resync(since));
  }

  /** The bus is back after an outage: every room of this instance catches its seats up. */
  private resync(since: Date): void {
    this.logger.info({ rooms: this.rooms.size, room: this.kind.name, since }, 'live rooms: the bus is back, catching subscribers up');
    for (const room of this.rooms.values()) room.resync(since);
  }

  /**
   * A seat for a subscriber already authorised on subscribe: the room's events from now on, each
   * re-authorised; a revoked right or ended session ends the stream before that event goes out.
   */
  join(ctx: GatewayContext, clientId: string, onLeave?: () => void): AsyncIterableIterator<V> {
    let room = this.rooms.get(clientId);
    if (!room) {
      const opened: Room<E, V> = new Room(this.services, this.logger, this.kind, clientId, () => {
        if (this.rooms.get(clientId) === opened) this.rooms.delete(clientId);
      });
      this.rooms.set(clientId, (room = opened));
    }
    return room.seat(ctx, onLeave);
  }

  /** Open seats for a client on this instance. */
  seats(clientId: string): number {
    return this.rooms.get(clientId)?.size ?? 0;
  }
}

class Room<E extends { clientId: string }, V> {
  private readonly seats = new Set<Seat<V>>();
  private readonly controller = new AbortController();
  /** Events and lapses, one after the other, in order. */
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every schedule, so a lapse that fell due before a newer event changes nothing. */
  private generation = 0;
  private closed = false;
  /** The order of the latest event delivered (RoomKind.order). */
  private latest = -Infinity;

  constructor(
    private readonly services: Services,
    private readonly logger: Logger,
    private readonly kind: RoomKind<E, V>,
    private readonly clientId: string,
    private readonly onClosed: () => void,
  ) {
    void this.listen(services.events.subscribe(kind.topic.channel(clientId), this.controller.signal));
    if (kind.current && kind.lapsesAt) {
      // A room that was already open when the first seat came in lapses on time too.
      const generation = this.generation;
      void this.enqueue(async () => {
        const state = await kind.current!(clientId).catch((err: unknown) => {
          this.logger.warn({ err, clientId, room: kind.name }, 'live room: could not read the current state');
          return null;
        });
        const at = state ? kind.lapsesAt!(state) : null;
        if (generation === this.generation && at !== null && at > Date.now()) this.schedule(at);
      });
    }
  }

  get size(): number {
    return this.seats.size;
  }

  /** Delivers what the database says happened since `since`, in line with the room's other events. */
  resync(since: Date): void {
    if (!this.kind.resync || this.closed) return;
    void this.enqueue(async () => {
      for (const event of await this.kind.resync!(this.clientId, since)) await this.deliver(event);
    });
  }

  seat(ctx: GatewayContext, onLeave?: () => void): AsyncIterableIterator<V> {
    const seat = new Seat<V>(ctx, requireViewer(ctx), (s) => {
      this.leave(s);
      onLeave?.();
    });
    this.seats.add(seat);
    return seat;
  }

  private leave(seat: Seat<V>): void {
    this.seats.delete(seat);
    if (this.seats.size || this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.controller.abort();
    this.onClosed();
  }

  private async listen(source: AsyncIterableIterator<unknown>): Promise<void> {
    try {
      for (;;) {
        const r = await source.next();
        if (r.done) break;
        const event = this.kind.topic.accept(r.value, this.clientId);
        if (event) await this.enqueue(() => this.deliver(event));
      }
      for (const seat of [...this.seats]) seat.end();
    } catch (err) {
      this.failAll(err);
    }
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(step).catch((err: unknown) => this.failAll(err));
    return this.chain;
  }

  /** Rights that cannot be checked (the database down) end every seat with the error: fail closed; clients reconnect and catch up. */
  private failAll(err: unknown): void {
    this.logger.error({ err, clientId: this.clientId, room: this.kind.name }, 'live room: an event could not be delivered');
    for (const seat of [...this.seats]) seat.fail(err);
  }

  private async deliver(event: E): Promise<void> {
    const order = this.kind.order?.(event) ?? null;
    if (order !== null) {
      if (order < this.latest) return;
      this.latest = order;
    }
    this.schedule(this.kind.lapsesAt?.(event) ?? null);
    const seats = [...this.seats];
    if (!seats.length) return;
    const rights = await reauthorizeSeats(
      this.services,
      this.logger,
      this.clientId,
      seats.map((s) => s.viewer),
      this.kind.action,
    );
    const admitted: Admitted[] = [];
    const open: Seat<V>[] = [];
    seats.forEach((seat, i) => {
      // Left while its rights were being checked: nothing to present, nothing to log as read.
      if (seat.finished) return;
      const granted: Grant | null | undefined = rights[i];
      if (granted) {
        admitted.push({ ctx: seat.ctx, viewer: seat.viewer, access: granted.access, can: granted.can });
        open.push(seat);
      } else {
        seat.ctx.logger.info({ clientId: this.clientId }, `${this.kind.name} subscription ended: the viewer no longer has the right`);
        seat.end();
      }
    });
    if (!open.length) return;
    const values = await this.kind.present(event, admitted);
    open.forEach((seat, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) seat.push(value);
    });
  }

  private schedule(at: number | null): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const generation = ++this.generation;
    if (at === null || this.closed) return;
    this.timer = setTimeout(() => void this.enqueue(() => this.lapse(generation)), Math.max(0, at - Date.now()) + 50);
    this.timer.unref();
  }

  private async lapse(generation: number): Promise<void> {
    if (generation !== this.generation || this.closed) return;
    let state: E;
    try {
      state = await this.kind.current!(this.clientId);
    } catch (err) {
      this.logger.warn({ err, clientId: this.clientId, room: this.kind.name }, 'live room: could not read the state for a lapse; trying again');
      this.schedule(Date.now() + LAPSE_RETRY_MS);
      return;
    }
    const at = this.kind.lapsesAt!(state);
    // Refreshed meanwhile (its event is on its way or already delivered): wait for the new lapse.
    if (at !== null && at > Date.now()) this.schedule(at);
    else await this.deliver(state);
  }
}

/** One subscriber's stream in a room: a queue the room pushes to, read by graphql-ws. */
class Seat<V> implements AsyncIterableIterator<V>, DirectSource {
  private queue: V[] | null = null;
  private direct: ((value: V) => boolean) | null = null;
  private waiting: { resolve(r: IteratorResult<V>): void; reject(err: unknown): void } | null = null;
  private ended = false;
  private failure: { err: unknown } | null = null;

  constructor(
    readonly ctx: GatewayContext,
    readonly viewer: AuthViewer,
    private readonly leave: (seat: Seat<V>) => void,
  ) {}

  next(): Promise<IteratorResult<V>> {
    if (this.queue?.length) return Promise.resolve({ done: false, value: this.queue.shift()! });
    if (this.failure) {
      const { err } = this.failure;
      this.failure = null;
      return Promise.reject(err);
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Ended, failed or returned: takes no more events. */
  get finished(): boolean {
    return this.ended;
  }

  offerDirect(take: (event: unknown) => boolean): void {
    this.direct = take;
  }

  push(value: V): void {
    if (this.ended) return;
    const waiting = this.waiting;
    if (waiting) {
      // The reader waits and nothing is queued: a taker may write it now, and the reader waits on.
      if (this.direct?.(value)) return;
      this.waiting = null;
      waiting.resolve({ done: false, value });
    } else (this.queue ??= []).push(value);
  }

  /** No more events; what is queued (authorised when it came) still goes out first. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.leave(this);
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve(DONE);
  }

  fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.leave(this);
    this.queue = null;
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) waiting.reject(err);
    else this.failure = { err };
  }

  return(): Promise<IteratorResult<V>> {
    this.queue = null;
    this.failure = null;
    this.end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<V> {
    return this;
  }
}
