import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Metrics } from '../../observability/metrics';
import { recordOperation } from '../apollo';
import type { GatewayContext } from '../context';
import { handOverToApollo, type KnownOperation, type KnownOperations } from './jit-executor';

/**
 * The direct path (GRAPHQL_DIRECT_PATH=1 with GRAPHQL_EXECUTOR=jit): a query (POSTed as JSON, or
 * a GET as urql and Apollo's `useGETForQueries` send it) whose text Apollo has already parsed,
 * validated and run (KnownOperations) is executed here with the same
 * compiled operation and the same per-request context, and when it answers without errors and
 * without partial failures the answer is written as Apollo would write it. Anything else (errors,
 * partial answers, a thrown error) is handed to Apollo with the outcome, so errors are formatted,
 * logged and extended by Apollo's pipeline alone, without executing twice. Apollo's pipeline cost
 * about a fifth of a screen's CPU. Assumes Apollo's answer bytes: JSON.stringify({ data }) plus a
 * newline, and for the content type the one Apollo chose for the same Accept header (learned from
 * its answers, `learn`: it depends on Accept alone; test/executor.test.ts compares them, also as
 * Apollo Client 4 and urql ask).
 */
export class DirectPath {
  // Method and Accept header → the content type Apollo answered a successful query with; bounded,
  // as clients choose the header. By method, as Apollo's landing page answers some GETs only.
  private readonly contentTypes = { POST: new LRUCache<string, string>({ max: 64 }), GET: new LRUCache<string, string>({ max: 64 }) };

  constructor(
    private readonly known: KnownOperations,
    private readonly metrics: Metrics,
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
    const direct = !contentType ? undefined : method === 'POST' ? postedRequest(req, body, this.known) : getRequest(req, search, this.known);
    if (!direct) return undefined;
    const context = makeContext();
    const started = (context.operationStarted = process.hrtime.bigint());
    try {
      const result = await direct.operation.compiled.query(undefined, context, direct.variables);
      if (!result.errors && !result.extensions && !context.partialFailures.length) {
        recordOperation(this.metrics, direct.operation.name, 'query', false, Number(process.hrtime.bigint() - started) / 1e9);
        this.metrics.graphqlDirect.inc();
        // Byte for byte what Apollo writes for the same answer (its JSON ends with a newline),
        // encoded once into a buffer of at most 3 bytes per UTF-16 unit: the text plus "\n" as one
        // string would be copied whole to flatten it, and measuring its UTF-8 length first costs a
        // copy of its own on the heap once one character (a ’ in a name) makes it a two-byte string.
        const json = JSON.stringify({ data: result.data });
        const room = Buffer.allocUnsafe(json.length * 3 + 1);
        const length = room.write(json, 0, 'utf8');
        room[length] = NEWLINE;
        res.writeHead(200, { 'content-type': contentType!, 'content-length': length + 1 });
        res.end(room.subarray(0, length + 1));
        return context;
      }
      handOverToApollo(context, { result });
    } catch (error) {
      handOverToApollo(context, { error });
    }
    return context;
  }
}

type DirectRequest = { operation: KnownOperation; variables: Record<string, unknown> };

/**
 * The known operation a POST asks for, when the request is one Apollo would answer with plain
 * JSON and no checks left to make: a JSON body (so no CSRF concern), a string query Apollo has
 * accepted before under the same operation name, variables an object or absent, and no extensions
 * but `clientLibrary` (Apollo Client 4 names itself there; Apollo Server reads nothing of it).
 */
function postedRequest(req: IncomingMessage, body: unknown, known: KnownOperations): DirectRequest | undefined {
  if (!isJson(req.headers['content-type'])) return undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { query, operationName, variables, extensions } = body as Record<string, unknown>;
  return knownRequest(known, query, operationName, variables, extensions);
}

/**
 * The known operation a GET asks for, on the same terms, read from the URL as Apollo reads it
 * (`query`, `operationName`, and `variables` and `extensions` as JSON objects, each at most once),
 * and only when Apollo's CSRF prevention lets it through: a content type (on a GET Apollo takes
 * only `application/json`) or a non-empty `apollo-require-preflight` or `x-apollo-operation-name`
 * header, the headers `csrfPrevention: true` asks for. Anything else Apollo answers (or refuses)
 * itself; the known texts hold queries only, so a mutation by GET never runs here.
 */
function getRequest(req: IncomingMessage, search: string, known: KnownOperations): DirectRequest | undefined {
  const type = req.headers['content-type'];
  if (type !== undefined ? !isJson(type) : !req.headers['apollo-require-preflight'] && !req.headers['x-apollo-operation-name']) return undefined;
  const params = new URLSearchParams(search);
  const query = once(params, 'query');
  const operationName = once(params, 'operationName');
  const variables = jsonOnce(params, 'variables');
  const extensions = jsonOnce(params, 'extensions');
  if (query === REFUSED || operationName === REFUSED || variables === REFUSED || extensions === REFUSED) return undefined;
  return knownRequest(known, query, operationName, variables, extensions);
}

function knownRequest(known: KnownOperations, query: unknown, operationName: unknown, variables: unknown, extensions: unknown): DirectRequest | undefined {
  if (typeof query !== 'string' || !onlyClientLibrary(extensions)) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  const operation = known.find(query, operationName);
  return operation ? { operation, variables: (variables ?? {}) as Record<string, unknown> } : undefined;
}

/** A search parameter Apollo would refuse (given twice, or not a JSON object): Apollo answers it. */
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

function onlyClientLibrary(extensions: unknown): boolean {
  if (extensions === undefined) return true;
  if (!extensions || typeof extensions !== 'object' || Array.isArray(extensions)) return false;
  const keys = Object.keys(extensions);
  return keys.length === 0 || (keys.length === 1 && keys[0] === 'clientLibrary');
}
