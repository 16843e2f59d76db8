import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  execute,
  getOperationAST,
  GraphQLEnumType,
  GraphQLError,
  OperationTypeNode,
  printSchema,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import type { GatewayContext } from '../context';

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
  private readonly options: Parameters<typeof compileQuery>[3];

  constructor(
    private readonly schema: GraphQLSchema,
    /** false: every operation runs in graphql-js (GRAPHQL_EXECUTOR=graphql-js). */
    private readonly compile = true,
    private readonly max = 1000,
  ) {
    // String, ID, Boolean, Int, Float and enum values are served as the resolvers give them,
    // without graphql-jit's serializer call per leaf (four arrays and two spread calls each, about
    // 8 % of the CPU of a 100-appointment screen, measured against the build without this option). graphql-js's serializers turn
    // a value of the right type into itself, so this changes no answer as long as the resolvers
    // give values of the declared types, which the TypeScript types of the ports and the executor
    // test (the same answers as graphql-js, on SQLite and MariaDB) hold them to; and an enum whose
    // internal values are not its names still needs its serializer, so then all leaves keep theirs.
    // Custom scalars (DateTime, Date) always keep their serializers.
    this.options = { disablingCapturingStackErrors: true, disableLeafSerialization: enumsServeTheirNames(schema) };
  }

  get(document: DocumentNode, operationName: string | null | undefined): Compiled {
    const name = operationName ?? '';
    let perDocument = this.byDocument.get(document);
    const hit = perDocument?.get(name);
    if (hit) return hit;
    const compiled = this.compile ? compileQuery(this.schema, document, operationName ?? undefined, this.options) : null;
    // What the compiler cannot take (it answers errors instead of a function) runs in graphql-js.
    const entry: Compiled =
      compiled && isCompiledQuery(compiled)
        ? withGraphqlJsVariableErrors(this.schema, document, operationName, compiled)
        : {
            query: (root, context, variables) =>
              execute({ schema: this.schema, document, rootValue: root, contextValue: context, variableValues: variables, operationName }),
          };
    if (!perDocument) this.byDocument.set(document, (perDocument = new Map<string, Compiled>()));
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
 * graphql-jit refuses missing, null or ill-typed variables with errors of its own (other messages,
 * no `extensions`, read-only fields) before it executes anything. Such an answer is replaced by
 * graphql-js's own variable errors, which Apollo and graphql-ws know as BAD_USER_INPUT; the run
 * itself is untouched (an answer with data, or without errors, is returned as it is).
 */
function withGraphqlJsVariableErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  compiled: CompiledQuery,
): Compiled {
  const operation = getOperationAST(document, operationName);
  const refused = (result: ExecutionResult, variables: Record<string, unknown> | null | undefined): ExecutionResult => {
    if (!result.errors || result.data !== undefined || !operation) return result;
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
    return coerced.errors ? { errors: coerced.errors } : result;
  };
  return {
    query: (root, context, variables) => {
      const result = compiled.query(root, context, variables);
      return isPromise(result) ? result.then((r) => refused(r, variables)) : refused(result, variables);
    },
  };
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}

/** Whether every enum of the schema has its names as its internal values (serializing one is then the identity). */
export function enumsServeTheirNames(schema: GraphQLSchema): boolean {
  return Object.values(schema.getTypeMap()).every((type) => !(type instanceof GraphQLEnumType) || type.getValues().every((v) => v.value === v.name));
}

/** A query Apollo has parsed, validated (with the query limits) and run once. */
export interface KnownOperation {
  compiled: Compiled;
  /** The operation's metrics label (its name when known, see OperationLabels), worked out once. */
  name: string;
}

/**
 * Query texts Apollo has accepted, by text and requested operation name, for the direct path in
 * the GraphQL route. Validation depends only on the schema and the document, never on who asks,
 * so a text that passed once passes again; only queries are kept (no mutations, no subscriptions).
 * Bounded by the total length of the texts kept; the least recently used go first.
 */
export class KnownOperations {
  private readonly byQuery: LRUCache<string, Map<string | null, KnownOperation>>;

  constructor(maxQueryChars = 4 * 1024 * 1024) {
    this.byQuery = new LRUCache({ maxSize: maxQueryChars, sizeCalculation: (_ops, query) => query.length + 1 });
  }

  remember(query: string, operationName: string | null | undefined, operation: KnownOperation): void {
    let perName = this.byQuery.get(query);
    if (!perName) this.byQuery.set(query, (perName = new Map()));
    perName.set(operationName ?? null, operation);
  }

  find(query: string, operationName: string | null | undefined): KnownOperation | undefined {
    return this.byQuery.get(query)?.get(operationName ?? null);
  }
}

/** What the direct path already executed: a result with errors, or the error the execution threw. */
export type HandedOver = { result: ExecutionResult } | { error: unknown };

/**
 * Hands the direct path's outcome to Apollo to format, on the request's context: Apollo's
 * executor (jitGateway) answers it instead of executing a second time.
 */
export function handOverToApollo(context: GatewayContext, outcome: HandedOver): void {
  context.handedOver = outcome;
}

/**
 * Apollo Server's one hook for its execution step is the gateway interface: Apollo still parses,
 * validates (with the query limits), runs the plugins and formats errors; only `execute` is ours.
 * Every query it runs is remembered in `known` (when given) for the direct path.
 */
export function jitGateway(
  schema: GraphQLSchema,
  known?: KnownOperations,
  label: (name: string | null | undefined) => string = (n) => n ?? 'anonymous',
): Gateway {
  const operations = new CompiledOperations(schema);
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async load() {
      return {
        executor: async (request): Promise<ExecutionResult> => {
          const context = request.context as GatewayContext;
          const handed = context.handedOver;
          if (handed) {
            context.handedOver = undefined;
            if ('error' in handed) throw handed.error;
            return handed.result;
          }
          // Apollo hands every document on, also one whose operation it could not pick, and subscriptions.
          const refused = refusedOperation(request.operation, request.request.operationName);
          if (refused) return { errors: [refused] };
          const compiled = operations.get(request.document, request.operationName ?? request.request.operationName);
          if (known && request.operation.operation === OperationTypeNode.QUERY && typeof request.request.query === 'string') {
            known.remember(request.request.query, request.request.operationName, { compiled, name: label(request.operationName) });
          }
          return compiled.query(undefined, context, request.request.variables ?? {});
        },
      };
    },
    async stop() {},
  };
}

/**
 * The client's mistakes in naming or choosing the operation, with graphql-js's messages: none
 * picked (several without a name, or an unknown name), or a subscription sent over HTTP.
 */
function refusedOperation(operation: OperationDefinitionNode | undefined, requestedName: string | null | undefined): GraphQLError | null {
  if (!operation) {
    return new GraphQLError(
      requestedName ? `Unknown operation named "${requestedName}".` : 'Must provide operation name if query contains multiple operations.',
      {
        extensions: { code: 'BAD_USER_INPUT' },
      },
    );
  }
  if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
    return new GraphQLError('Subscriptions are served over WebSocket (graphql-transport-ws) on this path, not over HTTP.', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return null;
}
