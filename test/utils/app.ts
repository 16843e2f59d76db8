import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { EhrAdapter, MailPort, SmsPort } from '../../adapters/ports';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { createApp, type App } from '../../src/server';
import { createMariaDbDatabase } from './services';

export interface TestApp {
  app: App;
  base: string;
  config: Config;
  logs: string[];
  /** POST /auth/dev/login by e-mail (or { bsn }); answers the access token. */
  login(who: string | { bsn: string }): Promise<string>;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ status: number; body: { data?: T; errors?: { message: string; path?: any[]; extensions?: { code?: string; [key: string]: any } }[]; extensions?: any } }>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** 'sqlite' (a temp file, default) or 'mariadb' (its own throwaway database). */
  database?: 'sqlite' | 'mariadb';
  /** Share an existing database (e.g. a second instance on the first one's DATABASE_URL); it is not dropped on stop(). */
  databaseUrl?: string;
  adapters?: Record<string, EhrAdapter>;
  /** In-memory outboxes, so tests can read the codes and links that would have been sent. */
  mail?: MailPort;
  sms?: SmsPort;
}

/** Starts the whole gateway on a free loopback port with its own database; stop() removes it again. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  let databaseUrl: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (options.databaseUrl) {
    databaseUrl = options.databaseUrl;
  } else if (options.database === 'mariadb') {
    const created = await createMariaDbDatabase();
    databaseUrl = created.url;
    dropDatabase = created.drop;
  } else {
    databaseUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'ggz-test-')), 'portal.sqlite')}`;
  }
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DEV_LOGIN: '1',
    DEMO_SEED: '1',
    MIGRATE_ON_START: '1',
    LOG_LEVEL: 'info',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    SYNC_SECRET: randomBytes(24).toString('hex'),
    // Suites see the adapters directly unless they test the cache (test/ehr-cache.test.ts).
    CACHE_TTL_SECONDS: '0',
    // Uploads in a throwaway directory (instances that share a database pass one FILE_STORAGE_URL).
    FILE_STORAGE_URL: `file:${mkdtempSync(join(tmpdir(), 'ggz-files-'))}`,
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = await createApp(config, { logger: createLogger(config.LOG_LEVEL, sink), adapters: options.adapters, mail: options.mail, sms: options.sms });
  const base = await app.start();

  const gql: TestApp['gql'] = async (query, variables, token) => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const login: TestApp['login'] = async (who) => {
    const res = await fetch(`${base}/auth/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(typeof who === 'string' ? { email: who } : who),
    });
    if (res.status !== 200) throw new Error(`dev login failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { accessToken: string }).accessToken;
  };
  return {
    app,
    base,
    config,
    logs,
    login,
    gql,
    async stop() {
      await app.stop();
      await dropDatabase?.();
    },
  };
}

/** The portal (client id) a demo account has for a relation, e.g. Karen's own portal. */
export async function portalIds(t: TestApp, token: string): Promise<string[]> {
  const { body } = await t.gql('{ me { portals { client { id } } } }', undefined, token);
  return body.data.me.portals.map((p: { client: { id: string } }) => p.client.id);
}

/** The portal's client id for a record of the demo EHR (e.g. 'cl-daan'), whoever may open it. */
export async function clientIdOf(t: TestApp, externalId: string, source = 'demo'): Promise<string> {
  const id = await t.app.services.clients.existingClientId({ source, externalId });
  if (!id) throw new Error(`no client for ${source}:${externalId}`);
  return id;
}
