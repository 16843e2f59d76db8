import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { entities } from '../../db/registry';
import { RETENTION_OF_TABLE } from './retention.service';

describe('what the retention job does with each table', () => {
  let tables: string[];
  beforeAll(async () => {
    const db = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [...entities] });
    await db.initialize();
    tables = db.entityMetadatas.map((m) => m.tableName).sort();
    await db.destroy();
  });

  it('has a decision for every table of the portal’s database, and none for a table that is not there', () => {
    expect(Object.keys(RETENTION_OF_TABLE).sort()).toEqual(tables);
  });

  it('is the README’s retention table: every table named there, with the same verdict for what is removed', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Retention and the access log'), readme.indexOf('**The access log’s only delete.**'));
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const named = new Map<string, string>();
    for (const row of rows) {
      const [cell, decision] = row.split(' | ');
      for (const [, table] of cell.matchAll(/`([a-z_]+)`/g)) named.set(table, decision);
    }
    for (const table of tables) {
      expect({ table, inReadme: named.has(table) }).toEqual({ table, inReadme: true });
      expect({ table, removed: named.get(table)!.startsWith('removed') }).toEqual({
        table,
        removed: (RETENTION_OF_TABLE as Record<string, string>)[table] === 'removed',
      });
    }
  });
});
