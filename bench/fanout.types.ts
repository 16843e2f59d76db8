/** The IPC messages between bench/fanout.ts and its children (instances and client harnesses). */

/**
 * `raw`: a bare ws broadcast of one frame to every socket, read by bare ws clients; `raw-protocol`:
 * a bare ws server speaking graphql-transport-ws just enough (the ack, each socket's subscription
 * id in its `next` frame), read by graphql-ws clients as the gateway's sockets are.
 */
export type FanoutMode = 'gateway' | 'raw' | 'raw-protocol';

export interface FanoutServerSpec {
  mode: FanoutMode;
  redisUrl: string;
  redisPrefix: string;
  /** The build the gateway is loaded from (its `dist` directory). */
  appDist: string;
  databaseUrl?: string;
  sessionSecret?: string;
  syncSecret?: string;
  /** The first gateway instance migrates and creates this many linked accounts with a session each. */
  setupAccounts?: number;
}

export type FanoutServerCommand = { type: 'stats'; gc?: boolean } | { type: 'reset-eld' } | { type: 'heap-snapshot'; path: string } | { type: 'stop' };

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export type FanoutServerReply =
  | { type: 'ready'; base: string }
  | { type: 'setup'; clientId: string; tokens: string[] }
  | { type: 'stats'; rss: number; heapUsed: number; cpuMs: number; eld: LoopDelay }
  | { type: 'ok' };

export interface HarnessConnect {
  type: 'connect';
  mode: FanoutMode;
  /** Socket i connects to urls[i % urls.length]. */
  urls: string[];
  sockets: number;
  /** One per socket (gateway mode): every subscriber authenticates as its own viewer. */
  tokens: string[];
  clientId: string;
}

export type HarnessCommand = HarnessConnect | { type: 'expect'; seq: number } | { type: 'close' };

export type HarnessReply =
  | { type: 'connected'; sockets: number; failed: number; ms: number }
  /** Every socket got event `seq` (or the wait timed out): how many did, and the last arrival (wall-clock ms). */
  | { type: 'delivered'; seq: number; count: number; duplicates: number; first: number; last: number }
  | { type: 'closed' };

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** The event's join link carries its sequence number and the moment the trigger was sent. */
export const stampUrl = (seq: number, sentAt: number): string => `https://video.test/room?s=${seq}&t=${sentAt.toFixed(3)}`;
export const readStamp = (url: string): number | null => {
  const m = /[?&]s=(\d+)/.exec(url);
  return m ? Number(m[1]) : null;
};
