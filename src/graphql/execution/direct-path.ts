import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Metrics } from '../../observability/metrics';
import { recordOperation } from '../apollo';
import type { GatewayContext } from '../context';
import { handOverToApollo, type KnownOperation, type KnownOperations } from './jit-executor';

/**
 * The direct path (GRAPHQL_DIRECT_PATH=1 with GRAPHQL_EXECUTOR=jit): a POSTed query whose text
 * Apollo has already parsed, validated and run (KnownOperations) is executed here with the same
 * compiled operation and the same per-request context, and when it answers without errors and
 * without partial failures the answer is written as Apollo would write it. Anything else (errors,
 * partial answers, a thrown error) is handed to Apollo with the outcome, so errors are formatted,
 * logged and extended by Apollo's pipeline alone, without executing twice. Apollo's pipeline cost
 * about a fifth of a screen's CPU. Assumes Apollo's answer bytes: JSON.stringify({ data }) plus a
 * newline, and for the content type the one Apollo chose for the same Accept header (learned from
 * its answers, `learn`: it depends on Accept alone; test/executor.test.ts compares them, also as
 * Apollo Client 4 asks).
 */
export class DirectPath {
  // Accept header → the content type Apollo answered a successful query with; bounded, as clients choose the header.
  private readonly contentTypes = new LRUCache<string, string>({ max: 64 });

  constructor(
    private readonly known: KnownOperations,
    private readonly metrics: Metrics,
  ) {
    for (const accept of ['', '*/*', 'application/json']) this.contentTypes.set(accept, JSON_UTF8);
  }

  /** What Apollo answered a POSTed query with: its content type is what this Accept header gets. */
  learn(req: IncomingMessage, status: number, contentType: string | undefined): void {
    if (req.method !== 'POST' || status !== 200 || !contentType) return;
    const accept = req.headers.accept ?? '';
    if (accept.length <= 256 && !this.contentTypes.has(accept)) this.contentTypes.set(accept, contentType);
  }

  /**
   * Answers the request here when it can, and then writes the response; otherwise answers the
   * context (with the outcome handed over) for Apollo, or undefined when it did not run at all.
   */
  async answer(req: IncomingMessage, res: ServerResponse, body: unknown, makeContext: () => GatewayContext): Promise<GatewayContext | undefined> {
    const contentType = this.contentTypes.get(req.headers.accept ?? '');
    const direct = req.method === 'POST' && contentType ? directRequest(req, body, this.known) : undefined;
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

/**
 * The known operation a POST asks for, when the request is one Apollo would answer with plain
 * JSON and no checks left to make: a JSON body (so no CSRF concern), a string query Apollo has
 * accepted before under the same operation name, variables an object or absent, and no extensions
 * but `clientLibrary` (Apollo Client 4 names itself there; Apollo Server reads nothing of it).
 */
function directRequest(
  req: IncomingMessage,
  body: unknown,
  known: KnownOperations,
): { operation: KnownOperation; variables: Record<string, unknown> } | undefined {
  const type = req.headers['content-type'];
  if (!type || type.split(';', 1)[0].trim().toLowerCase() !== 'application/json') return undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { query, operationName, variables, extensions } = body as Record<string, unknown>;
  if (typeof query !== 'string' || !onlyClientLibrary(extensions)) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  const operation = known.find(query, operationName);
  return operation ? { operation, variables: (variables ?? {}) as Record<string, unknown> } : undefined;
}

const JSON_UTF8 = 'application/json; charset=utf-8';
const NEWLINE = 0x0a;

function onlyClientLibrary(extensions: unknown): boolean {
  if (extensions === undefined) return true;
  if (!extensions || typeof extensions !== 'object' || Array.isArray(extensions)) return false;
  const keys = Object.keys(extensions);
  return keys.length === 0 || (keys.length === 1 && keys[0] === 'clientLibrary');
}
