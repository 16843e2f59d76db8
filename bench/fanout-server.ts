import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DemoEhrAdapter as DemoEhrAdapterType } from '../adapters/demo/demo.adapter';
import type * as Permissions from '../src/auth/permissions';
import type * as ConfigModule from '../src/config';
import type * as LoggerModule from '../src/observability/logger';
import type * as ServerModule from '../src/server';
import type { FanoutServerCommand, FanoutServerReply, FanoutServerSpec } from './fanout.types';

/**
 * One fan-out instance in its own process (forked by bench/fanout.ts, commands over IPC):
 * `gateway` builds the real app on the shared MariaDB + Redis; `raw` is the baseline, a bare `ws`
 * server that writes the same bytes to every socket when a message arrives on the same Redis;
 * `raw-protocol` the same speaking graphql-transport-ws (each socket's own subscription id).
 * `appDist` lets the runner load the gateway from another build (a before/after in one run).
 */
const spec = JSON.parse(process.argv[2]) as FanoutServerSpec;
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

function reply(msg: FanoutServerReply): void {
  process.send!(msg);
}

/** CPU time this process used so far (user + system), in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function stats(): FanoutServerReply {
  const m = process.memoryUsage();
  return {
    type: 'stats',
    rss: m.rss,
    heapUsed: m.heapUsed,
    cpuMs: cpuMs(),
    eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6, mean: eld.mean / 1e6 },
  };
}

async function startGateway(): Promise<{ base: string; stop: () => Promise<void> }> {
  const dist = spec.appDist;
  // Loaded by path so the same runner can drive another build of the app.
  const { createApp } = require(join(dist, 'src', 'server')) as typeof ServerModule;
  const { loadConfig } = require(join(dist, 'src', 'config')) as typeof ConfigModule;
  const { createLogger } = require(join(dist, 'src', 'observability', 'logger')) as typeof LoggerModule;
  // Builds before the access gate kept the enums in auth/abilities.
  const { ALL_PERMISSIONS, PortalRelation } = requireFirst<typeof Permissions>(
    join(dist, 'src', 'auth', 'permissions'),
    join(dist, 'src', 'auth', 'abilities'),
  );
  const { DemoEhrAdapter } = require(join(dist, 'adapters', 'demo', 'demo.adapter')) as { DemoEhrAdapter: typeof DemoEhrAdapterType };

  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: spec.databaseUrl!,
    MIGRATE_ON_START: spec.setupAccounts ? '1' : '0',
    REDIS_URL: spec.redisUrl,
    REDIS_KEY_PREFIX: spec.redisPrefix,
    SESSION_SECRET: spec.sessionSecret!,
    SYNC_SECRET: spec.syncSecret!,
    LOG_LEVEL: 'silent',
    DEMO_SEED: '0',
  });
  const app = await createApp(config, { logger: createLogger('silent'), adapters: { demo: new DemoEhrAdapter({}) } });
  const base = await app.start();
  if (spec.setupAccounts) {
    const { accounts, clients, sessions } = app.services;
    const clientId = await clients.ensureClient({ source: 'demo', externalId: 'cl-karen' });
    const tokens: string[] = new Array<string>(spec.setupAccounts);
    let next = 0;
    // N accounts, each its own link (REPRESENTATIVE, all permissions) and session: every subscriber is a distinct viewer with its own rights.
    const worker = async (): Promise<void> => {
      for (let i = next++; i < tokens.length; i = next++) {
        const account = await accounts.create({ email: `bench-${i}@demo.test`, displayName: `Bench ${i}` });
        await accounts.link(account.id, clientId, i === 0 ? PortalRelation.SELF : PortalRelation.REPRESENTATIVE, [...ALL_PERMISSIONS], i === 0);
        tokens[i] = (await sessions.create(account.id, 'bench')).accessToken;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    reply({ type: 'setup', clientId, tokens });
  }
  return { base, stop: () => app.stop() };
}

async function startRaw(protocol: boolean): Promise<{ base: string; stop: () => Promise<void> }> {
  const channel = `${spec.redisPrefix}${spec.mode}`;
  const publisher = new Redis(spec.redisUrl);
  const subscriber = new Redis(spec.redisUrl);
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  // The protocol baseline: each socket's subscription, as the start of its `next` frame (made once, as the gateway's sink does).
  const heads = new Map<WebSocket, string>();
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.once('close', () => (sockets.delete(ws), heads.delete(ws)));
    if (!protocol) {
      // Answers graphql-ws's handshake so the harness's clients count as connected.
      ws.once('message', () => ws.send('{"type":"connection_ack"}'));
      return;
    }
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as { type: string; id?: string };
      if (msg.type === 'connection_init') ws.send('{"type":"connection_ack"}');
      else if (msg.type === 'subscribe') heads.set(ws, `{"id":${JSON.stringify(msg.id)},"type":"next","payload":`);
      else if (msg.type === 'complete') heads.delete(ws);
      else if (msg.type === 'ping') ws.send('{"type":"pong"}');
    });
  });
  await subscriber.subscribe(channel);
  subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    if (!protocol) {
      for (const ws of sockets) ws.send(message);
      return;
    }
    // The message is the payload's JSON; each subscriber gets it in a frame with its own id.
    const payload = message.toString();
    for (const [ws, head] of heads) ws.send(`${head}${payload}}`);
  });
  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void publisher.publish(channel, Buffer.concat(chunks)).then(() => {
        res.writeHead(202);
        res.end();
      });
    });
  });
  http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const { port } = http.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const ws of sockets) ws.terminate();
      http.close();
      await Promise.all([publisher.quit(), subscriber.quit()]);
    },
  };
}

async function main(): Promise<void> {
  const started = spec.mode === 'gateway' ? await startGateway() : await startRaw(spec.mode === 'raw-protocol');
  process.on('message', (msg: FanoutServerCommand) => {
    if (msg.type === 'stats') {
      if (msg.gc) (globalThis as { gc?: () => void }).gc?.();
      reply(stats());
    } else if (msg.type === 'heap-snapshot') {
      (globalThis as { gc?: () => void }).gc?.();
      writeHeapSnapshot(msg.path);
      reply({ type: 'ok' });
    } else if (msg.type === 'reset-eld') {
      eld.reset();
      reply({ type: 'ok' });
    } else if (msg.type === 'stop') {
      void started.stop().finally(() => process.exit(0));
    }
  });
  reply({ type: 'ready', base: started.base });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

function requireFirst<T>(...paths: string[]): T {
  for (const path of paths) {
    try {
      return require(path) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  throw new Error(`none of ${paths.join(', ')} found`);
}
