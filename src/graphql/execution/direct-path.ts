import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Metrics } from '../../observability/metrics';
import { recordOperation } from '../apollo';
import { apolloApqKey, type ApqCache } from '../apq-cache';
import type { GatewayContext } from '../context';
import { handOverToApollo, type KnownOperation, type KnownOperations } from './jit-executor';

/**
 * The direct path (GRAPHQL_DIRECT_PATH=1 with GRAPHQL_EXECUTOR=jit): a query (POSTed as JSON, or
 * a GET as urql and Apollo's `useGETForQueries` send it, or a persisted query's hash alone whose
 * text Apollo's APQ cache holds) whose text Apollo has already parsed, validated and run
 * (KnownOperations) is executed here with the same compiled operation and the same per-request
 * context, and when it answers without errors and without partial failures the answer is written
 * as Apollo would write it. Anything else (errors,
 * partial answers, a thrown error) is handed to Apollo with the outcome, so errors are formatted,
 * logged and extended by Apollo's pipeline alone, without executing twice. Apollo's pipeline cost
 * about a fifth of a screen's CPU. Assumes Apollo's answer bytes: JSON.stringify({ data }) plus a
 * newline, and for the content type the one Apollo chose for the same Accept header (learned from
 * its answers, `learn`: it depends on the method and Accept alone; test/executor.test.ts compares
 * them, also as Apollo Client 4, its persisted-query link and urql ask).
 */
export class DirectPath {
  // Method and Accept header → the content type Apollo answered a successful query with; bounded,
  // as clients choose the header. By method, as Apollo's landing page answers some GETs only.
  private readonly contentTypes = { POST: new LRUCache<string, string>({ max: 64 }), GET: new LRUCache<string, string>({ max: 64 }) };

  constructor(
    private readonly known: KnownOperations,
    private readonly metrics: Metrics,
    /** Apollo's persisted-query cache (null: APQ off), for requests that send a hash alone. */
    private readonly apq: ApqCache | null = null,
  ) {
    // No Accept, anything, or JSON: Apollo answers JSON (a GET without Accept never gets the landing page).
    for (const types of [this.contentTypes.POST, this.contentTypes.GET]) for (const accept of ['', '*/*', 'application/json']) types.set(accept, JSON_UTF8);
  }

  /** What Apollo answered a query with: its content type is what this method and Accept header get. */
  learn(req: IncomingMessage, status: number, contentType: string | undefined): void {
    if ((req.method !== 'POST' && req.method !== 'GET') || status !== 200 || !contentType || !ANSWER_TYPES.has(contentType)) return;
    const accept = req.headers.accept ?? '';
    const types = this.contentTypes[req.method];
    if (accept.length <= 256 && !types.has(accept)) types.set(accept, contentType);
  }

  /**
   * Answers the request here when it can, and then writes the response; otherwise answers the
   * context (with the outcome handed over) for Apollo, or undefined when it did not run at all.
   * `body`: a POST's parsed body; `search`: the URL's query string (a GET's request).
   */
  async answer(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    search: string,
    makeContext: () => GatewayContext,
  ): Promise<GatewayContext | undefined> {
    const method = req.method;
    const contentType = method === 'POST' || method === 'GET' ? this.contentTypes[method].get(req.headers.accept ?? '') : undefined;
    const asked = !contentType ? undefined : method === 'POST' ? postedRequest(req, body) : getRequest(req, search);
    if (!asked) return undefined;
    const direct = asked.persistedHash === undefined ? this.knownRequest(asked) : await this.persistedRequest(asked, asked.persistedHash);
    if (!direct) return undefined;
    const context = makeContext();
    const started = (context.operationStarted = process.hrtime.bigint());
    try {
      const result = await direct.operation.compiled.query(undefined, context, direct.variables);
      if (!result.errors && !result.extensions && !context.partialFailures.length) {
        recordOperation(this.metrics, direct.operation.name, 'query', false, Number(process.hrtime.bigint() - started) / 1e9);
        this.metrics.graphqlDirect.inc();
        writeAnswer(res, contentType!, { data: result.data });
        return context;
      }
      handOverToApollo(context, { result });
    } catch (error) {
      handOverToApollo(context, { error });
    }
    return context;
  }

  private knownRequest(asked: AskedRequest, query = asked.query): DirectRequest | undefined {
    const operation = query === undefined ? undefined : this.known.find(query, asked.operationName);
    return operation ? { operation, variables: asked.variables ?? {} } : undefined;
  }

  /**
   * A hash alone, as Apollo Client's persisted-query link sends it once the text is registered: the
   * text from Apollo's own cache under Apollo's own key, so a hash Apollo would not find (never
   * registered, expired, Redis away) is Apollo's to answer (PersistedQueryNotFound) here too; such a
   * miss costs a second lookup, Apollo's, once per client and text before the client registers it.
   */
  private async persistedRequest(asked: AskedRequest, hash: string): Promise<DirectRequest | undefined> {
    if (!this.apq) return undefined;
    // A lookup that fails is Apollo's to meet again (it answers as its cache lets it).
    const query = await this.apq.get(apolloApqKey(hash)).catch(() => undefined);
    return query ? this.knownRequest(asked, query) : undefined;
  }
}

type DirectRequest = { operation: KnownOperation; variables: Record<string, unknown> };

/**
 * What a request asks, read as Apollo reads it, when nothing in it is for Apollo alone to answer:
 * a string query or, with automatic persisted queries, a hash alone (`persistedHash`).
 */
interface AskedRequest {
  query: string | undefined;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | null | undefined;
  persistedHash: string | undefined;
}

/**
 * A POST Apollo would answer with plain JSON and no checks left to make: a JSON body (so no CSRF
 * concern), variables an object or absent, and no extensions but `clientLibrary` (Apollo Client 4
 * names itself there; Apollo Server reads nothing of it) and a persisted query's hash.
 */
function postedRequest(req: IncomingMessage, body: unknown): AskedRequest | undefined {
  if (!isJson(req.headers['content-type'])) return undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { query, operationName, variables, extensions } = body as Record<string, unknown>;
  return askedRequest(query, operationName, variables, extensions);
}

/**
 * The same for a GET, read from the URL as Apollo reads it (`query`, `operationName`, and
 * `variables` and `extensions` as JSON objects, each at most once), and only when Apollo's CSRF
 * prevention lets it through: a content type (on a GET Apollo takes only `application/json`) or a
 * non-empty `apollo-require-preflight` or `x-apollo-operation-name` header, the headers
 * `csrfPrevention: true` asks for. Anything else Apollo answers (or refuses) itself; the known
 * texts hold queries only, so a mutation by GET never runs here.
 */
function getRequest(req: IncomingMessage, search: string): AskedRequest | undefined {
  const type = req.headers['content-type'];
  if (type !== undefined ? !isJson(type) : !req.headers['apollo-require-preflight'] && !req.headers['x-apollo-operation-name']) return undefined;
  const params = new URLSearchParams(search);
  const query = once(params, 'query');
  const operationName = once(params, 'operationName');
  const variables = jsonOnce(params, 'variables');
  const extensions = jsonOnce(params, 'extensions');
  if (query === REFUSED || operationName === REFUSED || variables === REFUSED || extensions === REFUSED) return undefined;
  return askedRequest(query, operationName, variables, extensions);
}

/**
 * A query text, or a persisted query's hash alone (version 1, no text: a text with a hash is a
 * registration, which Apollo checks and stores). Anything else is Apollo's to answer.
 */
function askedRequest(query: unknown, operationName: unknown, variables: unknown, extensions: unknown): AskedRequest | undefined {
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  const persistedHash = persistedQueryHash(extensions);
  if (persistedHash === REFUSED) return undefined;
  if (persistedHash !== undefined ? query !== undefined : typeof query !== 'string') return undefined;
  return { query: query as string | undefined, operationName, variables: variables as Record<string, unknown> | null | undefined, persistedHash };
}

/** The hash of `extensions.persistedQuery` (absent: undefined); REFUSED for extensions the direct path leaves to Apollo. */
function persistedQueryHash(extensions: unknown): string | undefined | typeof REFUSED {
  if (extensions === undefined) return undefined;
  if (!extensions || typeof extensions !== 'object' || Array.isArray(extensions)) return REFUSED;
  let hash: string | undefined;
  for (const [key, value] of Object.entries(extensions)) {
    if (key === 'clientLibrary') continue;
    if (key !== 'persistedQuery' || !value || typeof value !== 'object') return REFUSED;
    const { version, sha256Hash } = value as { version?: unknown; sha256Hash?: unknown };
    if (version !== 1 || typeof sha256Hash !== 'string') return REFUSED;
    hash = sha256Hash;
  }
  return hash;
}

/** Something the direct path leaves to Apollo: a search parameter given twice or not a JSON object, an extension it does not read. */
const REFUSED = Symbol('refused');

function once(params: URLSearchParams, name: string): string | undefined | typeof REFUSED {
  const values = params.getAll(name);
  return values.length > 1 ? REFUSED : values[0];
}

function jsonOnce(params: URLSearchParams, name: string): Record<string, unknown> | undefined | typeof REFUSED {
  const text = once(params, name);
  if (text === undefined || text === REFUSED) return text;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : REFUSED;
  } catch {
    return REFUSED;
  }
}

function isJson(contentType: string | undefined): boolean {
  return !!contentType && contentType.split(';', 1)[0].trim().toLowerCase() === 'application/json';
}

const JSON_UTF8 = 'application/json; charset=utf-8';
/** The content types of Apollo's single answers; anything else (its landing page, a callback type) is never learned. */
const ANSWER_TYPES = new Set([JSON_UTF8, 'application/graphql-response+json; charset=utf-8']);
const NEWLINE = 0x0a;

/**
 * Writes an answer byte for byte as Apollo does (its JSON ends with a newline), encoded once into
 * a buffer of at most 3 bytes per UTF-16 unit: the text plus "\n" as one string would be copied
 * whole to flatten it, and measuring its UTF-8 length first costs a copy of its own on the heap
 * once one character (a ’ in a name) makes it a two-byte string.
 */
export function writeAnswer(res: ServerResponse, contentType: string, answer: unknown): void {
  const json = JSON.stringify(answer);
  const room = Buffer.allocUnsafe(json.length * 3 + 1);
  const length = room.write(json, 0, 'utf8');
  room[length] = NEWLINE;
  res.writeHead(200, { 'content-type': contentType, 'content-length': length + 1 });
  res.end(room.subarray(0, length + 1));
}
