import { CANONICAL_UTC } from '../../graphql/scalars';

/**
 * Sorts by an ISO date or time, each parsed once (so offsets compare correctly). String
 * localeCompare, used before, took about a millisecond for a hundred appointments. Times that are
 * all in Date#toISOString's own form (what the adapters serve) sort as text, which orders them the
 * same without parsing a hundred dates per screen.
 */
export function byTime<T>(list: readonly T[], time: (item: T) => string, order: 'asc' | 'desc'): T[] {
  const sign = order === 'asc' ? 1 : -1;
  if (list.every((item) => CANONICAL_UTC.test(time(item)))) {
    return list.slice().sort((a, b) => {
      const x = time(a);
      const y = time(b);
      return x === y ? 0 : x < y ? -sign : sign;
    });
  }
  return list
    .map((item) => ({ item, at: Date.parse(time(item)) || 0 }))
    .sort((a, b) => sign * (a.at - b.at))
    .map((x) => x.item);
}
