import 'reflect-metadata';
import { DemoKoppeltaal } from '../adapters/koppeltaal/demo-koppeltaal';
import { InProcessEventBus, type EventBus } from '../src/events/event-bus';
import { MemoryKeyValueStore, type KeyValueStore } from '../src/kv/kv';
import { createLogger } from '../src/observability/logger';
import { Metrics } from '../src/observability/metrics';
import type { ClientsService } from '../src/modules/clients/clients.service';
import { EhealthService } from '../src/modules/ehealth/ehealth.service';
import { LaunchKey } from '../src/modules/ehealth/launch-key';

/** One instance's eHealth service on a bus and a store, every Patient being Karen's. */
function serviceOn(port: DemoKoppeltaal, bus: EventBus, kv: KeyValueStore): EhealthService {
  return new EhealthService({
    port,
    clients: { existingClientId: async () => 'client-karen', sourcesOf: async () => new Map() } as unknown as ClientsService,
    bus,
    key: LaunchKey.from(undefined, undefined),
    clientId: 'ggz-portal-gateway',
    launchTtlSeconds: 120,
    logger: createLogger('silent'),
    metrics: new Metrics({ knownOperations: null }),
    kv,
  });
}

/** Two gateway instances on one bus: what each pushes after a Koppeltaal rest-hook, with the shared store or each its own. */
async function twoInstances(shareStore: boolean) {
  const bus: EventBus = new InProcessEventBus();
  const pushed: unknown[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = async (channel, payload) => {
    pushed.push(payload);
    await publish(channel, payload);
  };
  const port = new DemoKoppeltaal();
  const make = (kv: KeyValueStore) => serviceOn(port, bus, kv);
  const shared = new MemoryKeyValueStore();
  const [a, b] = [make(shared), make(shareStore ? shared : new MemoryKeyValueStore())];
  const [task] = await port.listTasks('cl-karen');
  // The domain's load balancer hands one change's notifications to both instances.
  await Promise.all([a.notified([task.id]), b.notified([task.id])]);
  await bus.close();
  return pushed.length;
}

describe('a Koppeltaal Task change seen by two instances', () => {
  it('is pushed once when the instances share their store (Redis in production)', async () => {
    expect(await twoInstances(true)).toBe(1);
  });

  it('would be pushed by each instance without it (what the shared marker prevents)', async () => {
    expect(await twoInstances(false)).toBe(2);
  });
});

describe('a Koppeltaal re-read when more changed than one answer holds', () => {
  it('asks again from the newest Task it got until the answer is complete, and pushes every change once', async () => {
    const bus: EventBus = new InProcessEventBus();
    const pushed: string[] = [];
    const publish = bus.publish.bind(bus);
    bus.publish = async (channel, payload) => {
      pushed.push((payload as { task: { id: string } }).task.id);
      await publish(channel, payload);
    };
    const demo = new DemoKoppeltaal();
    const [template] = await demo.listTasks('cl-karen');
    const changes = [1, 2, 3, 4, 5].map((n) => ({ ...template, id: `task-${n}`, updatedAt: new Date(Date.now() + n * 10_000).toISOString() }));
    const asked: string[] = [];
    // Two Tasks per answer, oldest first, as the FHIR adapter answers with maxPages.
    const port = Object.assign(Object.create(demo) as DemoKoppeltaal, {
      changedTasks: async (since: string) => {
        asked.push(since);
        const after = changes.filter((t) => t.updatedAt >= since);
        return { tasks: after.slice(0, 2), complete: after.length <= 2 };
      },
    });
    await serviceOn(port, bus, new MemoryKeyValueStore()).notified();
    await bus.close();
    // Each look after the first starts 2 s (the overlap) before the newest Task of the one before, so the last of each answer comes again and is not pushed twice.
    expect(asked.slice(1)).toEqual([2, 3, 4].map((n) => new Date(Date.parse(changes[n - 1].updatedAt) - 2000).toISOString()));
    expect(pushed).toEqual(['task-1', 'task-2', 'task-3', 'task-4', 'task-5']);
  });
});
