import type { Client as WsClient } from 'graphql-ws';

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
        if (data?.[field]) r.events.push(data[field] as T);
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
