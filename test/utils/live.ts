import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Redis } from 'ioredis';
import { signSyncBody } from '../../src/events/sync.signature';

/** A graphql-ws client of the gateway at `base` (http://…), authenticated with the token in connection_init, no reconnects. */
export function socketClient(base: string, token: string): WsClient {
  return createClient({
    url: `${base.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

/** What one graphql-ws subscription received, as a browser would hold it. */
export interface Received<T> {
  events: T[];
  errors: { message: string; extensions?: { code?: string } }[];
  completed: boolean;
  /** Resolves with the n-th event (1-based), or rejects after the timeout. */
  nth(n: number, timeoutMs?: number): Promise<T>;
  done(timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** Subscribes and collects the `field` of every event, every error and the completion. */
export function subscribeTo<T>(client: WsClient, query: string, variables: Record<string, unknown>, field: string): Received<T> {
  const r: Received<T> = {
    events: [],
    errors: [],
    completed: false,
    nth: (n, timeoutMs = 2000) => until(() => r.events[n - 1], timeoutMs, `event #${n}`),
    done: async (timeoutMs = 2000) => void (await until(() => (r.completed ? true : undefined), timeoutMs, 'completion')),
    stop: () => undefined,
  };
  r.stop = client.subscribe(
    { query, variables },
    {
      next: (msg) => {
        if (msg.errors) r.errors.push(...(msg.errors as Received<T>['errors']));
        const data = msg.data as Record<string, T | undefined> | null | undefined;
        if (data?.[field]) r.events.push(data[field]);
      },
      error: (err) => r.errors.push({ message: String((err as Error).message ?? err) }),
      complete: () => {
        r.completed = true;
      },
    },
  );
  return r;
}

/** Polls until the probe answers something, or fails naming what it waited for. */
export async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** POSTs a practitioner system's event to /sync/events, signed as ../shared/contract/http.md says. */
export async function postSignedSync(base: string, secret: string, event: Record<string, unknown>): Promise<Response> {
  const raw = JSON.stringify(event);
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${base}/sync/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature-timestamp': String(ts), 'x-signature': signSyncBody(secret, ts, raw) },
    body: raw,
  });
}

/**
 * Waits until Redis counts at least `atLeast` subscribers on a (prefixed) channel, so a socket's
 * subscription is in place before an event is sent; a short settle follows, for the operation behind it.
 */
export async function redisSubscribers(admin: Redis, channel: string, atLeast: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [, n] = (await admin.pubsub('NUMSUB', channel)) as [string, number];
    if (Number(n) >= atLeast) return void (await new Promise((resolve) => setTimeout(resolve, 50)));
    if (Date.now() > deadline) throw new Error(`no Redis subscriber on ${channel}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
