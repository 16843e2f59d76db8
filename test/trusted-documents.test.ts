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

describe("trusted documents from Apollo's persisted-query manifest", () => {
  let t: TestApp;
  let token: string;
  const manifest = (operations: { id: string; body: string }[]) => {
    const file = join(mkdtempSync(join(tmpdir(), 'ggz-td-')), 'persisted-query-manifest.json');
    writeFileSync(
      file,
      JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: operations.map((o) => ({ ...o, name: 'Me', type: 'query' })) }),
    );
    return file;
  };
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUSTED_DOCUMENTS: manifest([{ id: hash, body: ME }]) } });
    token = await t.login('client@demo.test');
  });
  afterAll(async () => t.stop());

  it('runs the listed operation by its id as Apollo Client sends it, and nothing else', async () => {
    const byId = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ operationName: 'Me', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    });
    expect(((await byId.json()) as { data: { me: { displayName: string } } }).data.me.displayName).toBe('Karen Test');
    expect((await t.gql('{ me { id } }', undefined, token)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses to start on a manifest whose id is not the SHA-256 of its body', async () => {
    await expect(startTestApp({ env: { TRUSTED_DOCUMENTS: manifest([{ id: 'f'.repeat(64), body: ME }]) } })).rejects.toThrow(/TRUSTED_DOCUMENTS/);
  });
});

describe('automatic persisted queries (APQ), without a safelist', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp();
    token = await t.login('client@demo.test');
  });
  afterAll(async () => t.stop());

  const post = (body: object) =>
    fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    }).then(async (res) => ({
      status: res.status,
      body: (await res.json()) as { data?: { me: { displayName: string } }; errors?: { message: string; extensions?: { code?: string } }[] },
    }));

  it('asks for the text of an unknown hash, keeps it once sent, then answers the hash alone', async () => {
    const q = 'query MeApq { me { displayName } }';
    const sha = createHash('sha256').update(q).digest('hex');
    const persistedQuery = { version: 1, sha256Hash: sha };
    const miss = await post({ extensions: { persistedQuery } });
    expect(miss.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
    expect((await post({ query: q, extensions: { persistedQuery } })).body.data?.me.displayName).toBe('Karen Test');
    expect((await post({ extensions: { persistedQuery } })).body.data?.me.displayName).toBe('Karen Test');
  });

  it('refuses a text sent under another hash, and keeps nothing that fails validation', async () => {
    const wrong = await post({ query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } });
    expect(wrong.status).toBe(400);
    const invalid = '{ me { noSuchField } }';
    const sha = createHash('sha256').update(invalid).digest('hex');
    await post({ query: invalid, extensions: { persistedQuery: { version: 1, sha256Hash: sha } } });
    expect((await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha } } })).body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
  });
});
