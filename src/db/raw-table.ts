import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/** The most values one IN (…) list holds; more are asked in several statements. */
const IN_LIST_MAX = 1000;

/**
 * One entity's table by plain SQL, for the few statements every request runs (portal links, the
 * account, the access log). typeorm's QueryBuilder rebuilds its SQL on every call, which costs
 * more than SQLite takes to answer; this builds the SQL once and still converts each value with
 * the driver's own rules (dates, booleans, column transformers), so the rows are the same as a
 * repository's on SQLite and MySQL/MariaDB.
 */
export class RawTable<T extends ObjectLiteral> {
  private readonly columns: ColumnMetadata[];
  private readonly table: string;
  private readonly selectList: string;
  private readonly insertHead: string;
  private readonly rowPlaceholders: string;

  constructor(
    private readonly db: DataSource,
    entity: EntityTarget<T>,
  ) {
    const meta = db.getMetadata(entity);
    const q = (name: string) => db.driver.escape(name);
    this.columns = meta.columns;
    this.table = q(meta.tableName);
    this.selectList = this.columns.map((c) => q(c.databaseName)).join(', ');
    this.insertHead = `INSERT INTO ${this.table} (${this.selectList}) VALUES `;
    this.rowPlaceholders = `(${this.columns.map(() => '?').join(', ')})`;
  }

  /**
   * Rows whose `property` is one of `values`, ordered by `orderBy` ascending within each statement.
   * At most IN_LIST_MAX values go into one statement (an event's subscribers can be thousands);
   * more are asked in several, side by side.
   */
  async findIn<K extends keyof T & string>(property: K, values: readonly unknown[], orderBy?: keyof T & string): Promise<T[]> {
    if (values.length > IN_LIST_MAX) {
      const chunks: unknown[][] = [];
      for (let at = 0; at < values.length; at += IN_LIST_MAX) chunks.push(values.slice(at, at + IN_LIST_MAX));
      return (await Promise.all(chunks.map((chunk) => this.findIn(property, chunk, orderBy)))).flat();
    }
    if (!values.length) return [];
    const column = this.column(property);
    const order = orderBy ? ` ORDER BY ${this.db.driver.escape(this.column(orderBy).databaseName)} ASC` : '';
    const sql = `SELECT ${this.selectList} FROM ${this.table} WHERE ${this.db.driver.escape(column.databaseName)} IN (${values.map(() => '?').join(', ')})${order}`;
    const rows = await this.db.query<Record<string, unknown>[]>(
      sql,
      values.map((v): unknown => this.db.driver.preparePersistentValue(v, column)),
    );
    return rows.map((row) => {
      const entity = {} as Record<string, unknown>;
      for (const c of this.columns) entity[c.propertyName] = this.db.driver.prepareHydratedValue(row[c.databaseName], c);
      return entity as T;
    });
  }

  /** One multi-row INSERT; every column must be given (no database defaults are read back). */
  async insertMany(rows: readonly T[]): Promise<void> {
    if (!rows.length) return;
    const params: unknown[] = [];
    for (const row of rows) for (const c of this.columns) params.push(this.db.driver.preparePersistentValue(row[c.propertyName], c));
    await this.db.query(this.insertHead + rows.map(() => this.rowPlaceholders).join(', '), params);
  }

  private column(property: string): ColumnMetadata {
    const found = this.columns.find((c) => c.propertyName === property);
    if (!found) throw new Error(`${this.table} has no column for ${property}`);
    return found;
  }
}
