import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { CompiledOperations } from './jit-executor';

type Rendered = ExecutionResult | Promise<ExecutionResult>;

const shareable = new WeakSet<object>();
const rendered = new WeakMap<object, Map<string, Rendered>>();
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/**
 * Marks a live event value that renders the same for every subscriber it is handed to: its
 * type's resolvers read nothing of the viewer (what differs per viewer, such as a join link only
 * some may see, is already applied, so viewers with other rights get another value). All
 * subscribers of one event that hold the same value, document and variables then share one
 * execution instead of one each.
 */
export function shareLiveValue<T extends object>(value: T): T {
  shareable.add(value);
  return value;
}

/** Where a subscription's answers can be written straight to its socket (graphql-ws's `next` frame). */
export interface LiveSink {
  /** The subscription's id, as the client chose it. */
  id: string;
  socket: { readyState: number; bufferedAmount: number; send(data: string): void };
}

const sinks = new WeakMap<object, LiveSink & { head: string }>();

/** Lets the subscription run with this context write error-free answers straight to its socket. */
export function attachLiveSink(context: object, sink: LiveSink): void {
  sinks.set(context, { ...sink, head: `{"id":${JSON.stringify(sink.id)},"type":"next","payload":` });
}

/** Beyond this much unsent on a socket, answers wait in line through graphql-ws, which waits for each write. */
const DIRECT_MAX_BUFFERED = 64 * 1024;
const OPEN = 1;
const payloads = new WeakMap<ExecutionResult, string>();

/**
 * An error-free answer written as graphql-ws would write it: the same bytes as its
 * stringifyMessage({ id, type: 'next', payload }), but the payload's JSON made once per answer
 * (shared by every subscriber holding it) and no promise per write. False when it cannot go this
 * way (errors to format, a socket behind or closed): then graphql-ws sends it.
 */
export function writeDirect(sink: LiveSink & { head: string }, result: ExecutionResult): boolean {
  if (result.errors || sink.socket.readyState !== OPEN || sink.socket.bufferedAmount > DIRECT_MAX_BUFFERED) return false;
  let payload = payloads.get(result);
  if (payload === undefined) payloads.set(result, (payload = JSON.stringify(result)));
  sink.socket.send(sink.head + payload + '}');
  return true;
}

/**
 * graphql-ws's subscribe step: the source stream as graphql-js makes it (the subscription's own
 * authorisation runs there), then each event rendered by the operation's compiled form, once per
 * distinct value, document and variables where the value is shareable. With a sink attached to
 * the context (ws.ts), error-free answers go straight to the socket; graphql-ws still opens,
 * completes and ends the subscription, and sends answers with errors (formatted by its onNext).
 */
export function liveSubscribe(operations: CompiledOperations) {
  return async (args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const compiled = operations.get(args.document, args.operationName);
    const variables = args.variableValues ?? {};
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
    const key = `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(variables)}`;
    const execute = (event: unknown): Rendered => compiled.query(event, args.contextValue, variables);
    const sink = typeof args.contextValue === 'object' && args.contextValue !== null ? sinks.get(args.contextValue) : undefined;
    const renderShared = (event: object): Rendered => {
      let byOperation = rendered.get(event);
      if (!byOperation) rendered.set(event, (byOperation = new Map()));
      let result = byOperation.get(key);
      if (!result) byOperation.set(key, (result = execute(event)));
      return result;
    };
    if (sink && isDirectSource(stream)) {
      // A shareable event whose answer is at hand is written by the source's own push, while this
      // subscription waits for its next event: no promise, no await per socket.
      stream.offerDirect((event) => {
        if (typeof event !== 'object' || event === null || !shareable.has(event)) return false;
        const result = renderShared(event);
        return !isPromiseLike(result) && writeDirect(sink, result);
      });
    }
    return mapEvents(stream, sink, (event) => (typeof event === 'object' && event !== null && shareable.has(event) ? renderShared(event) : execute(event)));
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
function mapEvents(source: AsyncIterable<unknown>, sink: (LiveSink & { head: string }) | undefined, render: (event: unknown) => Rendered): AsyncIterableIterator<ExecutionResult> {
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
