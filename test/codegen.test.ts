import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from './utils/app';

/**
 * examples/codegen.ts as a frontend team runs it, on the committed schema and the reference page's
 * documents: every document validates against the schema, the scalars come out as strings (no
 * `any`), and the persisted-documents file it writes is what TRUSTED_DOCUMENTS takes.
 */
describe('examples/codegen.ts on schema/schema.graphql and the reference page', () => {
  const out = mkdtempSync(join(tmpdir(), 'portal-codegen-'));
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it('generates typed documents for every query of the page, DateTime and Date as strings, and a trusted-documents file the gateway runs', async () => {
    // As a frontend team runs it (the CLI loads the TypeScript config itself), pointed at this repository's files.
    execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'graphql-codegen'), ['--config', 'examples/codegen.ts', '--silent'], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, PORTAL_SCHEMA: 'schema/schema.graphql', PORTAL_DOCUMENTS: 'examples/portal-web/app.js', PORTAL_CODEGEN_OUT: `${out}/` },
      stdio: 'pipe',
    });
    const types = readFileSync(join(out, 'graphql.ts'), 'utf8');
    for (const operation of ['MeQuery', 'PortaalQuery', 'GesprekQuery', 'ReplyMutation', 'MessagesSubscription', 'VideoSubscription'])
      expect(types).toContain(`export type ${operation} =`);
    expect(types).toMatch(/sentAt: string/);
    expect(types).toMatch(/registrationDate\?: string \| null|registrationDate: string \| null/);
    expect(types).not.toMatch(/: any\b/);

    const persisted = JSON.parse(readFileSync(join(out, 'persisted-documents.json'), 'utf8')) as Record<string, string>;
    for (const [id, document] of Object.entries(persisted)) expect(`sha256:${createHash('sha256').update(document).digest('hex')}`).toBe(id);
    const meHash = Object.entries(persisted)
      .find(([, document]) => /query Me\b/.test(document))![0]
      .slice('sha256:'.length);

    t = await startTestApp({ env: { TRUSTED_DOCUMENTS: join(out, 'persisted-documents.json') } });
    const token = await t.login('client@demo.test');
    const ask = (body: unknown) =>
      fetch(`${t!.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { data?: { me?: { displayName: string } }; errors?: { extensions?: { code?: string } }[] },
      }));
    const listed = await ask({ extensions: { persistedQuery: { version: 1, sha256Hash: meHash } } });
    expect(listed.body.data?.me?.displayName).toBe('Karen Test');
    const unlisted = await ask({ query: '{ me { id email } }' });
    expect(unlisted.body.data?.me).toBeUndefined();
    expect(unlisted.body.errors?.[0]?.extensions?.code).toBeDefined();
  });
});
