import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { Config } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { migrations } from '../src/db/registry';
import { ClientEntity, ClientSourceEntity } from '../src/modules/clients/client.entity';
import { ConversationEntity, MessageEntity } from '../src/modules/messages/message.entity';
import { createMariaDbDatabase, MARIADB_URL } from './utils/services';

/** A database migrated up to (not including) the named migration, then the rest. */
async function migratedUpTo(database: Config['database'], before: string): Promise<{ old: DataSource; rest: () => Promise<DataSource> }> {
  const cut = migrations.findIndex((m) => m.name === before);
  const old = new DataSource({ ...dataSourceOptions(database), migrations: migrations.slice(0, cut) });
  await old.initialize();
  await old.runMigrations({ transaction: 'each' });
  return {
    old,
    rest: async () => {
      await old.destroy();
      const all = new DataSource(dataSourceOptions(database));
      await all.initialize();
      await all.runMigrations({ transaction: 'each' });
      return all;
    },
  };
}

const at = new Date('2026-11-30T10:00:00.000Z');
/** The time as both databases take it in a raw query. */
const stamp = '2026-11-30 10:00:00.000';

/** Messages waiting for (and delivered to) the EHR in the message outbox of the previous version. */
async function previousOutbox(db: DataSource): Promise<void> {
  await db.getRepository(ClientEntity).insert({ id: 'c-1', createdAt: at, displayName: 'Karen' });
  await db.getRepository(ClientSourceEntity).insert({ id: 's-1', clientId: 'c-1', source: 'fhir', externalId: 'Patient/42' });
  await db.getRepository(ConversationEntity).insert({ id: 'conv-1', clientId: 'c-1', subject: 'Uitslag', kind: 'TEAM', createdAt: at, lastMessageAt: at });
  for (const id of ['m-waiting', 'm-sent'])
    await db.getRepository(MessageEntity).insert({
      id,
      conversationId: 'conv-1',
      clientId: 'c-1',
      authorKind: 'CLIENT',
      authorRef: 'a-1',
      authorName: 'Karen',
      body: 'Hallo',
      sentAt: at,
      deletedAt: null,
      sourceEventId: null,
    });
  const insert = (id: string, messageId: string, status: string, action: string, attempts: number, lastError: string | null) =>
    db.query(
      'INSERT INTO message_outbox (id, message_id, source, status, action, attempts, next_attempt_at, last_error, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [id, messageId, 'fhir', status, action, attempts, stamp, lastError, stamp, status === 'delivered' ? stamp : null],
    );
  await insert('o-1', 'm-waiting', 'pending', 'send', 3, 'EHR away');
  await insert('o-2', 'm-sent', 'delivered', 'send', 1, null);
  await insert('o-3', 'm-sent', 'failed', 'withdraw', 20, 'EHR refused');
}

async function messagesOntoEhrWrites(database: Config['database']): Promise<void> {
  const { old, rest } = await migratedUpTo(database, 'MessagesOntoEhrWrites1764100000130');
  await previousOutbox(old);
  const db = await rest();
  try {
    const rows = (await db.query('SELECT id, client_id, source, method, subject, payload, status, attempts, last_error FROM ehr_writes ORDER BY id')) as {
      attempts: number | string;
    }[];
    expect(rows.map((r) => ({ ...r, attempts: Number(r.attempts) }))).toEqual([
      {
        id: 'o-1',
        client_id: 'c-1',
        source: 'fhir',
        method: 'sendMessage',
        subject: 'm-waiting',
        payload: JSON.stringify({ externalClientId: 'Patient/42', input: { messageId: 'm-waiting' } }),
        status: 'pending',
        attempts: 3,
        last_error: 'EHR away',
      },
      expect.objectContaining({ id: 'o-2', method: 'sendMessage', subject: 'm-sent', status: 'delivered', attempts: 1 }),
      expect.objectContaining({ id: 'o-3', method: 'withdrawMessage', subject: 'm-sent', status: 'failed', attempts: 20, last_error: 'EHR refused' }),
    ]);
    const runner = db.createQueryRunner();
    expect(await runner.hasTable('message_outbox')).toBe(false);
    await runner.release();

    // Back down (through the migrations after it too): the rows are in message_outbox again, nothing of them is left in ehr_writes.
    for (let i = migrations.findIndex((m) => m.name === 'MessagesOntoEhrWrites1764100000130'); i < migrations.length; i++)
      await db.undoLastMigration({ transaction: 'each' });
    const back = (await db.query('SELECT id, message_id, status, action FROM message_outbox ORDER BY id')) as unknown[];
    expect(back).toEqual([
      { id: 'o-1', message_id: 'm-waiting', status: 'pending', action: 'send' },
      { id: 'o-2', message_id: 'm-sent', status: 'delivered', action: 'send' },
      { id: 'o-3', message_id: 'm-sent', status: 'failed', action: 'withdraw' },
    ]);
    expect(await db.query('SELECT id FROM ehr_writes')).toEqual([]);
  } finally {
    await db.destroy();
  }
}

describe('migrating messages onto the EHR write outbox', () => {
  it('moves every message outbox row (waiting, delivered, dead letter) with its state on SQLite, and back', async () => {
    await messagesOntoEhrWrites({ type: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'ggz-migrate-')), 'portal.sqlite') });
  });

  (MARIADB_URL ? it : it.skip)('does the same on MariaDB', async () => {
    const { url, drop } = await createMariaDbDatabase();
    try {
      await messagesOntoEhrWrites({ type: 'mysql', url });
    } finally {
      await drop();
    }
  });
});
