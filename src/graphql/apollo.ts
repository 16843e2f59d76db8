import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { GatewayContext } from './context';
import { formatGatewayError, isExpectedError } from './errors';
import { jitGateway, type KnownOperations } from './jit-executor';

/** The query limits, shared by HTTP (Apollo) and WebSocket (graphql-ws) so neither path bypasses them. */
export function queryProtection(config: Config): { validationRules: ValidationRule[]; plugins: ApolloServerPlugin[]; maxTokens: number } {
  const armor = new ApolloArmor({
    maxDepth: { n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: !config.isProduction },
    maxAliases: { n: config.GRAPHQL_MAX_ALIASES },
    maxDirectives: { n: config.GRAPHQL_MAX_DIRECTIVES },
    costLimit: { maxCost: config.GRAPHQL_MAX_COST, ignoreIntrospection: !config.isProduction },
    blockFieldSuggestion: { enabled: config.isProduction },
    // Tokens are limited by graphql-js's own parser (parseOptions.maxTokens), before any rule runs.
    maxTokens: { enabled: false },
  });
  const { validationRules, plugins } = armor.protect();
  return { validationRules: validationRules as ValidationRule[], plugins: plugins as ApolloServerPlugin[], maxTokens: config.GRAPHQL_MAX_TOKENS };
}

/** Counts and times one operation: Apollo's plugin and the GraphQL route's direct path both report here. */
export function recordOperation(metrics: Metrics, name: string, type: string, failed: boolean, seconds: number): void {
  metrics.graphqlDuration.observe({ operation: name }, seconds);
  metrics.graphqlOperations.inc({ operation: name, type, outcome: failed ? 'error' : 'ok' });
}

/** Counts and times every operation, and logs unexpected errors with the request id. */
function observabilityPlugin(metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            if (!isExpectedError(error)) {
              contextValue.logger.error({ err: error.originalError ?? error, operationName, path: error.path }, 'unexpected error in operation');
            }
          }
        },
        async willSendResponse({ response, operationName, operation, errors, contextValue }) {
          const seconds = Number(process.hrtime.bigint() - (contextValue.operationStarted ?? started)) / 1e9;
          recordOperation(metrics, operationName ?? 'anonymous', operation?.operation ?? 'unknown', !!errors?.length, seconds);
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
 * `known`: where the compiled executor records the queries it ran, for the GraphQL route's direct
 * path. That path skips this server's pipeline only for answers without errors, so it is sound as
 * long as no plugin here changes a successful query's answer: the query-limit plugin and
 * observabilityPlugin act on errors and partial failures, and the route reports its own metrics.
 */
export function createApollo(schema: GraphQLSchema, config: Config, metrics: Metrics, logger: Logger, known?: KnownOperations): ApolloServer<GatewayContext> {
  const protection = queryProtection(config);
  return new ApolloServer<GatewayContext>({
    ...(config.GRAPHQL_EXECUTOR === 'jit' ? { gateway: jitGateway(schema, known) } : { schema }),
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
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
      observabilityPlugin(metrics),
    ],
    formatError: (formatted, error) => formatGatewayError(formatted, error),
  });
}

