import 'reflect-metadata';
import { DemoKoppeltaal } from '../adapters/koppeltaal/demo-koppeltaal';
import { InProcessEventBus, type EventBus } from '../src/events/event-bus';
import { MemoryKeyValueStore, type KeyValueStore } from '../src/kv/kv';
import { createLogger } from '../src/observability/logger';
import { Metrics } from '../src/observability/metrics';
import type { ClientsService } from '../src/modules/clients/clients.service';
import { EhealthService } from '../src/modules/ehealth/ehealth.service';
import { LaunchKey } from '../src/modules/ehealth/launch-key';

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
  const clients = { existingClientId: async () => 'client-karen', sourcesOf: async () => new Map() } as unknown as ClientsService;
  const make = (kv: KeyValueStore) =>
    new EhealthService({
      port,
      clients,
      bus,
      key: LaunchKey.from(undefined, undefined),
      clientId: 'ggz-portal-gateway',
      launchTtlSeconds: 120,
      logger: createLogger('silent'),
      metrics: new Metrics({ knownOperations: null }),
      kv,
    });
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
