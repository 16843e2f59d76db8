import { GraphQLBoolean, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { EventEmitter } from 'node:events';
import { listen } from '../events/event-bus';
import { CompiledOperations } from './jit-executor';
import { liveSubscribe, shareLiveValue } from './live-execution';

/** A schema whose one live type counts how often its resolver runs. */
function countingSchema() {
  const counter = { label: 0 };
  const Status = new GraphQLObjectType({
    name: 'Status',
    fields: {
      ready: { type: GraphQLBoolean },
      label: { type: GraphQLString, resolve: (s: { ready: boolean }) => (counter.label++, s.ready ? 'open' : 'closed') },
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

async function openSubscribers(schema: GraphQLSchema, n: number, compile: boolean) {
  const subscribe = liveSubscribe(new CompiledOperations(schema, compile));
  const document = parse('subscription { status { ready label } }');
  return Promise.all(Array.from({ length: n }, async () => (await subscribe({ schema, document, contextValue: {} })) as AsyncIterableIterator<ExecutionResult>));
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

  it('ends the source subscription when a subscriber leaves', async () => {
    const { schema, emitter } = countingSchema();
    const [subscriber] = await openSubscribers(schema, 1, compile);
    expect(emitter.listenerCount('status')).toBe(1);
    await subscriber!.return!();
    expect(emitter.listenerCount('status')).toBe(0);
  });
});
