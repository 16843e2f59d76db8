import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** The only codes an error may leave the gateway with (../shared/contract/portal.graphql). */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UPSTREAM_UNAVAILABLE = 'UPSTREAM_UNAVAILABLE',
  RATE_LIMITED = 'RATE_LIMITED',
  CONFLICT = 'CONFLICT',
}

/** The HTTP status of a route's refusal with this code (GraphQL answers carry the code itself). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.BAD_USER_INPUT]: 400,
  [ErrorCode.UPSTREAM_UNAVAILABLE]: 502,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.CONFLICT]: 409,
};

/** WebSocket close codes: graphql-ws's own for the protocol (4400, 4401, 4403, 4409, …), RFC 6455's for the rest. */
export { CloseCode } from 'graphql-ws';
export const SocketCloseCode = { GoingAway: 1001, InternalError: 1011 } as const;

export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extra } });
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'Log in first: this needs a valid session.') {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'You may not see or change this.', extra: Record<string, unknown> = {}) {
    super(ErrorCode.FORBIDDEN, message, extra);
  }
}
export class NotFoundError extends AppError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(ErrorCode.NOT_FOUND, message, extra);
  }
}
export class BadUserInputError extends AppError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(ErrorCode.BAD_USER_INPUT, message, extra);
  }
}
export class UpstreamUnavailableError extends AppError {
  readonly upstream: string;
  constructor(upstream: string, message = `The care organisation's system (${upstream}) does not answer right now.`) {
    super(ErrorCode.UPSTREAM_UNAVAILABLE, message, { source: upstream });
    this.upstream = upstream;
  }
}
export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, `Too many attempts; try again in ${retryAfterSeconds} seconds.`, { retryAfter: retryAfterSeconds });
  }
}
/** The item changed or was settled meanwhile; `current` (where given) is its state now, so a client shows it without another read. */
export class ConflictError extends AppError {
  constructor(message: string, current?: Record<string, unknown>) {
    super(ErrorCode.CONFLICT, message, current ? { current } : {});
  }
}
/** An operation of the contract that this gateway does not offer yet: a clear refusal, never fake data. */
export class NotAvailableError extends AppError {
  constructor(feature: string) {
    super(ErrorCode.NOT_FOUND, `${feature} is not available on this gateway yet.`, { reason: 'NOT_IMPLEMENTED' });
  }
}

const known = new Set<string>(Object.values(ErrorCode));

/** Apollo's own codes mapped onto the contract's. */
const apolloCodes: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: ErrorCode.BAD_USER_INPUT,
  GRAPHQL_VALIDATION_FAILED: ErrorCode.BAD_USER_INPUT,
  BAD_USER_INPUT: ErrorCode.BAD_USER_INPUT,
  BAD_REQUEST: ErrorCode.BAD_USER_INPUT,
  OPERATION_RESOLUTION_FAILURE: ErrorCode.BAD_USER_INPUT,
  PERSISTED_QUERY_NOT_FOUND: ErrorCode.BAD_USER_INPUT,
  PERSISTED_QUERY_NOT_SUPPORTED: ErrorCode.BAD_USER_INPUT,
};

/** How errors are presented: production hides the schema's field names from "Did you mean …?" hints. */
export interface ErrorPresentation {
  /** The request (or subscription) id an unexpected error is logged under and the client is given. */
  requestId?: string;
  hideSuggestions?: boolean;
}

/**
 * The one place where an error becomes what a client sees: a contract code and no internals.
 * A refusal of the document or its variables by graphql itself (no error of ours behind it) is
 * the client's mistake: BAD_USER_INPUT with graphql-js's message. Anything else unexpected is
 * logged by the caller with the request id and leaves as UPSTREAM_UNAVAILABLE (the contract's "try
 * again later"), with that id for support.
 */
export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown, options: ErrorPresentation = {}): GraphQLFormattedError {
  const out = presentError(formatted, error, options.requestId);
  return options.hideSuggestions ? { ...out, message: withoutSuggestions(out.message) } : out;
}

function presentError(formatted: GraphQLFormattedError, error: unknown, requestId?: string): GraphQLFormattedError {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  const given = formatted.extensions?.code;
  const code = typeof given === 'string' ? given : '';
  if (original instanceof AppError) {
    return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: { ...original.extensions } };
  }
  if (known.has(code)) return { ...formatted, extensions: pick(formatted.extensions, code) };
  const mapped = apolloCodes[code];
  if (mapped) return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code: mapped } };
  if (isClientMistake(error))
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  return {
    message: `Something went wrong on our side${requestId ? ` (reference ${requestId})` : ''}. Try again later.`,
    path: formatted.path,
    extensions: { code: ErrorCode.UPSTREAM_UNAVAILABLE, ...(requestId ? { requestId } : {}) },
  };
}

/**
 * graphql's own refusal of a document, an operation name or variables: a GraphQLError with no error
 * of ours behind it and no path (an error while executing a field has the field's path).
 */
export function isClientMistake(error: unknown): boolean {
  return error instanceof GraphQLError && !error.originalError && !error.path && !(error instanceof AppError);
}

/** graphql-js's "Did you mean …?" hints name fields of the schema; production does not hand them out. */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/, '');
}

function pick(extensions: Record<string, unknown> | undefined, code: string): Record<string, unknown> {
  const out: Record<string, unknown> = { code };
  for (const key of ['reason', 'retryAfter', 'source', 'limit', 'field']) if (extensions?.[key] !== undefined) out[key] = extensions[key];
  return out;
}

export function isExpectedError(error: unknown): boolean {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (original instanceof AppError) return true;
  return isClientMistake(error);
}

/**
 * An inbound sync event that cannot be processed as it was sent (e.g. an invitation for a client
 * under 12): recorded as failed at once with this reason, not retried; the sender sends a new one.
 */
export class PermanentEventError extends Error {}
