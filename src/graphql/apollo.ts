import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { GatewayContext } from './context';
import { formatGatewayError, isClientMistake, isExpectedError } from '../errors';
import { jitGateway, type KnownOperations } from './execution/jit-executor';
import type { ApqCache } from './apq-cache';

/** The query limits, shared by HTTP (Apollo) and WebSocket (graphql-ws) so neither path bypasses them. */
export function queryProtection(config: Config): { validationRules: ValidationRule[]; plugins: ApolloServerPlugin[]; maxTokens: number } {
  const armor = new ApolloArmor({
    // Depth and cost count the shape a document asks for: a fragment spread is not a level of its own
    // (frontends built with codegen spread a fragment per component; cycles are refused by validation).
    maxDepth: { n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: !config.isProduction, flattenFragments: true },
    maxAliases: { n: config.GRAPHQL_MAX_ALIASES },
    maxDirectives: { n: config.GRAPHQL_MAX_DIRECTIVES },
    costLimit: { maxCost: config.GRAPHQL_MAX_COST, ignoreIntrospection: !config.isProduction, flattenFragments: true },
    // graphql-armor's blocker rewrites error.message, which graphql-jit's errors keep read-only (every
    // error then became a 500); the hints are taken out where errors are presented, for HTTP and
    // WebSocket alike (formatGatewayError's hideSuggestions).
    blockFieldSuggestion: { enabled: false },
    // Tokens are limited by graphql-js's own parser (parseOptions.maxTokens), before any rule runs.
    maxTokens: { enabled: false },
  });
  const { validationRules, plugins } = armor.protect();
  return { validationRules: validationRules, plugins: plugins, maxTokens: config.GRAPHQL_MAX_TOKENS };
}

/** Counts and times one operation: Apollo's plugin and the GraphQL route's direct path both report here. */
export function recordOperation(metrics: Metrics, label: string, type: string, failed: boolean, seconds: number): void {
  metrics.graphqlDuration.observe({ operation: label }, seconds);
  metrics.graphqlOperations.inc({ operation: label, type, outcome: failed ? 'error' : 'ok' });
}

/**
 * Counts and times every operation, and logs its errors: an error of ours at error level with its
 * stack and the request id the client is given as reference (`references`, read by formatError);
 * a client's mistake (a refused document, variables, an operation name) at info, without a stack.
 * Refusals by the gate are normal answers and are not logged here.
 */
function observabilityPlugin(metrics: Metrics, references: WeakMap<object, string>): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            if (!isExpectedError(error)) {
              references.set(error, contextValue.requestId);
              contextValue.logger.error({ err: error.originalError ?? error, operationName, path: error.path }, 'unexpected error in operation');
            } else if (isClientMistake(error) || error.extensions?.code === 'BAD_USER_INPUT') {
              contextValue.logger.info({ operationName, refused: error.message.slice(0, 300) }, 'operation refused');
            }
          }
        },
        async willSendResponse({ response, operationName, operation, errors, contextValue }) {
          const seconds = Number(process.hrtime.bigint() - (contextValue.operationStarted ?? started)) / 1e9;
          recordOperation(metrics, metrics.operations.label(operationName), operation?.operation ?? 'unknown', !!errors?.length, seconds);
          // One adapter down, the others answered: say so, so a frontend can show "partly unavailable".
          if (contextValue.partialFailures.length && response.body.kind === 'single') {
            response.body.singleResult.extensions = {
              ...response.body.singleResult.extensions,
              partial: contextValue.partialFailures.map((f) => ({ source: f.source, part: f.part, code: 'UPSTREAM_UNAVAILABLE' })),
            };
          }
        },
      };
    },
  };
}

/**
 * `apq`: where automatic persisted queries keep their texts (null: APQ off, as beside a
 * TRUSTED_DOCUMENTS safelist, where an unknown hash must never register a text).
 * `known`: where the compiled executor records the queries it ran, for the GraphQL route's direct
 * path. That path skips this server's pipeline only for answers without errors, so it is sound as
 * long as no plugin here changes a successful query's answer: the query-limit plugin and
 * observabilityPlugin act on errors and partial failures, and the route reports its own metrics.
 */
export function createApollo(
  schema: GraphQLSchema,
  config: Config,
  metrics: Metrics,
  logger: Logger,
  { known, apq }: { known?: KnownOperations; apq: ApqCache | null },
): ApolloServer<GatewayContext> {
  const protection = queryProtection(config);
  const references = new WeakMap<object, string>();
  return new ApolloServer<GatewayContext>({
    ...(config.GRAPHQL_EXECUTOR === 'jit' ? { gateway: jitGateway(schema, known, (name) => metrics.operations.label(name)) } : { schema }),
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    persistedQueries: apq ? { cache: apq, ttl: config.APQ_TTL_SECONDS } : false,
    introspection: !config.isProduction,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: protection.maxTokens },
    validationRules: protection.validationRules,
    logger: {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
    plugins: [
      ...protection.plugins,
      ApolloServerPluginCacheControlDisabled(),
      ...(config.isProduction ? [ApolloServerPluginLandingPageDisabled()] : []),
      observabilityPlugin(metrics, references),
    ],
    formatError: (formatted, error) =>
      formatGatewayError(formatted, error, { requestId: referenceOf(references, error), hideSuggestions: config.isProduction }),
  });
}

/** The request id an unexpected error was logged under (by the error, or the error Apollo wrapped). */
function referenceOf(references: WeakMap<object, string>, error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (
    references.get(error) ??
    ((error as { originalError?: object }).originalError ? references.get((error as { originalError: object }).originalError) : undefined)
  );
}
