import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from './utils/app';

const ME = 'query Me { me { displayName } }';
const hash = createHash('sha256').update(ME).digest('hex');

describe('trusted documents (operation safelist)', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ggz-td-')), 'trusted.json');
    writeFileSync(file, JSON.stringify([ME]));
    t = await startTestApp({ env: { TRUSTED_DOCUMENTS: file } });
    token = await t.login('client@demo.test');
  });
  afterAll(async () => t.stop());

  it('runs a listed operation, sent in full or by its hash alone (POST and GET)', async () => {
    expect((await t.gql(ME, undefined, token)).body.data.me.displayName).toBe('Karen Test');
    const byHash = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    });
    expect(((await byHash.json()) as { data: { me: { displayName: string } } }).data.me.displayName).toBe('Karen Test');
    const get = await fetch(`${t.base}/graphql?extensions=${encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } }))}`, {
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    });
    expect(((await get.json()) as { data: { me: { displayName: string } } }).data.me.displayName).toBe('Karen Test');
  });

  it('refuses any other operation, and an unknown hash, before it is parsed', async () => {
    const other = await t.gql('{ me { id email } }', undefined, token);
    expect(other.status).toBe(400);
    expect(other.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }),
    });
    expect(unknown.status).toBe(400);
  });
});
