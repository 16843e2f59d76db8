/** Column shapes that map the same way on MySQL/MariaDB and SQLite. */
export const idColumn = { type: 'varchar', length: 36 } as const;
/** Millisecond timestamps, stored in UTC (the MySQL driver runs with timezone 'Z'). */
export const timeColumn = { type: 'datetime', precision: 3 } as const;

/**
 * A comma-separated list of enum values in one varchar column. Read values are the one shared copy
 * of each member: a split keeps the whole column text alive under every part, and a live socket
 * holds its links' permissions for hours (about 0.6 KB per socket with fifteen rights).
 */
export const enumListTransformer = {
  to: (value: readonly string[] | null | undefined): string => (value ?? []).join(','),
  from: (value: string | null | undefined): string[] => (value ? value.split(',').filter(Boolean).map(interned) : []),
};

const members = new Map<string, string>();
/** Bounded: the members of the enums stored this way are a few dozen; anything beyond is kept as read. */
function interned(value: string): string {
  const known = members.get(value);
  if (known !== undefined) return known;
  if (members.size >= 256) return value;
  const copy = Buffer.from(value, 'latin1').toString('latin1');
  members.set(copy, copy);
  return copy;
}
