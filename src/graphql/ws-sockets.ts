import type { IncomingMessage } from 'node:http';
import type { Server } from 'graphql-ws';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import type { AuthViewer } from '../auth/tokens';
import { CloseCode, SocketCloseCode } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export interface SocketState {
  viewer: AuthViewer | null;
  /** The session cookie of the upgrade request, taken only from a portal frontend's Origin. */
  cookieToken: string | null;
  ip: string | null;
  subscriptions: number;
  /** The client sent something since the last sweep: counts as use of the session. */
  active: boolean;
  /** Pinged by the heartbeat and no pong yet. */
  awaitingPong: boolean;
  /** Until when it may stay without a valid session (then 4401). */
  authDeadline: number;
  /** Which tick of the heartbeat pings it (the sockets' pings spread over the interval, not all at once). */
  slot: number;
}

/** What the server itself knows of a new socket; the binding adds the rest. */
export type NewSocketState = Omit<SocketState, 'awaitingPong' | 'authDeadline' | 'slot'>;

/** The heartbeat ticks this many times per keep-alive interval, each tick pinging one share of the sockets. */
const HEARTBEAT_SLOTS = 8;

/** What graphql-ws hands each callback about a socket: the socket and its state, not the upgrade request. */
export interface SocketExtra {
  readonly socket: WebSocket;
  readonly state: SocketState;
}

interface SocketOptions {
  keepAliveMs: number;
  authTimeoutMs: number;
  logger: Logger;
  metrics: Metrics;
  /** A new socket's state, read from its upgrade request (which is not kept). */
  stateOf(req: IncomingMessage): NewSocketState;
}

/**
 * graphql-ws's server bound to `ws` sockets, as its use/ws binding does (the same sink: protocol,
 * send, close, onMessage), without what 10 000 idle sockets should not each hold: the upgrade
 * request (use/ws keeps it as `extra.request` for the socket's life), a ping timer and a pong
 * listener per round, an auth timer. One heartbeat and one deadline check serve every socket:
 * pinged every keepAliveMs (an eighth of the sockets per eighth of the interval, so 10 000 pings
 * and pongs do not meet an event at once), dropped when the previous ping is unanswered; closed
 * with 4401 when still without a session at its deadline. `open` is the server's table of sockets and states.
 */
export function bindSockets(wss: WebSocketServer, server: Server<SocketExtra>, open: Map<WebSocket, SocketState>, options: SocketOptions) {
  const { logger, metrics } = options;
  wss.on('error', (err) => logger.error({ err }, 'WebSocket server error'));
  const onPong = function (this: WebSocket) {
    const state = open.get(this);
    if (state) state.awaitingPong = false;
  };

  // Sockets not signed in yet, for the deadline check.
  const waiting = new Set<WebSocket>();
  let slots = 0;
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const state: SocketState = Object.assign(options.stateOf(req), {
      awaitingPong: false,
      authDeadline: Date.now() + options.authTimeoutMs,
      slot: slots++ % HEARTBEAT_SLOTS,
    });
    open.set(socket, state);
    waiting.add(socket);
    metrics.wsConnections.inc();
    const failed = (err: unknown) => {
      logger.error({ err }, 'WebSocket connection failed');
      socket.close(SocketCloseCode.InternalError, 'Internal server error');
    };
    socket.once('error', failed);
    socket.on('pong', onPong);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            state.active = true;
            handle(text(data)).catch(failed);
          }),
      },
      { socket, state },
    );
    socket.once('close', (code, reason) => {
      open.delete(socket);
      waiting.delete(socket);
      metrics.wsConnections.dec();
      void closed(code, reason.toString());
    });
  });

  let tick = 0;
  const heartbeat = setInterval(() => {
    tick = (tick + 1) % HEARTBEAT_SLOTS;
    for (const [socket, state] of open) {
      if (state.slot !== tick) continue;
      if (state.awaitingPong) socket.terminate();
      else {
        state.awaitingPong = true;
        socket.ping();
      }
    }
  }, options.keepAliveMs / HEARTBEAT_SLOTS);
  const deadlines = setInterval(
    () => {
      const now = Date.now();
      // Only the sockets still without a session: 10 000 signed-in ones cost nothing here.
      for (const socket of waiting) {
        const state = open.get(socket);
        if (!state || state.viewer) waiting.delete(socket);
        else if (state.authDeadline <= now) {
          waiting.delete(socket);
          socket.close(CloseCode.Unauthorized, 'Unauthorized: no valid token in time');
        }
      }
    },
    Math.min(1000, Math.max(50, options.authTimeoutMs / 4)),
  );
  heartbeat.unref();
  deadlines.unref();
  return {
    stop(): void {
      clearInterval(heartbeat);
      clearInterval(deadlines);
    },
  };
}

function text(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString();
  return Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString();
}
