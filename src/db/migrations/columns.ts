import type { TableColumnOptions } from 'typeorm';

/** Column builders for migrations that mean the same on MySQL/MariaDB and SQLite. */
type Extra = Partial<TableColumnOptions>;

export const id = (name: string, extra: Extra = {}): TableColumnOptions => ({ name, type: 'varchar', length: '36', ...extra });
export const text = (name: string, length: number, extra: Extra = {}): TableColumnOptions => ({ name, type: 'varchar', length: String(length), ...extra });
export const longText = (name: string, extra: Extra = {}): TableColumnOptions => ({ name, type: 'text', ...extra });
export const int = (name: string, extra: Extra = {}): TableColumnOptions => ({ name, type: 'int', ...extra });
export const bool = (name: string, defaultValue: boolean, extra: Extra = {}): TableColumnOptions => ({
  name,
  type: 'boolean',
  default: defaultValue ? 1 : 0,
  ...extra,
});
/** UTC timestamp with milliseconds; the application always sets it (no database default). */
export const time = (name: string, extra: Extra = {}): TableColumnOptions => ({ name, type: 'datetime', precision: 3, ...extra });
