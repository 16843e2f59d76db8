import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { signSyncBody } from '../src/events/sync.signature';
import { stampUrl, wallMs, type FanoutMode, type FanoutServerReply, type FanoutServerSpec, type HarnessReply, type LoopDelay } from './fanout.types';

/** The second baseline: a bare server speaking graphql-transport-ws to graphql-ws clients. */
const PROTOCOL_LABEL = 'raw graphql-ws broadcast (own id per socket, graphql-ws clients)';

/**
 * The fan-out run: N authenticated graphql-ws subscribers to one client's videoCallStatusChanged,
 * spread over two gateway instances that share one MariaDB database and one Redis; 100 events,
 * each a signed `videocall.ready` POSTed to /sync/events (alternately to instance A and B).
 * Latency is from the moment the harness sends the trigger to the last socket's arrival. The
 * baseline is two bare `ws` servers on the same Redis writing the same frame bytes to every socket,
 * driven and received the same way in the same run. Instances and harnesses are separate processes.
 */

export interface FanoutOptions {
  sockets: number;
  events: number;
  /** Gateway builds to run, in order (label, dist directory); the raw baseline runs after them. */
  gateways: { label: string; dist: string }[];
  mariadbUrl: string;
  redisUrl: string;
  harnesses: number;
}

export interface FanoutVariant {
  label: string;
  sockets: number;
  failedSockets: number;
  connectMs: number;
  delivered: number;
  /** Second copies of an event on one socket (must be 0). */
  duplicates: number;
  expected: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Publish → first arrival, median over events. */
  firstP50: number;
  /** Trigger sent → the instance's 202 (the sync event stored; for raw, published), median. */
  acceptedP50: number;
  rssPerSocketKb: number;
  heapPerSocketKb: number;
  /** CPU time of both instances per measured event, ms. */
  cpuPerEventMs: number;
  eld: LoopDelay;
}

export type FanoutResult = { skipped: string } | { variants: FanoutVariant[]; options: FanoutOptions; seconds: number; services: string };

class Child {
  private readonly inbox: unknown[] = [];
  private waiter: ((msg: unknown) => void) | null = null;

  constructor(readonly proc: ChildProcess) {
    proc.on('message', (msg) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(msg);
      } else this.inbox.push(msg);
    });
  }

  /** The next message from the child (they answer in order); rejects if the child dies first. */
  next<T>(): Promise<T> {
    if (this.inbox.length) return Promise.resolve(this.inbox.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`a fan-out child exited with ${code}`));
      this.proc.once('exit', onExit);
      this.waiter = (msg) => {
        this.proc.off('exit', onExit);
        resolve(msg as T);
      };
    });
  }

  async ask<T>(msg: object): Promise<T> {
    this.proc.send(msg);
    return this.next<T>();
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

function startServer(spec: FanoutServerSpec): Child {
  return new Child(
    fork(join(__dirname, 'fanout-server.js'), [JSON.stringify(spec)], {
      execArgv: ['--expose-gc', ...(process.env.FANOUT_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.FANOUT_PROFILE_DIR] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
}

function startHarness(): Child {
  return new Child(fork(join(__dirname, 'fanout-harness.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

type Stats = Extract<FanoutServerReply, { type: 'stats' }>;

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Says why the run cannot happen (no Redis, no MariaDB), or their versions when both answer. */
async function probeServices(options: FanoutOptions): Promise<{ reason: string } | { versions: string }> {
  const redis = new Redis(options.redisUrl, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  let versions: string;
  try {
    await redis.connect();
    versions = `Redis ${/redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?'}`;
  } catch (err) {
    return { reason: `Redis at ${options.redisUrl} is not reachable (${(err as Error).message})` };
  } finally {
    redis.disconnect();
  }
  try {
    const c = await createConnection({ uri: options.mariadbUrl, connectTimeout: 1500 });
    const [rows] = await c.query('SELECT VERSION() AS v');
    versions = `MariaDB ${(rows as { v: string }[])[0]?.v ?? '?'}, ${versions}`;
    await c.end();
  } catch (err) {
    return { reason: `MariaDB at ${options.mariadbUrl} is not reachable (${(err as Error).message})` };
  }
  return { versions };
}

interface Phase {
  label: string;
  servers: Child[];
  bases: string[];
  /** Sends event `seq` through instance `seq % 2`; resolves when the instance accepted it. */
  trigger(seq: number, sentAt: number): Promise<void>;
  mode: FanoutMode;
  tokens: string[];
  clientId: string;
}

async function measurePhase(phase: Phase, options: FanoutOptions): Promise<FanoutVariant> {
  const statsAll = async (gc: boolean) => Promise.all(phase.servers.map((s) => s.ask<Stats>({ type: 'stats', gc })));
  await sleep(300);
  const before = await statsAll(true);
  // For finding what a socket costs: FANOUT_HEAP_DIR gets instance A's heap before and with the sockets.
  const snapshotDir = process.env.FANOUT_HEAP_DIR;
  const snapshot = async (when: string) => {
    if (snapshotDir) await phase.servers[0].ask({ type: 'heap-snapshot', path: join(snapshotDir, `${phase.mode}-${when}.heapsnapshot`) });
  };
  await snapshot('before');

  const harnesses = Array.from({ length: options.harnesses }, startHarness);
  try {
    const share = Math.ceil(options.sockets / harnesses.length);
    const urls = phase.bases.map((b) => `${b.replace(/^http/, 'ws')}/graphql`);
    const connected = await Promise.all(
      harnesses.map((h, i) => {
        const from = i * share;
        const n = Math.max(0, Math.min(share, options.sockets - from));
        // Each harness alternates A/B from its own first socket; offset so the split stays even.
        const ordered = i % 2 ? [...urls].reverse() : urls;
        return h.ask<Extract<HarnessReply, { type: 'connected' }>>({
          type: 'connect',
          mode: phase.mode,
          urls: ordered,
          sockets: n,
          tokens: phase.tokens.slice(from, from + n),
          clientId: phase.clientId,
        });
      }),
    );
    const sockets = connected.reduce((a, c) => a + c.sockets, 0);
    const failedSockets = connected.reduce((a, c) => a + c.failed, 0);
    const connectMs = Math.max(...connected.map((c) => c.ms));

    let seq = 0;
    const fire = async (): Promise<{ count: number; duplicates: number; first: number; last: number; sentAt: number; accepted: number }> => {
      seq++;
      const sentAt = wallMs();
      await phase.trigger(seq, sentAt);
      const accepted = wallMs() - sentAt;
      const replies = await Promise.all(harnesses.map((h) => h.ask<Extract<HarnessReply, { type: 'delivered' }>>({ type: 'expect', seq })));
      return {
        count: replies.reduce((a, r) => a + r.count, 0),
        duplicates: replies.reduce((a, r) => a + r.duplicates, 0),
        first: Math.min(...replies.filter((r) => r.count).map((r) => r.first)),
        last: Math.max(...replies.map((r) => r.last)),
        sentAt,
        accepted,
      };
    };

    // Subscriptions register asynchronously after the handshake: warm up until one event reaches every socket.
    let warm = false;
    for (let i = 0; i < 30 && !warm; i++) warm = (await fire()).count >= sockets;
    if (!warm) throw new Error(`${phase.label}: no warm-up event reached all ${sockets} sockets`);
    for (let i = 0; i < 5; i++) await fire();

    await sleep(500);
    const idle = await statsAll(true);
    await snapshot('idle');
    await Promise.all(phase.servers.map((s) => s.ask({ type: 'reset-eld' })));

    const latencies: number[] = [];
    const firsts: number[] = [];
    const accepts: number[] = [];
    let delivered = 0;
    let duplicates = 0;
    for (let i = 0; i < options.events; i++) {
      const r = await fire();
      delivered += r.count;
      duplicates += r.duplicates;
      latencies.push(r.last - r.sentAt);
      firsts.push(r.first - r.sentAt);
      accepts.push(r.accepted);
      await sleep(20);
    }
    const after = await statsAll(false);
    latencies.sort((a, b) => a - b);
    firsts.sort((a, b) => a - b);
    accepts.sort((a, b) => a - b);
    const sum = (xs: Stats[], f: (s: Stats) => number) => xs.reduce((a, s) => a + f(s), 0);
    return {
      label: phase.label,
      sockets,
      failedSockets,
      connectMs,
      delivered,
      duplicates,
      expected: options.events * options.sockets,
      p50: quantile(latencies, 0.5),
      p95: quantile(latencies, 0.95),
      p99: quantile(latencies, 0.99),
      max: latencies[latencies.length - 1],
      firstP50: quantile(firsts, 0.5),
      acceptedP50: quantile(accepts, 0.5),
      rssPerSocketKb: (sum(idle, (s) => s.rss) - sum(before, (s) => s.rss)) / sockets / 1024,
      heapPerSocketKb: (sum(idle, (s) => s.heapUsed) - sum(before, (s) => s.heapUsed)) / sockets / 1024,
      // Both instances together, over the measured events (the pauses between them are idle).
      cpuPerEventMs: (sum(after, (s) => s.cpuMs) - sum(idle, (s) => s.cpuMs)) / options.events,
      // The worse of the two instances during the measured events.
      eld: {
        p50: Math.max(...after.map((s) => s.eld.p50)),
        p99: Math.max(...after.map((s) => s.eld.p99)),
        max: Math.max(...after.map((s) => s.eld.max)),
        mean: Math.max(...after.map((s) => s.eld.mean)),
      },
    };
  } finally {
    await Promise.all(harnesses.map((h) => h.ask({ type: 'close' }).catch(() => undefined)));
    for (const h of harnesses) h.kill();
  }
}

async function ready(child: Child): Promise<string> {
  return (await child.next<Extract<FanoutServerReply, { type: 'ready' }>>()).base;
}

async function stopAll(children: Child[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.proc.exitCode !== null) return resolve();
          const timer = setTimeout(() => (c.kill(), resolve()), 5000);
          c.proc.once('exit', () => (clearTimeout(timer), resolve()));
          c.proc.send({ type: 'stop' });
        }),
    ),
  );
}

export async function runFanout(options: FanoutOptions): Promise<FanoutResult> {
  const probe = await probeServices(options);
  if ('reason' in probe) return { skipped: probe.reason };
  const started = Date.now();
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `ggz_bench_${tag}`;
  const admin = await createConnection(options.mariadbUrl);
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const dbUrl = new URL(options.mariadbUrl);
  dbUrl.pathname = `/${dbName}`;
  const redisPrefix = `ggz-bench:${tag}:`;
  const sessionSecret = randomBytes(32).toString('hex');
  const syncSecret = randomBytes(24).toString('hex');

  const variants: FanoutVariant[] = [];
  let tokens: string[] = [];
  let clientId = '';
  try {
    for (const gw of options.gateways) {
      const spec = (first: boolean): FanoutServerSpec => ({
        mode: 'gateway',
        redisUrl: options.redisUrl,
        redisPrefix,
        appDist: gw.dist,
        databaseUrl: dbUrl.toString(),
        sessionSecret,
        syncSecret,
        ...(first && !tokens.length ? { setupAccounts: options.sockets } : {}),
      });
      const a = startServer(spec(true));
      const servers = [a];
      try {
        // The first instance answers its accounts and tokens before it says it is ready.
        if (!tokens.length) {
          const setup = await a.next<Extract<FanoutServerReply, { type: 'setup' }>>();
          tokens = setup.tokens;
          clientId = setup.clientId;
        }
        const baseA = await ready(a);
        const b = startServer(spec(false));
        servers.push(b);
        const bases = [baseA, await ready(b)];
        const trigger = async (seq: number, sentAt: number): Promise<void> => {
          const raw = JSON.stringify({
            id: randomUUID(),
            type: 'videocall.ready',
            source: 'demo',
            clientId,
            occurredAt: new Date().toISOString(),
            data: { practitionerId: 'pr-elamrani', joinUrl: stampUrl(seq, sentAt) },
          });
          const timestamp = Math.floor(Date.now() / 1000);
          const res = await fetch(`${bases[seq % 2]}/sync/events`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-signature-timestamp': String(timestamp),
              'x-signature': signSyncBody(syncSecret, timestamp, raw),
            },
            body: raw,
          });
          if (res.status !== 202) throw new Error(`POST /sync/events answered ${res.status}: ${await res.text()}`);
        };
        variants.push(await measurePhase({ label: gw.label, servers, bases, trigger, mode: 'gateway', tokens, clientId }, options));
      } finally {
        await stopAll(servers);
      }
    }

    // The baselines: the same events, published through the same Redis to two bare servers.
    const rawPhase = async (mode: FanoutMode, label: string, body: (seq: number, sentAt: number, readySince: string) => string) => {
      const spec: FanoutServerSpec = { mode, redisUrl: options.redisUrl, redisPrefix, appDist: '' };
      const servers = [startServer(spec), startServer(spec)];
      try {
        const bases = await Promise.all(servers.map(ready));
        const readySince = new Date().toISOString();
        const trigger = async (seq: number, sentAt: number): Promise<void> => {
          const res = await fetch(`${bases[seq % 2]}/publish`, { method: 'POST', body: body(seq, sentAt, readySince) });
          if (res.status !== 202) throw new Error(`raw publish answered ${res.status}`);
        };
        variants.push(await measurePhase({ label, servers, bases, trigger, mode, tokens: [], clientId }, options));
      } finally {
        await stopAll(servers);
      }
    };
    const payload = (seq: number, sentAt: number, readySince: string) => ({
      data: { videoCallStatusChanged: { ready: true, joinUrl: stampUrl(seq, sentAt), readySince } },
    });
    // The frame a gateway socket receives, byte for byte in shape and size.
    await rawPhase('raw', 'raw ws broadcast', (seq, sentAt, since) => JSON.stringify({ id: randomUUID(), type: 'next', payload: payload(seq, sentAt, since) }));
    // The payload alone; each server puts it in each socket's own frame.
    await rawPhase('raw-protocol', PROTOCOL_LABEL, (seq, sentAt, since) => JSON.stringify(payload(seq, sentAt, since)));
  } finally {
    const c = await createConnection(options.mariadbUrl);
    await c.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await c.end();
  }
  return { variants, options, seconds: Math.round((Date.now() - started) / 1000), services: probe.versions };
}

const ms = (x: number) => x.toFixed(1);

/** The fan-out section of bench/RESULTS.md. */
export function fanoutMarkdown(result: FanoutResult, command: string, environment: string, heading: string): string {
  const head = `${heading}\n\n`;
  if ('skipped' in result)
    return `${head}Skipped: ${result.skipped}. Start MariaDB and Redis (or set FANOUT_MARIADB_URL / FANOUT_REDIS_URL) and run \`${command}\`.\n`;
  const { options, variants } = result;
  const raw = variants.find((v) => v.label === 'raw ws broadcast')!;
  const protocol = variants.find((v) => v.label === PROTOCOL_LABEL);
  const rows = variants
    .map(
      (v) =>
        `| ${v.label} | ${v.sockets} | ${v.delivered} / ${v.expected} | ${ms(v.p50)} | ${ms(v.p95)} | ${ms(v.p99)} | ${ms(v.max)} | ${(v.p50 / raw.p50).toFixed(2)} / ${(v.p95 / raw.p95).toFixed(2)} / ${(v.p99 / raw.p99).toFixed(2)} | ${ms(v.acceptedP50)} / ${ms(v.firstP50)} | ${v.rssPerSocketKb.toFixed(1)} | ${v.heapPerSocketKb.toFixed(1)} | ${ms(v.eld.p99)} / ${ms(v.eld.max)} | ${ms(v.cpuPerEventMs)} (${(v.cpuPerEventMs / raw.cpuPerEventMs).toFixed(2)}) |`,
    )
    .join('\n');
  const gw = variants.find((v) => v.label === 'gateway') ?? variants[0];
  return `${head}Command: \`${command}\` (${result.seconds} s, ${new Date().toISOString()}). ${environment}; ${result.services}.

${options.sockets} sockets, each a graphql-ws client authenticated with its own
account's Bearer token (N accounts linked to one client, one session each), subscribed to
\`videoCallStatusChanged(clientId)\` selecting \`{ ready joinUrl readySince }\`, spread evenly over two
gateway instances (own processes) that share one throwaway MariaDB database (created and dropped by
the run) and Redis (own key prefix). The clients live in ${options.harnesses} harness processes. ${options.events} events, one
at a time (the next after every socket got the previous one, 20 ms apart), each a signed
\`videocall.ready\` POSTed to /sync/events of instance A and B in turn, after a warm-up that ends when an
event reaches every socket. Latency = trigger sent → last socket's arrival (wall clock in both processes,
\`performance.timeOrigin + performance.now()\`; the sequence number and send time ride in the joinUrl).
Raw baseline in the same run: two bare \`ws\` servers on the same Redis; each event is one PUBLISH of
the same graphql-ws \`next\` frame, which both write to every socket, read by bare \`ws\` clients that
parse it. The ratios are to this baseline. A second one, also in the same run: the same two bare
servers speaking graphql-transport-ws just enough (the handshake's ack, each socket's subscription id
in its \`next\` frame, a PUBLISH of the payload alone), read by graphql-ws clients as the gateway's
sockets are: what the protocol and its client cost without any of the gateway.

| server | sockets | delivered | p50 ms | p95 ms | p99 ms | max ms | ratio to raw (p50/p95/p99) | 202 / first arrival p50 ms | RSS KB / idle socket | heap KB / socket | loop delay p99 / max ms | CPU ms / event (to raw) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows}

- Delivered must be all (${gw.expected}), each socket every event once: ${variants.every((v) => v.delivered === v.expected && v.duplicates === 0) ? 'yes, for every server' : 'NO — see the delivered column and the duplicates'}; duplicates: ${variants.map((v) => v.duplicates).join(' / ')}; sockets that failed to connect: ${variants.map((v) => v.failedSockets).join(' / ')}.
- "202 / first arrival": trigger sent → the instance answered (gateway: sync event verified and stored; raw: published), and → the first socket's arrival; the last arrival is the latency columns.
- RSS and heap per socket: both instances together, after GC, idle sockets with their subscription open, minus the same before any socket; loop delay: the worse instance, during the measured events; CPU per event: both instances together (user + system) over the measured events, and its ratio to the raw baseline's.
- The gateway's latency includes what the raw baseline does not do: verifying and storing the sync event (202 only once stored), the room update in MariaDB, and per event on each instance one batched re-authorisation of every subscriber (session, links, portal rules); the event is rendered once per distinct value, selection and variables by the operation compiled with graphql-jit, and written to each socket in graphql-ws's own \`next\` frame.
- Runs: \`npm run bench\` (W1, W2, then this section), \`npm run bench -- --fanout-only\` (only this section,
  the rest of RESULTS.md kept), \`npm run bench -- --fanout-only --large\` (10 000 sockets; needs \`ulimit -n\` ≥ 12 000 in
  the shell that runs it — each instance holds 5 000 sockets plus its pools, each harness 5 000 — e.g.
  \`ulimit -n 20000 && npm run bench -- --fanout-only --large\`; budget ~3 minutes, most of it creating 10 000
  accounts and sessions). \`FANOUT_SOCKETS\`, \`FANOUT_EVENTS\`, \`FANOUT_MARIADB_URL\`, \`FANOUT_REDIS_URL\` override the
  defaults; \`FANOUT_COMPARE_DIST=/path/to/other/dist\` (+ \`FANOUT_COMPARE_LABEL\`) runs a second build of the gateway
  on the same database and tokens in the same run (before/after; \`FANOUT_COMPARE_FIRST=1\` runs it first); \`FANOUT_PROFILE_DIR\` / \`FANOUT_HEAP_DIR\` write
  CPU profiles / heap snapshots of the instances.
${
  protocol
    ? `- Against the graphql-ws baseline (the same clients on both sides of a bare server), the gateway's p50 / p95 / p99 are ${(gw.p50 / protocol.p50).toFixed(2)} / ${(gw.p95 / protocol.p95).toFixed(2)} / ${(gw.p99 / protocol.p99).toFixed(2)}× and its CPU per event ${(gw.cpuPerEventMs / protocol.cpuPerEventMs).toFixed(2)}×; that baseline's own are ${(protocol.p95 / raw.p95).toFixed(2)}× (p95) and ${(protocol.cpuPerEventMs / raw.cpuPerEventMs).toFixed(2)}× (CPU) the bare broadcast's.\n`
    : ''
}- Aims of issue 17: ${
    gw.sockets >= 10_000
      ? `p95 ≤ 1.5× the raw broadcast at 10 000 sockets → ${gw.p95 <= 1.5 * raw.p95 ? 'met' : 'not met'} (${(gw.p95 / raw.p95).toFixed(2)}×); ≤ 20 KB RSS per idle socket → ${gw.rssPerSocketKb <= 20 ? 'met' : 'not met'} (${gw.rssPerSocketKb.toFixed(1)} KB)`
      : `p99 ≤ 2× the raw broadcast at 1 000 sockets → ${gw.p99 <= 2 * raw.p99 ? 'met' : 'not met'} (${(gw.p99 / raw.p99).toFixed(2)}×)`
  }; every event delivered → ${gw.delivered === gw.expected && gw.duplicates === 0 ? 'met' : 'not met'}.
- Aim (issue 5): ${
    gw.sockets >= 10_000
      ? `p95 within 2× the raw broadcast and under 500 ms at 10 000 sockets → ${gw.p95 <= 2 * raw.p95 && gw.p95 < 500 ? 'met' : 'not met'} (${(gw.p95 / raw.p95).toFixed(2)}×, ${ms(gw.p95)} ms)`
      : `p99 < 100 ms at 1 000 sockets → ${gw.sockets >= 1000 && gw.p99 < 100 ? 'met' : gw.sockets >= 1000 ? 'not met' : 'n/a'}`
  }; ≤ 30 KB per idle socket → ${gw.rssPerSocketKb <= 30 ? 'met' : 'not met'}.
`;
}
