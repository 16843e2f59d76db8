import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client as UrqlClient, cacheExchange, fetchExchange } from '@urql/core';
import autocannon from 'autocannon';
import { fanoutMarkdown, runFanout, type FanoutOptions } from './fanout';
import { W1_QUERY, W2_QUERY } from './fixture';

/**
 * `npm run bench`: the gateway against a raw node:http handler over the same adapter, in the same
 * run, each server in its own process pinned to core 0 and the load generator on core 1 (taskset,
 * where available). Warm-up, then three measured runs; medians. Every response body is checked
 * against the first one; errors and mismatches must be 0. Then the subscription fan-out
 * (bench/fanout.ts). Results go to bench/RESULTS.md.
 *
 *   npm run bench                                  W1, W2 and the fan-out with 1 000 sockets, and with 10 000 where ulimit -n ≥ 12 000
 *   npm run bench -- --fanout-only                 only the fan-out; replaces that section of RESULTS.md
 *   npm run bench -- --fanout-only --large         the fan-out with 10 000 sockets (ulimit -n ≥ 12 000), its own section
 *   npm run bench -- --http-only                   only W1 and W2; the fan-out section of RESULTS.md is kept
 *   npm run bench -- --w2-compare <other dist>     this build against another side by side on W2 (CPU per request), both orders;
 *                                                  `--as apollo`, `--as urql` or `--as apq` asks as that client does
 */

interface Started {
  child: ChildProcess;
  port: number;
  token: string;
  clientId: string;
  statsPort: number;
}

const root = join(__dirname, '..', '..');
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return cpus().length > 1;
  } catch {
    return false;
  }
})();

async function startServer(
  mode: 'gateway' | 'raw' | 'duties',
  delayMs: number,
  settings: Record<string, string> = {},
  /** Another build's bench directory (dist/bench of a worktree), for a comparison of two builds. */
  benchDir = __dirname,
): Promise<Started> {
  const script = join(benchDir, 'server.js');
  const env = { ...process.env, BENCH_GATEWAY_ENV: JSON.stringify(settings) };
  const child = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, script, mode, String(delayMs)], { env })
    : spawn(process.execPath, [script, mode, String(delayMs)], { env });
  child.stderr.pipe(process.stderr);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as Omit<Started, 'child'>) };
}

async function calls(s: Started): Promise<number> {
  const counts = (await (await fetch(`http://127.0.0.1:${s.statsPort}/`)).json()) as Record<string, number>;
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  callsPerRequest: number;
}

/** One measured run of a server; the first answer, the warm-up and the body check are set up by `prepare`. */
type Run = () => Promise<Measured>;

/**
 * How a request is sent: as the bench does (JSON in, JSON out); as Apollo Client 4's HttpLink does
 * (its Accept header, the operation's name and the `clientLibrary` extension, in the order of its
 * body); as a trusted document by its hash alone; as urql sends it (captured from @urql/core); or as
 * Apollo Client 4 with its persisted-query link sends a registered query (APQ: the hash alone,
 * beside clientLibrary).
 */
type Asker = 'bench' | 'apollo' | 'trusted' | 'urql' | 'apq';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** The trusted-documents file of the gateway run with TRUSTED_DOCUMENTS: the bench's queries by their SHA-256. */
function trustedDocumentsFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ggz-bench-trusted-')), 'trusted-documents.json');
  writeFileSync(path, JSON.stringify(Object.fromEntries([W1_QUERY, W2_QUERY].map((q) => [sha256(q), q]))));
  return path;
}
const APOLLO_ACCEPT = 'application/graphql-response+json,application/json;q=0.9';
const APOLLO_LIBRARY = { name: '@apollo/client', version: version('@apollo/client') };

/** A client id in the captured urql request, replaced by each server's own. */
const CLIENT_PLACEHOLDER = 'bench-client-placeholder';
/** urql's request for each query, as its own code builds it: `urqlRequests` fills it before any load. */
const urqlAsks = new Map<string, { search: string; headers: Record<string, string> }>();

/**
 * The request @urql/core's Client sends for a query with its default exchanges (the document cache,
 * which adds `__typename` to every selection, and fetch) and `preferGetMethod` as it comes: a GET
 * with the query in the URL, urql's Accept header, and the header CSRF prevention asks of a GET
 * (the README tells urql users to set it). Captured by a fetch that answers nothing.
 */
async function urqlRequests(queries: string[]): Promise<void> {
  for (const query of queries) {
    let sent: { url: string; headers: Record<string, string> } | undefined;
    const client = new UrqlClient({
      url: 'http://bench.invalid/graphql',
      exchanges: [cacheExchange, fetchExchange],
      fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
      fetch: async (url, init) => {
        sent = { url: String(url), headers: Object.fromEntries(new Headers(init?.headers).entries()) };
        if (init?.method !== 'GET') throw new Error(`urql sent the W2 query as ${init?.method}, not GET`);
        return new Response(JSON.stringify({ data: null }), { headers: { 'content-type': 'application/json' } });
      },
    });
    await client.query(query, { id: CLIENT_PLACEHOLDER }, { requestPolicy: 'network-only' }).toPromise();
    if (!sent) throw new Error('urql sent no request');
    urqlAsks.set(query, { search: new URL(sent.url).search, headers: sent.headers });
  }
}

/** The benchmark query as a request to one server, for fetch and autocannon alike. */
function requestTo(s: Started, query: string, as: Asker = 'bench', register = false) {
  const url = `http://127.0.0.1:${s.port}/graphql`;
  const auth = { authorization: `Bearer ${s.token}` };
  if (as === 'urql') {
    const asked = urqlAsks.get(query);
    if (!asked) throw new Error('urqlRequests was not run for this query');
    return {
      url: `${url}${asked.search.replace(CLIENT_PLACEHOLDER, encodeURIComponent(s.clientId))}`,
      method: 'GET' as const,
      headers: { ...asked.headers, ...auth },
    };
  }
  const operationName = /^(?:query|mutation)\s+(\w+)/.exec(query)?.[1];
  const variables = { id: s.clientId };
  const persistedQuery = { version: 1, sha256Hash: sha256(query) };
  const post = (headers: Record<string, string>, body: Record<string, unknown>) => ({
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...headers, ...auth },
    body: JSON.stringify(body),
  });
  if (as === 'trusted') return post({}, { operationName, variables, extensions: { persistedQuery } });
  // `register`: the text beside its hash, as the link sends it once when the server did not know the hash.
  if (as === 'apq')
    return post(
      { accept: APOLLO_ACCEPT },
      { operationName, variables, extensions: { clientLibrary: APOLLO_LIBRARY, persistedQuery }, ...(register ? { query } : {}) },
    );
  if (as === 'apollo') return post({ accept: APOLLO_ACCEPT }, { operationName, variables, extensions: { clientLibrary: APOLLO_LIBRARY }, query });
  return post({}, { query, variables });
}

/** The server's answer to the query, which every later answer must equal; a query that fails stops the bench. */
async function firstAnswer(s: Started, query: string, as: Asker = 'bench'): Promise<string> {
  // APQ: the link sends the text with its hash once (the server did not know the hash), then the hash alone.
  if (as === 'apq') {
    const registration = requestTo(s, query, 'apq', true);
    await (await fetch(registration.url, registration)).text();
  }
  const request = requestTo(s, query, as);
  const first = await (await fetch(request.url, request)).text();
  if (first.includes('"errors"')) throw new Error(`the benchmark query fails: ${first.slice(0, 300)}`);
  return first;
}

async function prepare(s: Started, query: string, connections: number, seconds: number, as: Asker = 'bench'): Promise<Run> {
  const request = requestTo(s, query, as);
  const first = await firstAnswer(s, query, as);
  await autocannon({ ...request, connections, duration: 2 }); // warm-up
  return async () => {
    const before = await calls(s);
    const r = await autocannon({ ...request, connections, duration: seconds, expectBody: first });
    const requests = r.requests.total;
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      requests,
      errors: r.errors + r.non2xx + (r.mismatches ?? 0) + r.timeouts,
      callsPerRequest: requests ? ((await calls(s)) - before) / requests : 0,
    };
  };
}

function summarise(runs: Measured[]): Measured {
  const median = (f: (m: Measured) => number) => runs.map(f).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  return {
    rps: median((m) => m.rps),
    p50: median((m) => m.p50),
    p99: median((m) => m.p99),
    requests: runs.reduce((a, m) => a + m.requests, 0),
    errors: runs.reduce((a, m) => a + m.errors, 0),
    callsPerRequest: median((m) => m.callsPerRequest),
  };
}

/**
 * The gateway and the raw handler in turns: both servers up (each in its own process on core 0),
 * then three rounds of one gateway run followed by one raw run, so a drift of the machine's speed
 * over the minute of measuring hits both alike instead of whichever ran second. Medians. With
 * `asApollo`, each round also runs the gateway as Apollo Client 4 asks, between the two.
 */
async function gatewayAgainstRaw(
  query: string,
  connections: number,
  seconds: number,
  delayMs: number,
  asApollo = false,
): Promise<{ gateway: Measured; raw: Measured; ratios: number[]; apollo?: Measured; apolloRatios?: number[] }> {
  const [gateway, raw] = await Promise.all([startServer('gateway', delayMs), startServer('raw', delayMs)]);
  try {
    const runGateway = await prepare(gateway, query, connections, seconds);
    const runApollo = asApollo ? await prepare(gateway, query, connections, seconds, 'apollo') : undefined;
    const runRaw = await prepare(raw, query, connections, seconds);
    const rounds: { gateway: Measured; apollo?: Measured; raw: Measured }[] = [];
    for (let i = 0; i < 3; i++) {
      const g = await runGateway();
      const a = runApollo ? await runApollo() : undefined;
      rounds.push({ gateway: g, apollo: a, raw: await runRaw() });
    }
    return {
      gateway: summarise(rounds.map((r) => r.gateway)),
      raw: summarise(rounds.map((r) => r.raw)),
      ratios: rounds.map((r) => r.gateway.rps / r.raw.rps),
      ...(runApollo ? { apollo: summarise(rounds.map((r) => r.apollo!)), apolloRatios: rounds.map((r) => r.apollo!.rps / r.raw.rps) } : {}),
    };
  } finally {
    gateway.child.kill('SIGKILL');
    raw.child.kill('SIGKILL');
  }
}

/** CPU time (user + system) a process has used, in ms; null where /proc is not there. */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

interface SideBySide {
  gatewayMs: number;
  /** A second gateway process, loaded as Apollo Client 4 asks. */
  apolloMs: number;
  /** The same code as a stock Apollo + type-graphql server runs it (GRAPHQL_EXECUTOR=graphql-js, GRAPHQL_DIRECT_PATH=0). */
  stockMs: number;
  /** TRUSTED_DOCUMENTS on, each request naming its operation by hash alone. */
  trustedMs: number;
  rawMs: number;
  /** The raw handler beside the stock server and trusted documents (the second group). */
  secondRawMs: number;
  /** urql's GETs and Apollo Client's APQ hashes (a third group, with its own raw handler). */
  urqlMs: number;
  apqMs: number;
  thirdRawMs: number;
  /** A fourth group: the gateway beside a server doing its duties without GraphQL (bench/server.ts, dutiesServer). */
  fourthGatewayMs: number;
  dutiesMs: number;
  fourthRawMs: number;
  /** The share of the Apollo-shaped requests the direct path answered (gateway_graphql_direct_total); null without /metrics. */
  apolloDirect: number | null;
  urqlDirect: number | null;
  apqDirect: number | null;
  /** The answer's size as urql asks (with __typename) and as the bench asks. */
  urqlBytes: number;
  benchBytes: number;
}

async function directAnswers(s: Started): Promise<number | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
    return [...text.matchAll(/^gateway_graphql_direct_total(?:\{[^}]*\})? (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  } catch {
    return null;
  }
}

/**
 * W2 a second way: the servers on the same core at the same time, loaded together, CPU time per
 * request of each read from /proc. Whatever else the machine does then hits all alike, so the
 * ratio of two (the throughput ratio when all are CPU-bound) varies far less than separate
 * throughput runs a minute apart. Four groups of gateway processes, each process asked one way
 * (see `Asker`), each group beside a raw handler of its own. Medians of three rounds; null without /proc.
 */
async function sideBySide(query: string, seconds: number): Promise<SideBySide | null> {
  // Groups of at most three, as many as the load generator's one core keeps CPU-bound: the bench's own and
  // Apollo Client 4's requests with the raw handler, then the stock server and trusted documents with it,
  // then urql's GETs and Apollo Client's APQ hashes, then the gateway beside its duties without GraphQL.
  const first = await sideBySideGroup(query, seconds, [
    { settings: {}, as: 'bench' },
    { settings: {}, as: 'apollo' },
  ]);
  if (!first) return null;
  const second = await sideBySideGroup(query, seconds, [
    { settings: { GRAPHQL_EXECUTOR: 'graphql-js', GRAPHQL_DIRECT_PATH: '0' }, as: 'bench' },
    { settings: { TRUSTED_DOCUMENTS: trustedDocumentsFile() }, as: 'trusted' },
  ]);
  if (!second) return null;
  // urql's answer carries __typename: the group compares it with the others without them.
  const third = await sideBySideGroup(query, seconds, [
    { settings: {}, as: 'urql' },
    { settings: {}, as: 'apq' },
  ]);
  if (!third) return null;
  const fourth = await sideBySideGroup(query, seconds, [
    { settings: {}, as: 'bench' },
    { settings: {}, as: 'bench', mode: 'duties' },
  ]);
  if (!fourth) return null;
  return {
    gatewayMs: first.ms[0],
    apolloMs: first.ms[1],
    rawMs: first.ms[2],
    stockMs: second.ms[0],
    trustedMs: second.ms[1],
    secondRawMs: second.ms[2],
    urqlMs: third.ms[0],
    apqMs: third.ms[1],
    thirdRawMs: third.ms[2],
    fourthGatewayMs: fourth.ms[0],
    dutiesMs: fourth.ms[1],
    fourthRawMs: fourth.ms[2],
    apolloDirect: first.direct[1],
    urqlDirect: third.direct[0],
    apqDirect: third.direct[1],
    urqlBytes: third.bytes[0],
    benchBytes: first.bytes[0],
  };
}

/**
 * Gateway variants and the raw handler on core 0 at the same time, each loaded with 10 connections,
 * CPU time per request from /proc: medians of three rounds, the raw handler's last. Every gateway
 * answers the same bytes (the raw handler the same JSON without Apollo's closing newline).
 */
async function sideBySideGroup(
  query: string,
  seconds: number,
  /** `mode: 'duties'`: the gateway's duties without GraphQL (bench/server.ts, dutiesServer) instead of the gateway. */
  variants: { settings: Record<string, string>; as: Asker; mode?: 'gateway' | 'duties' }[],
): Promise<{ ms: number[]; direct: (number | null)[]; bytes: number[] } | null> {
  const started = await Promise.all([...variants.map((v) => startServer(v.mode ?? 'gateway', 0, v.settings)), startServer('raw', 0)]);
  const servers: [Started, Asker][] = started.map((s, i) => [s, variants[i]?.as ?? 'bench']);
  try {
    if (cpuMs(started[0].child.pid!) === null) return null;
    const firsts = await Promise.all(servers.map(([s, as]) => firstAnswer(s, query, as)));
    // urql's answer is the same data with `__typename` on every object (its document cache asks for it).
    const gatewayAnswers = firsts.slice(0, variants.length).map((f, i) => (variants[i].as === 'urql' ? withoutTypenames(f) : f));
    if (gatewayAnswers.some((f) => f !== gatewayAnswers[0]) || firsts[variants.length] !== gatewayAnswers[0].trimEnd())
      throw new Error('side-by-side W2: the servers answered differently');
    const load = (i: number, duration: number) =>
      autocannon({ ...requestTo(servers[i][0], query, servers[i][1]), connections: 10, duration, expectBody: firsts[i] });
    await Promise.all(servers.map((_, i) => load(i, 3)));
    const rounds: number[][] = [];
    const gateways = started.slice(0, variants.length);
    const directBefore = await Promise.all(gateways.map((s) => directAnswers(s)));
    const total = servers.map(() => 0);
    for (let i = 0; i < 3; i++) {
      const before = servers.map(([s]) => cpuMs(s.child.pid!)!);
      const results = await Promise.all(servers.map((_, j) => load(j, seconds)));
      if (results.some((r) => r.errors + r.non2xx + (r.mismatches ?? 0)))
        throw new Error('side-by-side W2 run had errors or answers that differed from the first');
      rounds.push(servers.map(([s], j) => (cpuMs(s.child.pid!)! - before[j]) / results[j].requests.total));
      results.forEach((r, j) => (total[j] += r.requests.total));
    }
    const directAfter = await Promise.all(gateways.map((s) => directAnswers(s)));
    const median = (j: number) => rounds.map((r) => r[j]).sort((a, b) => a - b)[1];
    return {
      ms: servers.map((_, j) => median(j)),
      bytes: firsts.map((f) => Buffer.byteLength(f)),
      direct: gateways.map((_, j) =>
        variants[j].mode === 'duties' || directBefore[j] === null || directAfter[j] === null ? null : (directAfter[j]! - directBefore[j]!) / total[j],
      ),
    };
  } finally {
    for (const s of started) s.child.kill('SIGKILL');
  }
}

/** An answer's JSON with every `__typename` taken out, in Apollo's bytes (a closing newline). */
function withoutTypenames(answer: string): string {
  return `${JSON.stringify(JSON.parse(answer), (key, value: unknown) => (key === '__typename' ? undefined : value))}\n`;
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

const args = process.argv.slice(2);
const FANOUT_HEADING = '## Fan-out: videoCallStatusChanged over two instances (MariaDB + Redis)';
const LARGE_HEADING = '## Fan-out at 10 000 sockets (--large)';
/** The headings of the first part that every run writes anew. */
const GENERATED_HEADINGS = ['## W1:', '## W2:'];

/** RESULTS.md in three parts (W1/W2, the default fan-out, the --large fan-out); a run replaces only its own. */
function composeResults(parts: { http?: string; fanout?: string; large?: string }): string {
  const path = join(root, 'bench', 'RESULTS.md');
  let previous = '';
  try {
    previous = readFileSync(path, 'utf8');
  } catch {
    previous = '';
  }
  const fanoutAt = previous.indexOf(FANOUT_HEADING);
  const largeAt = previous.indexOf(LARGE_HEADING);
  const end = (at: number) => [fanoutAt, largeAt, previous.length].filter((x) => x > at).sort((a, b) => a - b)[0] ?? previous.length;
  const old = {
    http: previous.slice(0, [fanoutAt, largeAt, previous.length].filter((x) => x >= 0).sort((a, b) => a - b)[0]).trim() || '# Benchmark results',
    fanout: fanoutAt >= 0 ? previous.slice(fanoutAt, end(fanoutAt)).trim() : '',
    large: largeAt >= 0 ? previous.slice(largeAt, end(largeAt)).trim() : '',
  };
  // Sections written by hand into the first part (comparisons of two builds: any `## ` heading the
  // run does not write) stay, after the run's own W1/W2 text.
  const notes = old.http
    .split(/^(?=## )/m)
    .filter((section) => section.startsWith('## ') && !GENERATED_HEADINGS.some((h) => section.startsWith(h)))
    // Each section trimmed: joined as they were, every run added a blank line after each one.
    .map((section) => section.trim())
    .join('\n\n');
  const http = parts.http ? [parts.http.trim(), notes].filter(Boolean).join('\n\n') : old.http;
  const text = [http, parts.fanout ?? old.fanout, parts.large ?? old.large]
    .map((x) => x.trim())
    .filter(Boolean)
    .join('\n\n');
  writeFileSync(path, `${text}\n`);
  return path;
}

/**
 * This build, and a second one in the same run (before/after a change): FANOUT_COMPARE_DIST=/path/to/dist.
 * The first build also makes the accounts and tokens both use, and runs while the machine is
 * fresher: FANOUT_COMPARE_FIRST=1 runs the other build first, so a comparison can be made in both orders.
 */
function gatewaysToRun(): FanoutOptions['gateways'] {
  const own = { label: 'gateway', dist: join(__dirname, '..') };
  const other = process.env.FANOUT_COMPARE_DIST;
  if (!other) return [own];
  const compare = { label: process.env.FANOUT_COMPARE_LABEL ?? 'gateway (compare build)', dist: other };
  return process.env.FANOUT_COMPARE_FIRST === '1' ? [compare, own] : [own, compare];
}

/** The fan-out run, unpinned (its five processes share the cores), as a RESULTS.md section. */
async function fanoutSection(large = args.includes('--large')): Promise<string> {
  if (hasTaskset) execFileSync('taskset', ['-cp', `0-${cpus().length - 1}`, String(process.pid)], { stdio: 'ignore' });
  const options: FanoutOptions = {
    sockets: large ? 10_000 : Number(process.env.FANOUT_SOCKETS ?? 1000),
    events: Number(process.env.FANOUT_EVENTS ?? 100),
    gateways: gatewaysToRun(),
    mariadbUrl: process.env.FANOUT_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306',
    redisUrl: process.env.FANOUT_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    harnesses: 2,
  };
  console.log(`fan-out: ${options.sockets} sockets, ${options.events} events, ${options.gateways.map((g) => g.label).join(' + ')} + raw ws`);
  const result = await runFanout(options);
  const command = `npm run bench -- --fanout-only${large ? ' --large' : ''}`;
  let tree: string;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean).length;
    tree = `; code: ${head}${dirty ? ` + ${dirty} uncommitted paths in the shared working tree` : ''}`;
  } catch {
    tree = '';
  }
  const environment = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, Node ${process.version}; graphql-ws ${version('graphql-ws')}, ws ${version('ws')}, ioredis ${version('ioredis')}, mysql2 ${version('mysql2')}, typeorm ${version('typeorm')}, graphql ${version('graphql')}, type-graphql ${version('type-graphql')}, dataloader ${version('dataloader')}${tree}`;
  const md = fanoutMarkdown(result, command, environment, large ? LARGE_HEADING : FANOUT_HEADING);
  console.log(md);
  return md;
}

/**
 * `npm run bench -- --w2-compare /path/to/other/dist`: this build's gateway and another build's
 * (e.g. a `git worktree` of the commit before a change, built with `npx tsc -p tsconfig.bench.json`)
 * side by side on core 0, 10 connections each, CPU per W2 request from /proc, five 10-second rounds,
 * then the same with the other build started first; prints new / old per round and the medians.
 * RESULTS.md is not written: the comparison goes into its hand-written sections.
 */
async function compareBuilds(otherDist: string, as: Asker): Promise<void> {
  const otherBench = join(otherDist, 'bench');
  if (as === 'urql') await urqlRequests([W2_QUERY]);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  for (const otherFirst of [false, true]) {
    const [first, second] = await Promise.all([
      startServer('gateway', 0, {}, otherFirst ? otherBench : __dirname),
      startServer('gateway', 0, {}, otherFirst ? __dirname : otherBench),
    ]);
    const [mine, other] = otherFirst ? [second, first] : [first, second];
    try {
      const answers = await Promise.all([firstAnswer(mine, W2_QUERY, as), firstAnswer(other, W2_QUERY, as)]);
      if (answers[0] !== answers[1]) throw new Error('w2-compare: the two builds answer W2 differently');
      const load = (s: Started, duration: number) => autocannon({ ...requestTo(s, W2_QUERY, as), connections: 10, duration, expectBody: answers[0] });
      await Promise.all([load(first, 5), load(second, 5)]);
      const ratios: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = [cpuMs(mine.child.pid!)!, cpuMs(other.child.pid!)!];
        const [a, b] = await Promise.all([load(mine, seconds), load(other, seconds)]);
        if (a.errors + a.non2xx + (a.mismatches ?? 0) + b.errors + b.non2xx + (b.mismatches ?? 0)) throw new Error('w2-compare: errors or differing answers');
        const ratio = (cpuMs(mine.child.pid!)! - before[0]) / a.requests.total / ((cpuMs(other.child.pid!)! - before[1]) / b.requests.total);
        ratios.push(ratio);
        console.log(`${otherFirst ? 'other build started first' : 'this build started first'}, round ${i + 1}: new / old CPU per request ${ratio.toFixed(3)}`);
      }
      console.log(`median new / old (${otherFirst ? 'other first' : 'this first'}): ${[...ratios].sort((x, y) => x - y)[2].toFixed(3)}`);
    } finally {
      first.child.kill('SIGKILL');
      second.child.kill('SIGKILL');
    }
  }
}

async function main(): Promise<void> {
  const compareAt = args.indexOf('--w2-compare');
  if (compareAt >= 0) {
    if (hasTaskset) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    const asAt = args.indexOf('--as');
    const as = (asAt >= 0 ? args[asAt + 1] : 'bench') as Asker;
    if (!['bench', 'apollo', 'urql', 'apq'].includes(as)) throw new Error(`--as ${as}: one of bench, apollo, urql, apq`);
    await compareBuilds(args[compareAt + 1] ?? '', as);
    return;
  }
  if (args.includes('--fanout-only')) {
    const section = await fanoutSection();
    composeResults(args.includes('--large') ? { large: section } : { fanout: section });
    return;
  }
  if (hasTaskset) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const delay = 5;
  await urqlRequests([W2_QUERY]);
  console.log(`bench: ${seconds}s runs, taskset ${hasTaskset ? 'on (server core 0, load core 1)' : 'not available'}`);

  const { gateway: w1Gateway, raw: w1Raw } = await gatewayAgainstRaw(W1_QUERY, 1, seconds, delay);
  console.log('W1 gateway', w1Gateway, 'raw', w1Raw);
  const {
    gateway: w2Gateway,
    raw: w2Raw,
    ratios: w2Ratios,
    apollo: w2Apollo,
    apolloRatios: w2ApolloRatios,
  } = await gatewayAgainstRaw(W2_QUERY, 10, seconds, 0, true);
  console.log('W2 gateway', w2Gateway, 'as Apollo Client asks', w2Apollo, 'raw', w2Raw, 'ratios', w2Ratios, w2ApolloRatios);
  const w2Cpu = await sideBySide(W2_QUERY, seconds * 2);
  console.log('W2 side by side', w2Cpu);
  const failed = w1Gateway.errors + w2Gateway.errors + w1Raw.errors + w2Raw.errors + w2Apollo!.errors;
  // A run in which any answer was an error or differed from the first is no result: nothing is written.
  if (failed)
    throw new Error(
      `bench: ${failed} answers were errors, timeouts, non-2xx or differed from the first answer (gateway ${w1Gateway.errors + w2Gateway.errors}, raw ${w1Raw.errors + w2Raw.errors}); RESULTS.md not written`,
    );

  const cpu = cpus()[0]?.model ?? 'unknown';
  const md = `# Benchmark results

Written by \`npm run bench\` on ${new Date().toISOString()}. Numbers are medians of three ${seconds}-second runs after a
2-second warm-up; the gateway and the raw handler run in turns (gateway, raw, gateway, raw, …, both
processes up throughout), so a drift of the shared machine's speed hits both alike; still compare the
ratios, not the absolute figures.

- Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB; server pinned to core 0 and load generator to core 1: ${hasTaskset ? 'yes (taskset)' : 'no'}
- Node ${process.version}; @apollo/server ${version('@apollo/server')}, graphql ${version('graphql')}, type-graphql ${version('type-graphql')}, typeorm ${version('typeorm')}, better-sqlite3 ${version('better-sqlite3')}, dataloader ${version('dataloader')}, autocannon ${version('autocannon')}
- Baseline: a raw \`node:http\` handler calling the same demo adapter and answering the same JSON.
- The gateway runs with its EHR cache off (\`CACHE_TTL_SECONDS=0\`), so every request goes through the adapter path; with the cache on, W1 and W2 make no adapter calls at all after the first request.
- Every response body was compared with the first one: errors + mismatches + non-2xx = gateway ${w1Gateway.errors + w2Gateway.errors}, raw ${w1Raw.errors + w2Raw.errors}.

## W1: dashboard latency, every adapter call delayed ${delay} ms (1 connection)

| server | p50 ms | p99 ms | req/s | adapter calls / request |
| --- | --- | --- | --- | --- |
| gateway | ${w1Gateway.p50} | ${w1Gateway.p99} | ${w1Gateway.rps.toFixed(0)} | ${w1Gateway.callsPerRequest.toFixed(1)} |
| raw handler | ${w1Raw.p50} | ${w1Raw.p99} | ${w1Raw.rps.toFixed(0)} | ${w1Raw.callsPerRequest.toFixed(1)} |

The dashboard asks for the next appointment's practitioner, which depends on the appointment list:
two adapter round trips one after the other (${2 * delay} ms) in both servers; all dossier parts
are fetched in parallel within the first. Target: p50 ≤ raw p50 + 3 ms → ${w1Gateway.p50 <= w1Raw.p50 + 3 ? 'met' : 'not met'}.

## W2: 100 appointments with practitioners + medications + team (10 connections, no delay)

| server | req/s | ratio to raw | p50 ms | p99 ms | adapter calls / request |
| --- | --- | --- | --- | --- | --- |
| gateway | ${w2Gateway.rps.toFixed(0)} | ${(w2Gateway.rps / w2Raw.rps).toFixed(2)} | ${w2Gateway.p50} | ${w2Gateway.p99} | ${w2Gateway.callsPerRequest.toFixed(1)} |
| gateway, as Apollo Client 4 asks | ${w2Apollo!.rps.toFixed(0)} | ${(w2Apollo!.rps / w2Raw.rps).toFixed(2)} | ${w2Apollo!.p50} | ${w2Apollo!.p99} | ${w2Apollo!.callsPerRequest.toFixed(1)} |
| raw handler | ${w2Raw.rps.toFixed(0)} | 1.00 | ${w2Raw.p50} | ${w2Raw.p99} | ${w2Raw.callsPerRequest.toFixed(1)} |

Upstream calls per request stay constant (one practitioner batch for 100 appointments and the team).
The ratio in each of the three rounds (a gateway run and the raw run right after it): ${w2Ratios.map((r) => r.toFixed(2)).join(', ')};
asked as Apollo Client 4 asks (\`accept: ${APOLLO_ACCEPT}\`, \`extensions.clientLibrary\` of @apollo/client ${APOLLO_LIBRARY.version}, run between the two): ${w2ApolloRatios!.map((r) => r.toFixed(2)).join(', ')}.
Aim from issue 4: at least 0.30 of the raw handler's throughput → ${w2Gateway.rps / w2Raw.rps >= 0.3 ? 'met' : 'not met'} in this table.
${
  w2Cpu
    ? `
The same W2 side by side: the servers pinned to the same core at the same time, each loaded with 10
connections, CPU time per request read from \`/proc\` (medians of three ${seconds * 2}-second rounds). Machine noise
then hits all alike; the ratio is the throughput ratio when all are CPU-bound. Every server's first
answer was the same bytes, and every later answer equalled it.

| server | CPU ms / request | ratio to raw |
| --- | --- | --- |
| gateway | ${w2Cpu.gatewayMs.toFixed(3)} | ${(w2Cpu.rawMs / w2Cpu.gatewayMs).toFixed(2)} |
| gateway, as Apollo Client 4 asks (a second process) | ${w2Cpu.apolloMs.toFixed(3)} | ${(w2Cpu.rawMs / w2Cpu.apolloMs).toFixed(2)} |
| raw handler | ${w2Cpu.rawMs.toFixed(3)} | 1.00 |
| the same code as a stock Apollo + type-graphql server runs it (\`GRAPHQL_EXECUTOR=graphql-js GRAPHQL_DIRECT_PATH=0\`; second group) | ${w2Cpu.stockMs.toFixed(3)} | ${(w2Cpu.secondRawMs / w2Cpu.stockMs).toFixed(2)} |
| trusted documents (\`TRUSTED_DOCUMENTS\`, sent by hash alone; second group) | ${w2Cpu.trustedMs.toFixed(3)} | ${(w2Cpu.secondRawMs / w2Cpu.trustedMs).toFixed(2)} |
| raw handler (second group) | ${w2Cpu.secondRawMs.toFixed(3)} | 1.00 |
| gateway, as urql asks (@urql/core ${version('@urql/core')}'s own request: a GET, its Accept header, \`__typename\` on every object; third group) | ${w2Cpu.urqlMs.toFixed(3)} | ${(w2Cpu.thirdRawMs / w2Cpu.urqlMs).toFixed(2)} |
| gateway, as Apollo Client 4 with its persisted-query link asks (APQ: the hash alone, once registered; third group) | ${w2Cpu.apqMs.toFixed(3)} | ${(w2Cpu.thirdRawMs / w2Cpu.apqMs).toFixed(2)} |
| raw handler (third group) | ${w2Cpu.thirdRawMs.toFixed(3)} | 1.00 |
| gateway (fourth group) | ${w2Cpu.fourthGatewayMs.toFixed(3)} | ${(w2Cpu.fourthRawMs / w2Cpu.fourthGatewayMs).toFixed(2)} |
| the gateway's duties without GraphQL: a node:http handler calling W2's services as its resolvers do (session check, gate, access-log lines awaited, EHR reader with adapter policies, mapping), the JSON built by hand; fourth group | ${w2Cpu.dutiesMs.toFixed(3)} | ${(w2Cpu.fourthRawMs / w2Cpu.dutiesMs).toFixed(2)} |
| raw handler (fourth group) | ${w2Cpu.fourthRawMs.toFixed(3)} | 1.00 |

Four groups, one after the other, of at most three processes (the load generator has one core: five
servers at once would not keep core 0 busy, and every server's CPU per request would then grow with
its idle wake-ups); each ratio is to the raw handler of its own group. urql's request is the one
@urql/core builds with its default exchanges, captured by a fetch of the bench's: its document cache
adds \`__typename\` to every selection, so its answer is ${w2Cpu.urqlBytes} bytes against ${w2Cpu.benchBytes} (the same data
otherwise, checked), and the raw handler answers the bench's JSON.
Aims of issue 17: ≥ 0.45 for any request Apollo accepts → ${Math.min(w2Cpu.rawMs / w2Cpu.gatewayMs, w2Cpu.rawMs / w2Cpu.apolloMs, w2Cpu.thirdRawMs / w2Cpu.urqlMs, w2Cpu.thirdRawMs / w2Cpu.apqMs) >= 0.45 ? 'met' : 'not met'}; ≥ 0.60 for trusted documents → ${w2Cpu.secondRawMs / w2Cpu.trustedMs >= 0.6 ? 'met' : 'not met'}.
Beside its own duties done without GraphQL (fourth group), the gateway takes ${(w2Cpu.fourthGatewayMs / w2Cpu.dutiesMs).toFixed(2)}× their CPU per
request: that is what executing GraphQL (Apollo's checks, graphql-jit, type-graphql, the HTTP layer) adds. The duties alone reach
${(w2Cpu.fourthRawMs / w2Cpu.dutiesMs).toFixed(2)} of the raw handler, which does none of them: no change to the execution can take the gateway past that.

Asked as Apollo Client 4 asks, the gateway's ratio is ${(w2Cpu.rawMs / w2Cpu.apolloMs / (w2Cpu.rawMs / w2Cpu.gatewayMs)).toFixed(3)} of the bench's own
(aim: within 5 % → ${Math.abs(w2Cpu.gatewayMs / w2Cpu.apolloMs - 1) <= 0.05 ? 'met' : 'not met'}); the direct path answered ${w2Cpu.apolloDirect === null ? 'an unknown share' : `${(w2Cpu.apolloDirect * 100).toFixed(0)} %`} of those requests; of urql's GETs, ${w2Cpu.urqlDirect === null ? 'an unknown share' : `${(w2Cpu.urqlDirect * 100).toFixed(0)} %`}; of the APQ hashes, ${w2Cpu.apqDirect === null ? 'an unknown share' : `${(w2Cpu.apqDirect * 100).toFixed(0)} %`}.
`
    : ''
}`;
  console.log(md);
  if (args.includes('--http-only')) {
    composeResults({ http: md });
    return;
  }
  const fanout = await fanoutSection(false);
  // The 10 000-socket fan-out in the same run, where this shell may open that many sockets.
  const large = openFilesLimit() >= 12_000 ? await fanoutSection(true) : undefined;
  if (!large) console.log('bench: ulimit -n is below 12 000, so the 10 000-socket fan-out is left out (its section of RESULTS.md kept)');
  composeResults({ http: md, fanout, ...(large ? { large } : {}) });
}

/** The shell's limit of open files (ulimit -n), which the 10 000-socket fan-out needs at 12 000. */
function openFilesLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 0;
  } catch {
    return 0;
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
