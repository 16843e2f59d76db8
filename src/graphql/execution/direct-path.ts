import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * newline, content-type application/json; charset=utf-8 (test/executor.test.ts compares them).
 */
export class DirectPath {
  constructor(
    private readonly known: KnownOperations,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Answers the request here when it can, and then writes the response; otherwise answers the
   * context (with the outcome handed over) for Apollo, or undefined when it did not run at all.
   */
  async answer(req: IncomingMessage, res: ServerResponse, body: unknown, makeContext: () => GatewayContext): Promise<GatewayContext | undefined> {
    const direct = req.method === 'POST' ? directRequest(req, body, this.known) : undefined;
    if (!direct) return undefined;
    const context = makeContext();
    const started = (context.operationStarted = process.hrtime.bigint());
    try {
      const result = await direct.operation.compiled.query(undefined, context, direct.variables);
      if (!result.errors && !result.extensions && !context.partialFailures.length) {
        recordOperation(this.metrics, direct.operation.name, 'query', false, Number(process.hrtime.bigint() - started) / 1e9);
        this.metrics.graphqlDirect.inc();
        res.statusCode = 200;
        res.setHeader('content-type', 'application/json; charset=utf-8');
        // Byte for byte what Apollo writes for the same answer (its JSON ends with a newline).
        res.end(JSON.stringify({ data: result.data }) + '\n');
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
 * `application/json` and no checks left to make: a JSON body (so no CSRF concern), a string query
 * Apollo has accepted before under the same operation name, variables an object or absent, no
 * extensions, and an Accept header that leaves no other media type to negotiate.
 */
function directRequest(
  req: IncomingMessage,
  body: unknown,
  known: KnownOperations,
): { operation: KnownOperation; variables: Record<string, unknown> } | undefined {
  const type = req.headers['content-type'];
  if (!type || type.split(';', 1)[0].trim().toLowerCase() !== 'application/json') return undefined;
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
