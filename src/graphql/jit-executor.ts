import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, printSchema, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GatewayContext } from './context';

type Gateway = ApolloServerOptionsWithGateway<GatewayContext>['gateway'];
type Compiled = Pick<CompiledQuery, 'query'>;

/**
 * Compiled operations, one per document and operation name. Apollo's document store hands the
 * same parsed document for the same query text, so a document is compiled once and then runs as
 * plain JavaScript (graphql-jit) instead of graphql-js walking the tree for every field: an
 * appointment list is about 1 500 fields. Bounded; the oldest entry goes first.
 */
export class CompiledOperations {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, Compiled>>();
  private readonly order: { document: DocumentNode; name: string }[] = [];

  constructor(
    private readonly schema: GraphQLSchema,
    /** false: every operation runs in graphql-js (GRAPHQL_EXECUTOR=graphql-js). */
    private readonly compile = true,
    private readonly max = 1000,
  ) {}

  get(document: DocumentNode, operationName: string | null | undefined): Compiled {
    const name = operationName ?? '';
    let perDocument = this.byDocument.get(document);
    const hit = perDocument?.get(name);
    if (hit) return hit;
    const compiled = this.compile ? compileQuery(this.schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true }) : null;
    // What the compiler cannot take (it answers errors instead of a function) runs in graphql-js.
    const entry: Compiled = compiled && isCompiledQuery(compiled)
      ? compiled
      : { query: (root, context, variables) => execute({ schema: this.schema, document, rootValue: root, contextValue: context, variableValues: variables, operationName }) };
    if (!perDocument) this.byDocument.set(document, (perDocument = new Map()));
    perDocument.set(name, entry);
    this.order.push({ document, name });
    if (this.order.length > this.max) {
      const old = this.order.shift()!;
      this.byDocument.get(old.document)?.delete(old.name);
    }
    return entry;
  }
}

/**
 * Apollo Server's one hook for its execution step is the gateway interface: Apollo still parses,
 * validates (with the query limits), runs the plugins and formats errors; only `execute` is ours.
 */
export function jitGateway(schema: GraphQLSchema): Gateway {
  const operations = new CompiledOperations(schema);
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async load() {
      return {
        executor: async (request): Promise<ExecutionResult> => {
          const compiled = operations.get(request.document, request.operationName ?? request.request.operationName);
          return compiled.query(undefined, request.context, request.request.variables ?? {});
        },
      };
    },
    async stop() {},
  };
}
