/** Column shapes that map the same way on MySQL/MariaDB and SQLite. */
export const idColumn = { type: 'varchar', length: 36 } as const;
/** Millisecond timestamps, stored in UTC (the MySQL driver runs with timezone 'Z'). */
export const timeColumn = { type: 'datetime', precision: 3 } as const;

/** A comma-separated list of enum values in one varchar column. */
export const enumListTransformer = {
  to: (value: readonly string[] | null | undefined): string => (value ?? []).join(','),
  from: (value: string | null | undefined): string[] => (value ? value.split(',').filter(Boolean) : []),
};
