import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function checkDate(value: unknown): string {
  if (typeof value !== 'string' || !DATE.test(value)) throw new GraphQLError('Date must be YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new GraphQLError(`${value} is not a calendar date`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

/** A calendar date, YYYY-MM-DD, kept as a string so no time zone can shift it. */
export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD',
  serialize: (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : checkDate(v)),
  parseValue: checkDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Date must be a string YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
    return checkDate(ast.value);
  },
});

/**
 * What Date#toISOString writes: served as is, without parsing (hundreds per appointment list);
 * for years 0000-9999 its text order is its time order.
 */
export const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function toIso(v: unknown): string {
  if (typeof v === 'string' && CANONICAL_UTC.test(v)) return v;
  const d = v instanceof Date ? v : typeof v === 'string' || typeof v === 'number' ? new Date(v) : null;
  if (!d || Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be ISO 8601 with an offset', { extensions: { code: 'BAD_USER_INPUT' } });
  return d.toISOString();
}
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** ISO 8601 with offset; always served in UTC ("Z"). */
export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'ISO 8601 date and time with offset',
  serialize: toIso,
  parseValue: (v) => {
    if (typeof v !== 'string' || !DATETIME.test(v))
      throw new GraphQLError('DateTime must be ISO 8601 with an offset', { extensions: { code: 'BAD_USER_INPUT' } });
    return new Date(toIso(v));
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || !DATETIME.test(ast.value))
      throw new GraphQLError('DateTime must be ISO 8601 with an offset', { extensions: { code: 'BAD_USER_INPUT' } });
    return new Date(toIso(ast.value));
  },
});
