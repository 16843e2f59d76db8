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

/**
 * graphql-ws's subscribe step: the source stream as graphql-js makes it (the subscription's own
 * authorisation runs there), then each event rendered by the operation's compiled form, once per
 * distinct value, document and variables where the value is shareable.
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
    return mapEvents(stream, (event) => {
      if (typeof event !== 'object' || event === null || !shareable.has(event)) return execute(event);
      let byOperation = rendered.get(event);
      if (!byOperation) rendered.set(event, (byOperation = new Map()));
      let result = byOperation.get(key);
      if (!result) byOperation.set(key, (result = execute(event)));
      return result;
    });
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The events of `source`, each rendered; return() and throw() reach the source (it unsubscribes). */
function mapEvents(source: AsyncIterable<unknown>, render: (event: unknown) => Rendered): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const done = { done: true, value: undefined } as const;
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const r = await iterator.next();
      if (r.done) return done;
      try {
        return { done: false, value: await render(r.value) };
      } catch (err) {
        await iterator.return?.().catch(() => undefined);
        throw err;
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
