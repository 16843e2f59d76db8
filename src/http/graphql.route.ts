import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { AuthViewer } from '../auth/sessions.service';
import { recordOperation } from '../graphql/apollo';
import { createContext, type GatewayContext } from '../graphql/context';
import { ErrorCode, UnauthenticatedError } from '../graphql/errors';
import { handOverToApollo, type KnownOperation, type KnownOperations } from '../graphql/jit-executor';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { bearerToken, BodyTooLargeError, clientIp, readBody, sendError } from './io';

/**
 * Apollo on plain node:http (no Express in the hot path): read the body with a size cap,
 * authenticate, build the per-request context, execute, write the answer.
 *
 * The direct path: a POSTed query whose text Apollo has already parsed, validated and run (see
 * KnownOperations) is executed here with the same compiled operation and context, and when it
 * answers without errors and without partial failures the answer is written as Apollo would
 * write it. Anything else (errors, partial answers, a thrown error) is handed to Apollo with the
 * outcome, so errors are formatted, logged and extended by Apollo's pipeline alone, without
 * executing twice. That pipeline costs about a fifth of a screen's CPU (bench/RESULTS.md).
 */
export function graphqlRoute(apollo: ApolloServer<GatewayContext>, services: Services, logger: Logger, known?: KnownOperations) {
  const { config, metrics } = services;
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> => {
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
        | { query?: unknown; extensions?: Record<string, unknown> }
        | undefined;
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
    const token = bearerToken(req);
    if (token) {
      try {
        viewer = await services.sessions.authenticate(token);
      } catch (err) {
        // "Log in again" only when the token itself is refused: a session store that cannot be read is ours to fix.
        if (!(err instanceof UnauthenticatedError)) {
          logger.error({ err, requestId }, 'the session could not be checked');
          return sendError(res, 503, ErrorCode.UPSTREAM_UNAVAILABLE, `The session cannot be checked right now (reference ${requestId}); try again shortly.`, { 'retry-after': '5' });
        }
        authError = err;
      }
    }

    const ip = clientIp(req, config.TRUST_PROXY);
    const makeContext = (): GatewayContext => {
      const ctx = createContext({ services, logger, logBindings: { requestId }, requestId, ip, viewer });
      // A token that was sent but failed says why (expired, revoked) instead of a bare "log in".
      if (authError) ctx.authError = authError;
      return ctx;
    };

    let context: GatewayContext | undefined;
    const direct = known && req.method === 'POST' ? directRequest(req, body, known) : undefined;
    if (direct) {
      context = makeContext();
      const started = (context.operationStarted = process.hrtime.bigint());
      try {
        const result = await direct.operation.compiled.query(undefined, context, direct.variables);
        if (!result.errors && !result.extensions && !context.partialFailures.length) {
          recordOperation(metrics, direct.operation.name, 'query', false, Number(process.hrtime.bigint() - started) / 1e9);
          metrics.graphqlDirect.inc();
          res.statusCode = 200;
          res.setHeader('content-type', 'application/json; charset=utf-8');
          // Byte for byte what Apollo writes for the same answer (its JSON ends with a newline).
          res.end(JSON.stringify({ data: result.data }) + '\n');
          return;
        }
        handOverToApollo(context, { result });
      } catch (error) {
        handOverToApollo(context, { error });
      }
    }

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
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };
}

/**
 * The known operation a POST asks for, when the request is one Apollo would answer with plain
 * `application/json` and no checks left to make: a JSON body (so no CSRF concern), a string query
 * Apollo has accepted before under the same operation name, variables an object or absent, no
 * extensions, and an Accept header that leaves no other media type to negotiate.
 */
function directRequest(req: IncomingMessage, body: unknown, known: KnownOperations): { operation: KnownOperation; variables: Record<string, unknown> } | undefined {
  const type = req.headers['content-type'];
  if (!type || type.split(';', 1)[0]!.trim().toLowerCase() !== 'application/json') return undefined;
  const accept = req.headers.accept;
  if (accept !== undefined && accept !== '*/*' && accept !== 'application/json') return undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { query, operationName, variables, extensions } = body as Record<string, unknown>;
  if (typeof query !== 'string' || extensions !== undefined) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  const operation = known.find(query, operationName);
  return operation ? { operation, variables: (variables ?? {}) as Record<string, unknown> } : undefined;
}

function parseJson(text: string | null): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
