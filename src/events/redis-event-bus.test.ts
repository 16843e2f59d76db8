import { createServer, type Server } from 'node:net';
import { createLogger } from '../observability/logger';
import { RedisEventBus } from './redis-event-bus';

/** A port where nothing answers, like a Redis that is down. */
async function deadPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('RedisEventBus while Redis is down', () => {
  it("keeps serving: publish neither throws nor hangs, and this instance's subscribers still get the event", async () => {
    const bus = new RedisEventBus({ url: `redis://127.0.0.1:${await deadPort()}/0`, prefix: 'unit:', logger: createLogger('silent') });
    try {
      const controller = new AbortController();
      const events = bus.subscribe('video:c1', controller.signal);
      const arrived = events.next();
      const started = Date.now();
      await bus.publish('video:c1', { clientId: 'c1', ready: true });
      expect(Date.now() - started).toBeLessThan(1000);
      await expect(arrived).resolves.toEqual({ done: false, value: { clientId: 'c1', ready: true } });
      controller.abort();
      await expect(events.next()).resolves.toEqual({ done: true, value: undefined });
    } finally {
      await bus.close();
    }
  });

  it("does not deliver another channel's events to a subscriber", async () => {
    const bus = new RedisEventBus({ url: `redis://127.0.0.1:${await deadPort()}/0`, prefix: 'unit:', logger: createLogger('silent') });
    try {
      const events = bus.subscribe('video:c1');
      const arrived = events.next();
      await bus.publish('video:c2', { clientId: 'c2' });
      await bus.publish('video:c1', { clientId: 'c1' });
      await expect(arrived).resolves.toEqual({ done: false, value: { clientId: 'c1' } });
      await events.return!();
    } finally {
      await bus.close();
    }
  });
});
