import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function checkDate(value: unknown): string {
  const parts = typeof value === 'string' ? DATE.exec(value) : null;
  if (!parts) throw new GraphQLError('Date must be YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
  // Served for every date of a list: checked by arithmetic, without a Date per value.
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    throw new GraphQLError(`${value as string} is not a calendar date`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value as string;
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
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
