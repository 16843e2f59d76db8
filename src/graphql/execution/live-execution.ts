import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { CompiledOperations } from './jit-executor';

type Rendered = ExecutionResult | Promise<ExecutionResult>;

/**
 * Marks an event value that renders the same for every subscriber it is handed to, and keeps its
 * renders: its type's resolvers read nothing of the viewer (what differs per viewer, such as a
 * join link only some may see, is already applied, so viewers with other rights get another
 * value). A property on the value itself (no side table): it lives and goes with the value.
 */
const RENDERS = Symbol('shared live renders');
type Shareable = { [RENDERS]?: Map<string, Rendered> };

/**
 * All subscribers of one event that hold the same marked value, document and variables share one
 * execution instead of one each.
 */
export function shareLiveValue<T extends object>(value: T): T {
  (value as Shareable)[RENDERS] = new Map();
  return value;
}

function rendersOf(value: unknown): Map<string, Rendered> | undefined {
  return typeof value === 'object' && value !== null ? (value as Shareable)[RENDERS] : undefined;
}

/**
 * Where a subscription's answers go, handed by the WebSocket layer when a socket subscribes (as
 * graphql-ws's own use/ws.ts hands { send, close } to its server): the context carries it to the
 * live room and to the compiled renderer, which write error-free answers straight to it.
 */
export interface LiveSink {
  /** The subscription's id, as the client chose it. */
  readonly id: string;
  readonly open: boolean;
  /** What was written and not yet sent, in bytes. */
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  /** The start of graphql-ws's `next` frame for this id, made once. */
  readonly nextFrameHead: string;
}

interface SinkSocket {
  readyState: number;
  bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
}

/**
 * The sink of one subscription on one `ws` socket. A class, not an object literal with getters:
 * every sink then shares one shape, so writeDirect's reads of it stay monomorphic on the hot path
 * (a literal's getters are new closures per sink, and each sink got a shape of its own).
 */
class SocketSink implements LiveSink {
  // graphql-ws's stringifyMessage({ id, type: 'next', payload }) without the payload and its closing brace.
  readonly nextFrameHead: string;

  constructor(
    private readonly socket: SinkSocket,
    readonly id: string,
  ) {
    this.nextFrameHead = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  }

  get open(): boolean {
    return this.socket.readyState === OPEN;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  send(data: string): void {
    this.socket.send(data);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}

/** The sink of one subscription on one `ws` socket. */
export function socketSink(socket: SinkSocket, id: string): LiveSink {
  return new SocketSink(socket, id);
}

/** Beyond this much unsent on a socket, answers wait in line through graphql-ws, which waits for each write. */
const DIRECT_MAX_BUFFERED = 64 * 1024;
const OPEN = 1;
// A cache, by answer object: the JSON of an answer shared by many subscribers is made once.
const payloads = new WeakMap<ExecutionResult, string>();

/**
 * An error-free answer written as graphql-ws would write it: the same bytes as its
 * stringifyMessage({ id, type: 'next', payload }), but the payload's JSON made once per answer
 * (shared by every subscriber holding it) and no promise per write. False when it cannot go this
 * way (errors to format, a socket behind or closed): then graphql-ws sends it.
 */
export function writeDirect(sink: LiveSink, result: ExecutionResult): boolean {
  if (result.errors || !sink.open || sink.bufferedAmount > DIRECT_MAX_BUFFERED) return false;
  let payload = payloads.get(result);
  if (payload === undefined) payloads.set(result, (payload = JSON.stringify(result)));
  sink.send(sink.nextFrameHead + payload + '}');
  return true;
}

/**
 * graphql-ws's subscribe step: the source stream as graphql-js makes it (the subscription's own
 * authorisation runs there), then each event rendered by the operation's compiled form, once per
 * distinct value, document and variables where the value is shareable. With a sink on the
 * context (`liveSink`, from ws.ts), error-free answers go straight to the socket; graphql-ws still
 * opens, completes and ends the subscription, and sends answers with errors (formatted by its onNext).
 */
export function liveSubscribe(operations: CompiledOperations) {
  // Per app instance: a short id per document, so a render key is short.
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  return async (args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const compiled = operations.get(args.document, args.operationName);
    const variables = args.variableValues ?? {};
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
    const key = `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(variables)}`;
    const execute = (event: unknown): Rendered => compiled.query(event, args.contextValue, variables);
    const sink = (args.contextValue as { liveSink?: LiveSink } | null | undefined)?.liveSink;
    const render = (event: unknown): Rendered => {
      const renders = rendersOf(event);
      if (!renders) return execute(event);
      let result = renders.get(key);
      if (!result) renders.set(key, (result = execute(event)));
      return result;
    };
    if (sink && isDirectSource(stream)) {
      // A shareable event whose answer is at hand is written by the source's own push, while this
      // subscription waits for its next event: no promise, no await per socket.
      stream.offerDirect((event) => {
        if (!rendersOf(event)) return false;
        const result = render(event);
        return !isPromiseLike(result) && writeDirect(sink, result);
      });
    }
    return mapEvents(stream, sink, render);
  };
}

/**
 * A source that can hand an event straight to a synchronous taker, while its reader waits with
 * nothing queued (so nothing can overtake); `take` answers false when the event must go the
 * reader's way after all (LiveRooms' seats are such sources).
 */
export interface DirectSource {
  offerDirect(take: (event: unknown) => boolean): void;
}

function isDirectSource(value: unknown): value is DirectSource {
  return typeof (value as Partial<DirectSource>).offerDirect === 'function';
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * The events of `source`, each rendered; return() and throw() reach the source (it unsubscribes).
 * With a sink, an answer it writes is not handed to graphql-ws: the next event is awaited instead,
 * so answers leave in order whichever way each goes.
 */
function mapEvents(source: AsyncIterable<unknown>, sink: LiveSink | undefined, render: (event: unknown) => Rendered): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const done = { done: true, value: undefined } as const;
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      for (;;) {
        const r = await iterator.next();
        if (r.done) return done;
        let result: ExecutionResult;
        try {
          result = await render(r.value);
        } catch (err) {
          await iterator.return?.().catch(() => undefined);
          throw err;
        }
        if (sink && writeDirect(sink, result)) continue;
        return { done: false, value: result };
      }
    },
    async return() {
      await iterator.return?.();
      return done;
    },
    async throw(err: unknown) {
      if (iterator.throw) await iterator.throw(err);
      else await iterator.return?.();
      return done;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}

/**
 * Field extension of a subscription whose event is already its answer: its `subscribe` does the
 * work (authorisation, reading, what each viewer may see), so the field's resolver returns the
 * event as it is. type-graphql's own resolver for the field would answer a promise whatever the
 * method does (its argument validation is async even when switched off), and then no event could
 * be rendered for its sockets synchronously; so the schema swaps it (answerEventsAsTheyAre) for
 * the fields that say so where they are declared (`@Extensions(ANSWERS_EVENT_AS_IT_IS)`).
 */
export const ANSWERS_EVENT_AS_IT_IS = { answersEventAsItIs: true } as const;

export function answerEventsAsTheyAre(schema: GraphQLSchema): void {
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    if (field.extensions.answersEventAsItIs === true) field.resolve = (event: unknown) => event;
  }
}
