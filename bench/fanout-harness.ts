import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { readStamp, wallMs, type HarnessCommand, type HarnessConnect, type HarnessReply } from './fanout.types';

/**
 * The client side of the fan-out run, in its own process so it never shares an event loop with
 * the instances: `gateway` mode holds one graphql-ws client per socket, each authenticated with its
 * own token and subscribed to videoCallStatusChanged; `raw` mode holds bare `ws` sockets. It counts
 * per event the sockets it reached (the sequence number is in the join link), each socket once, and
 * answers when all have it; a second copy of an event on one socket is counted apart as a duplicate.
 */
export const FANOUT_SUBSCRIPTION = 'subscription Fanout($id: ID!) { videoCallStatusChanged(clientId: $id) { ready joinUrl readySince } }';

interface Arrivals {
  /** Sockets that got the event (each once). */
  count: number;
  /** Copies beyond the first on one socket. */
  duplicates: number;
  first: number;
  last: number;
}

const arrivals = new Map<number, Arrivals>();
const waiting = new Map<number, NodeJS.Timeout>();
const closers: (() => void)[] = [];
// Per socket, the last event it got: events are sent one at a time, so an older or equal one is a copy.
const lastSeen: number[] = [];
let total = 0;
let errors = 0;

function reply(msg: HarnessReply): void {
  process.send!(msg);
}

function answer(seq: number): void {
  const timer = waiting.get(seq);
  if (timer) clearTimeout(timer);
  waiting.delete(seq);
  const a = arrivals.get(seq) ?? { count: 0, duplicates: 0, first: 0, last: 0 };
  reply({ type: 'delivered', seq, count: a.count, duplicates: a.duplicates, first: a.first, last: a.last });
}

function arrived(socket: number, joinUrl: string | null | undefined): void {
  const now = wallMs();
  const seq = joinUrl ? readStamp(joinUrl) : null;
  if (seq === null) return;
  let a = arrivals.get(seq);
  if (!a) arrivals.set(seq, (a = { count: 0, duplicates: 0, first: now, last: now }));
  if ((lastSeen[socket] ?? 0) >= seq) {
    a.duplicates++;
    return;
  }
  lastSeen[socket] = seq;
  a.count++;
  a.last = now;
  if (a.count === total && waiting.has(seq)) answer(seq);
}

interface VideoEvent {
  videoCallStatusChanged?: { joinUrl?: string | null };
}

function gatewaySocket(socket: number, url: string, token: string, clientId: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const client: Client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      on: {
        connected: () => resolve(true),
        closed: () => resolve(false),
        error: () => resolve(false),
      },
    });
    client.subscribe<VideoEvent>(
      { query: FANOUT_SUBSCRIPTION, variables: { id: clientId } },
      {
        next: (msg) => {
          if (msg.errors && errors++ === 0) console.error('fan-out harness: first subscription error', JSON.stringify(msg.errors));
          arrived(socket, msg.data?.videoCallStatusChanged?.joinUrl);
        },
        error: (err) => {
          if (errors++ === 0) console.error('fan-out harness: first subscription error', err instanceof Error ? err.message : JSON.stringify(err));
        },
        complete: () => undefined,
      },
    );
    closers.push(() => void client.dispose());
  });
}

function rawSocket(socket: number, url: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    ws.once('open', () => ws.send('{"type":"connection_init"}'));
    ws.once('error', () => resolve(false));
    ws.once('close', () => resolve(false));
    ws.on('message', (data: Buffer) => {
      // The same work per message as the graphql-ws client: parse the frame, read the payload.
      const msg = JSON.parse(data.toString()) as { type: string; payload?: { data?: VideoEvent } };
      if (msg.type === 'connection_ack') resolve(true);
      else if (msg.type === 'next') arrived(socket, msg.payload?.data?.videoCallStatusChanged?.joinUrl);
    });
    closers.push(() => ws.terminate());
  });
}

async function connect(cmd: HarnessConnect, count: number): Promise<void> {
  const started = Date.now();
  let failed = 0;
  // In waves, so the instances are not hit by thousands of handshakes at once.
  const wave = 200;
  for (let i = 0; i < count; i += wave) {
    const batch = Array.from({ length: Math.min(wave, count - i) }, (_, k) => {
      const n = i + k;
      const url = cmd.urls[n % cmd.urls.length];
      // The protocol baseline's sockets are graphql-ws clients as the gateway's (it ignores the token).
      return cmd.mode === 'raw' ? rawSocket(n, url) : gatewaySocket(n, url, cmd.tokens[n] ?? '', cmd.clientId);
    });
    failed += (await Promise.all(batch)).filter((ok) => !ok).length;
  }
  total = count - failed;
  reply({ type: 'connected', sockets: total, failed, ms: Date.now() - started });
}

process.on('message', (cmd: HarnessCommand) => {
  if (cmd.type === 'connect') {
    void connect(cmd, cmd.sockets);
  } else if (cmd.type === 'expect') {
    const a = arrivals.get(cmd.seq);
    if (a && a.count >= total) answer(cmd.seq);
    else
      waiting.set(
        cmd.seq,
        setTimeout(() => answer(cmd.seq), Number(process.env.FANOUT_EVENT_TIMEOUT_MS ?? 15000)),
      );
  } else if (cmd.type === 'close') {
    for (const close of closers) close();
    if (errors) console.error(`fan-out harness: ${errors} subscription errors`);
    reply({ type: 'closed' });
  }
});
