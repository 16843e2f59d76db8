import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { AuthViewer } from '../auth/tokens';
import { createContext, type GatewayContext } from '../graphql/context';
import { ErrorCode, UnauthenticatedError } from '../errors';
import type { DirectPath } from '../graphql/execution/direct-path';
import type { Logger } from '../observability/logger';
import { endSpan, operationSpan } from '../observability/tracing';
import type { Services } from '../services';
import { bearerToken, BodyTooLargeError, clientIp, readBody, sendError } from './io';

/**
 * Apollo on plain node:http (no Express in the hot path): read the body with a size cap,
 * authenticate, build the per-request context, execute, write the answer. A query Apollo has
 * accepted before may take the direct path first (src/graphql/execution/direct-path.ts).
 */
export function graphqlRoute(apollo: ApolloServer<GatewayContext>, services: Services, logger: Logger, direct?: DirectPath) {
  const { config } = services;
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> => {
    // The start of the event its access-log lines name (NEN 7513).
    const startedAt = Date.now();
    let body: unknown = undefined;
    if (req.method === 'POST') {
      try {
        const raw = await readBody(req, config.GRAPHQL_MAX_BODY_BYTES);
        const type = req.headers['content-type'] ?? '';
        if (raw.length && type.includes('application/json')) body = JSON.parse(raw.toString('utf8'));
        else body = raw.toString('utf8');
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          return sendError(res, 413, ErrorCode.BAD_USER_INPUT, `The query document is too large (limit ${err.limit} bytes).`);
        }
        return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'The request body is not valid JSON.');
      }
    }

    // Trusted documents: only listed operations run; a hash alone is swapped for its query.
    const trusted = services.trustedDocuments;
    let search = url.search;
    if (trusted) {
      const fromUrl = req.method !== 'POST';
      const payload = (fromUrl ? { query: url.searchParams.get('query') ?? undefined, extensions: parseJson(url.searchParams.get('extensions')) } : body) as
        { query?: unknown; extensions?: Record<string, unknown> } | undefined;
      const query = payload && typeof payload === 'object' ? trusted.resolve(payload.query, payload.extensions) : null;
      if (!query) return sendError(res, 400, ErrorCode.FORBIDDEN, 'This operation is not one of the trusted documents of this gateway.');
      const { persistedQuery: _ignored, ...extensions } = payload!.extensions ?? {};
      if (fromUrl) {
        const params = new URLSearchParams(url.search);
        params.set('query', query);
        params.delete('extensions');
        search = `?${params.toString()}`;
      } else {
        body = { ...payload, query, extensions };
      }
    }

    let viewer: AuthViewer | null = null;
    let authError: UnauthenticatedError | null = null;
    const token = bearerToken(req, services.cookies);
    if (token) {
      try {
        viewer = await services.sessions.authenticate(token);
      } catch (err) {
        // "Log in again" only when the token itself is refused: a session store that cannot be read is ours to fix.
        if (!(err instanceof UnauthenticatedError)) {
          logger.error({ err, requestId }, 'the session could not be checked');
          return sendError(res, 503, ErrorCode.UPSTREAM_UNAVAILABLE, `The session cannot be checked right now (reference ${requestId}); try again shortly.`, {
            'retry-after': '5',
          });
        }
        authError = err;
      }
    }

    const ip = clientIp(req, config.TRUST_PROXY);
    // The operation's span, under the caller's traceparent; adapter calls and access-log writes are its children.
    const { span, trace } = operationSpan(req.headers, () => {
      const operationName = (body as { operationName?: unknown } | undefined)?.operationName;
      return { 'ggz.request_id': requestId, ...(typeof operationName === 'string' ? { 'graphql.operation.name': operationName.slice(0, 100) } : {}) };
    });
    if (trace) res.once('finish', () => endSpan(span, res.statusCode >= 500 ? new Error(`HTTP ${res.statusCode}`) : undefined));
    const makeContext = (): GatewayContext => {
      const ctx = createContext({ services, logger, logBindings: { requestId }, requestId, ip, viewer, trace, startedAt });
      // A token that was sent but failed says why (expired, revoked) instead of a bare "log in".
      if (authError) ctx.authError = authError;
      return ctx;
    };

    // A query Apollo accepted before runs here when its answer is error-free; anything else goes on to Apollo with the outcome.
    const context = direct ? await direct.answer(req, res, body, search, makeContext) : undefined;
    if (res.writableEnded) return;

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: async () => context ?? makeContext(),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    direct?.learn(req, res.statusCode, response.headers.get('content-type'));
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };
}

function parseJson(text: string | null): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
