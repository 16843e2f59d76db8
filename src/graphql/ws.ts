import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  type DocumentNode,
  GraphQLError,
  OperationTypeNode,
  type GraphQLSchema,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type ValidationRule,
} from 'graphql';
import { handleProtocols, makeServer } from 'graphql-ws';
import { bindSockets, type SocketExtra, type SocketState } from './ws-sockets';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { clientIp } from '../http/io';
import { createContext, type GatewayContext } from './context';
import { CompiledOperations } from './execution/jit-executor';
import { liveSubscribe, socketSink } from './execution/live-execution';
import { sharedPortalProfile } from './gate-readers';
import { CloseCode, ErrorCode, formatGatewayError, SocketCloseCode, isExpectedError, UnauthenticatedError, withoutSuggestions } from '../errors';

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the same path as HTTP. The token comes in
 * connection_init, or from a browser as the session cookie of the upgrade request when its Origin
 * is a portal frontend (never from another page: a cross-site WebSocket carries the cookie too);
 * a socket without a valid session within WS_AUTH_TIMEOUT_MS is closed with 4401.
 * Operations pass the same parse limits and validation rules as HTTP; only subscriptions are
 * served here (queries and mutations go over HTTP, through the one pipeline).
 */
export function createWebSocketServer(schema: GraphQLSchema, services: Services, logger: Logger, rules: ValidationRule[], maxTokens: number) {
  const { config } = services;
  const settings = config.ws;
  // Each open socket and its state on this server (who it authenticated as, its subscriptions).
  const open = new Map<WebSocket, SocketState>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxPayloadBytes, handleProtocols });
  const compile = documentCompiler(schema, [...specifiedRules, ...rules], maxTokens, config.isProduction);

  const server = makeServer<Record<string, unknown> | undefined, SocketExtra>({
    schema,
    // Each event rendered by the operation's compiled form, shared by subscribers holding the same value.
    subscribe: liveSubscribe(new CompiledOperations(schema, config.GRAPHQL_EXECUTOR === 'jit')),
    // The auth deadline (ws-sockets.ts) closes a socket without a session (4401) before graphql-ws's own wait would.
    connectionInitWaitTimeout: Infinity,
    onConnect: async (ctx) => {
      const { socket, state } = ctx.extra;
      const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
      const token = typeof raw === 'string' && raw.startsWith('Bearer ') ? raw.slice(7).trim() : state.cookieToken;
      if (!token) {
        socket.close(CloseCode.Unauthorized, 'Unauthorized');
        return false;
      }
      try {
        state.viewer = await services.sessions.authenticate(token);
        return true;
      } catch (err) {
        // A token refused is 4401; a session store that cannot be read is ours (1011: the client tries again).
        if (err instanceof UnauthenticatedError) socket.close(CloseCode.Unauthorized, 'Unauthorized');
        else {
          logger.error({ err }, 'the session of a socket could not be checked');
          socket.close(SocketCloseCode.InternalError, 'Try again');
        }
        return false;
      }
    },
    onSubscribe: (ctx, id, payload) => {
      const { socket, state } = ctx.extra;
      const query = services.trustedDocuments ? services.trustedDocuments.resolve(payload.query, payload.extensions) : payload.query;
      if (!query)
        return [new GraphQLError('This operation is not one of the trusted documents of this gateway.', { extensions: { code: ErrorCode.FORBIDDEN } })];
      const compiled = compile(query);
      if (!('kind' in compiled)) return compiled;
      const operation = getOperationAST(compiled, payload.operationName);
      if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) {
        return [
          new GraphQLError('Only subscriptions are served over WebSocket; send queries and mutations over HTTP.', {
            extensions: { code: ErrorCode.BAD_USER_INPUT },
          }),
        ];
      }
      if (state.subscriptions >= settings.maxSubscriptions) {
        return [new GraphQLError(`At most ${settings.maxSubscriptions} subscriptions per connection.`, { extensions: { code: ErrorCode.RATE_LIMITED } })];
      }
      state.subscriptions++;
      const requestId = randomUUID();
      // randomUUID builds its text by concatenation, a rope of about twenty parts (~490 B) the
      // subscription holds for its life; reading a character makes V8 flatten it (~55 B).
      requestId.charCodeAt(0);
      const contextValue = createContext({
        services,
        logger,
        logBindings: { requestId, subscription: id },
        requestId,
        ip: state.ip,
        viewer: state.viewer,
        // The subscribe-time check reads the client's record once per tick for all sockets, and keeps no EHR reader per socket.
        profile: sharedPortalProfile(services, logger),
      });
      // The socket's sink for this subscription: its live room writes error-free events straight to it (live-execution.ts).
      contextValue.liveSink = socketSink(socket, id);
      return { schema, document: compiled, operationName: payload.operationName, variableValues: payload.variables ?? undefined, contextValue };
    },
    // The same error mapping as HTTP: contract codes only, no internals; unexpected errors logged with the request id.
    onNext: (_ctx, _id, _payload, args, result) => {
      if (!result.errors?.length) return;
      const context = args.contextValue as GatewayContext;
      for (const error of result.errors) {
        if (!isExpectedError(error)) context.logger.error({ err: error.originalError ?? error }, 'subscription failed');
      }
      return {
        ...result,
        errors: result.errors.map((error) => formatGatewayError(error.toJSON(), error, { requestId: context.requestId, hideSuggestions: config.isProduction })),
      };
    },
    onComplete: (ctx) => {
      const { state } = ctx.extra;
      state.subscriptions = Math.max(0, state.subscriptions - 1);
    },
  });

  const sockets = bindSockets(wss, server, open, {
    keepAliveMs: settings.keepAliveMs,
    authTimeoutMs: settings.authTimeoutMs,
    logger,
    metrics: services.metrics,
    stateOf: (req) => ({
      viewer: null,
      cookieToken: services.origins.isFrontend(req.headers.origin) ? services.cookies.session(req) : null,
      ip: clientIp(req, config.TRUST_PROXY),
      subscriptions: 0,
      active: false,
    }),
  });
  const sweep = sessionSweep(open, services, logger);

  return {
    wss,
    /** Accepts an upgrade on /graphql when the Origin is allowed (BrowserOrigins.allowsSocket). */
    handleUpgrade(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
      if (!services.origins.allowsSocket(req.headers.origin)) {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nOrigin not allowed\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    async close(): Promise<void> {
      clearInterval(sweep);
      sockets.stop();
      for (const socket of wss.clients) socket.close(SocketCloseCode.GoingAway, 'Server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Parses and validates a subscription's document as HTTP does (the same rules, the same token
 * cap, refusals as BAD_USER_INPUT), remembering the last thousand texts.
 */
function documentCompiler(schema: GraphQLSchema, rules: readonly ValidationRule[], maxTokens: number, hideSuggestions: boolean) {
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();

  return (query: string): DocumentNode | readonly GraphQLError[] => {
    const cached = documents.get(query);
    if (cached) return cached;
    let result: DocumentNode | readonly GraphQLError[];
    try {
      const doc = parse(query, { maxTokens });
      const errors = validate(schema, doc, rules);
      result = errors.length ? errors.map((e) => asBadInput(e, hideSuggestions)) : doc;
    } catch (err) {
      result = [asBadInput(err as GraphQLError, hideSuggestions)];
    }
    if (documents.size >= 1000) documents.delete(documents.keys().next().value!);
    documents.set(query, result);
    return result;
  };
}

/**
 * A socket lives as long as its session may: within WS_SESSION_CHECK_MS of the session ending
 * (logout, revocation, its maximum length, or idle time without any use), its sockets are closed
 * with 4401. What a client sent on a socket counts as use. One query per sweep for all sessions.
 */
function sessionSweep(open: ReadonlyMap<WebSocket, SocketState>, services: Services, logger: Logger): NodeJS.Timeout {
  const sweep = setInterval(() => {
    const bySession = new Map<string, WebSocket[]>();
    const used = new Set<string>();
    for (const [socket, state] of open) {
      const viewer = state.viewer;
      if (!viewer) continue;
      bySession.set(viewer.sessionId, [...(bySession.get(viewer.sessionId) ?? []), socket]);
      if (state.active) used.add(viewer.sessionId);
      state.active = false;
    }
    void (async () => {
      if (used.size) await services.sessions.touch([...used]);
      await Promise.all(
        [...bySession].map(async ([sessionId, sockets]) => {
          if (!(await services.sessions.mayContinue(sessionId, used.has(sessionId))))
            for (const socket of sockets) socket.close(CloseCode.Unauthorized, 'Session ended');
        }),
      );
    })().catch((err) => logger.warn({ err }, 'session check for open sockets failed'));
  }, services.config.ws.sessionCheckMs);
  sweep.unref();
  return sweep;
}

/** A refused document as HTTP answers it: BAD_USER_INPUT, and in production no "Did you mean …?" hints. */
function asBadInput(error: GraphQLError, hideSuggestions: boolean): GraphQLError {
  return new GraphQLError(hideSuggestions ? withoutSuggestions(error.message) : error.message, {
    nodes: error.nodes,
    extensions: { code: ErrorCode.BAD_USER_INPUT },
  });
}
