import { GraphQLBoolean, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { EventEmitter } from 'node:events';
import { listen } from '../../events/event-bus';
import { CompiledOperations } from './jit-executor';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { liveSubscribe, shareLiveValue, socketSink } from './live-execution';

/** A schema whose one live type counts how often its resolver runs. */
function countingSchema() {
  const counter = { label: 0 };
  const Status = new GraphQLObjectType({
    name: 'Status',
    fields: {
      ready: { type: GraphQLBoolean },
      label: {
        type: GraphQLString,
        resolve: (s: { ready: boolean; broken?: boolean }) => {
          counter.label++;
          if (s.broken) throw new Error('the label cannot be made');
          return s.ready ? 'open' : 'closed';
        },
      },
    },
  });
  const emitter = new EventEmitter();
  // Fifty subscribers on one channel, as the event buses allow (they lift the limit too).
  emitter.setMaxListeners(0);
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: { status: { type: Status, subscribe: () => listen(emitter, 'status'), resolve: (event: unknown) => event } },
    }),
  });
  return { schema, emitter, counter };
}

async function openSubscribers(schema: GraphQLSchema, n: number, compile: boolean, contextValue: () => object = () => ({})) {
  const subscribe = liveSubscribe(new CompiledOperations(schema, compile));
  const document = parse('subscription { status { ready label } }');
  return Promise.all(
    Array.from({ length: n }, async () => (await subscribe({ schema, document, contextValue: contextValue() })) as AsyncIterableIterator<ExecutionResult>),
  );
}

/** A socket as ws offers it, recording what is written to it. */
function fakeSocket() {
  return {
    readyState: 1,
    bufferedAmount: 0,
    sent: [] as string[],
    send(data: string) {
      this.sent.push(data);
    },
    close() {
      this.readyState = 3;
    },
  };
}

describe.each([true, false])('live events rendered for many subscribers (compiled: %s)', (compile) => {
  it('renders a shareable value once for all its subscribers, with the same answer for each', async () => {
    const { schema, emitter, counter } = countingSchema();
    const subscribers = await openSubscribers(schema, 50, compile);
    emitter.emit('status', shareLiveValue({ ready: true }));
    const results = await Promise.all(subscribers.map((s) => s.next()));
    expect(results.every((r) => JSON.stringify(r.value) === JSON.stringify({ data: { status: { ready: true, label: 'open' } } }))).toBe(true);
    expect(counter.label).toBe(1);
    await Promise.all(subscribers.map((s) => s.return!()));
  });

  it('renders a value not marked shareable once per subscriber (it may depend on the viewer)', async () => {
    const { schema, emitter, counter } = countingSchema();
    const subscribers = await openSubscribers(schema, 5, compile);
    emitter.emit('status', { ready: false });
    const results = await Promise.all(subscribers.map((s) => s.next()));
    expect(results.map((r) => r.value.data.status.label)).toEqual(Array(5).fill('closed'));
    expect(counter.label).toBe(5);
    await Promise.all(subscribers.map((s) => s.return!()));
  });

  it("writes error-free answers straight to an attached socket, byte for byte graphql-ws's next frame, and hands the rest to graphql-ws in order", async () => {
    const { schema, emitter } = countingSchema();
    const sockets = [fakeSocket(), fakeSocket()];
    const ids = ['a1', 'quote"d'];
    let n = 0;
    const subscribers = await openSubscribers(schema, 2, compile, () => {
      const i = n++;
      return { liveSink: socketSink(sockets[i], ids[i]) };
    });
    const pending = subscribers.map((s) => s.next());
    emitter.emit('status', shareLiveValue({ ready: true }));
    emitter.emit('status', shareLiveValue({ ready: false }));
    await new Promise((resolve) => setImmediate(resolve));
    const frame = (id: string, label: string, ready: boolean) =>
      stringifyMessage({ id, type: MessageType.Next, payload: { data: { status: { ready, label } } } });
    sockets.forEach((socket, i) => expect(socket.sent).toEqual([frame(ids[i], 'open', true), frame(ids[i], 'closed', false)]));

    // An answer with errors goes to graphql-ws (its onNext formats errors), and so does one for a socket that is behind.
    emitter.emit('status', shareLiveValue({ ready: true, broken: true }));
    for (const handed of await Promise.all(pending)) expect(handed.value.errors?.[0]?.message).toBe('the label cannot be made');
    sockets[1].bufferedAmount = 10 * 1024 * 1024;
    const next = subscribers.map((s) => s.next());
    emitter.emit('status', shareLiveValue({ ready: false }));
    await new Promise((resolve) => setImmediate(resolve));
    // Socket 0 is not behind: written directly. Socket 1 is: graphql-ws gets the answer and waits for its write.
    expect(sockets.map((s) => s.sent.length)).toEqual([3, 2]);
    expect((await next[1]).value).toEqual({ data: { status: { ready: false, label: 'closed' } } });
    await Promise.all(subscribers.map((s) => s.return!()));
  });

  it('lets a source that offers direct delivery write a shareable event while its reader waits, without waking the reader', async () => {
    // A source like LiveRooms' seats: a push while the reader waits may be taken directly.
    let take: ((event: unknown) => boolean) | null = null;
    let wake: ((r: IteratorResult<unknown>) => void) | null = null;
    const source = {
      offerDirect(t: (event: unknown) => boolean) {
        take = t;
      },
      next: () => new Promise<IteratorResult<unknown>>((resolve) => (wake = resolve)),
      return: async () => ({ done: true, value: undefined }) as IteratorResult<unknown>,
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const push = (event: unknown) => {
      if (take?.(event)) return;
      const w = wake!;
      wake = null;
      w({ done: false, value: event });
    };
    const Status = new GraphQLObjectType({ name: 'Status', fields: { ready: { type: GraphQLBoolean } } });
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: { status: { type: Status, subscribe: () => source, resolve: (event: unknown) => event } },
      }),
    });
    const socket = fakeSocket();
    const context = { liveSink: socketSink(socket, 's1') };
    const subscriber = (await liveSubscribe(new CompiledOperations(schema, compile))({
      schema,
      document: parse('subscription { status { ready } }'),
      contextValue: context,
    })) as AsyncIterableIterator<ExecutionResult>;
    expect(take).not.toBeNull();
    let woken = false;
    const reading = subscriber.next().then((r) => ((woken = true), r));
    await new Promise((resolve) => setImmediate(resolve));
    push(shareLiveValue({ ready: true }));
    expect(socket.sent).toEqual([stringifyMessage({ id: 's1', type: MessageType.Next, payload: { data: { status: { ready: true } } } })]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBe(false);
    // A value not marked shareable (it may depend on the viewer) goes the reader's way, and is written from there.
    push({ ready: false });
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.sent).toHaveLength(2);
    expect(JSON.parse(socket.sent[1]).payload).toEqual({ data: { status: { ready: false } } });
    expect(woken).toBe(false);
    void reading;
  });

  it('ends the source subscription when a subscriber leaves', async () => {
    const { schema, emitter } = countingSchema();
    const [subscriber] = await openSubscribers(schema, 1, compile);
    expect(emitter.listenerCount('status')).toBe(1);
    await subscriber.return!();
    expect(emitter.listenerCount('status')).toBe(0);
  });
});
