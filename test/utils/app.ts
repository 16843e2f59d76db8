import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { EhrAdapter, MailPort, SmsPort } from '../../adapters/ports';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { DEMO_PEOPLE } from '../../adapters/demo/demo-data';
import { MemoryMailer } from '../../adapters/mail/mail';
import { seedDemoAccounts } from '../../src/modules/portal/demo-seed';
import { createApp, type App } from '../../src/server';
import { createMariaDbDatabase } from './services';

export interface TestApp {
  app: App;
  base: string;
  /** An absolute URL the gateway handed out (PUBLIC_URL, which tests in production set to an https name), on this test server. */
  local(url: string): string;
  config: Config;
  logs: string[];
  /** POST /auth/dev/login by e-mail (or { bsn }); answers the access token. */
  login(who: string | { bsn: string }): Promise<string>;
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{
    status: number;
    body: { data?: T; errors?: { message: string; path?: any[]; extensions?: { code?: string; [key: string]: any } }[]; extensions?: any };
  }>;
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
  /**
   * The production configuration (NODE_ENV=production, no dev login, no demo seed by config):
   * needs MariaDB (production refuses SQLite). The demo accounts are seeded by the test helper,
   * and login() makes sessions through the service, as a real login would.
   */
  production?: boolean;
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
  const production: Record<string, string> = options.production
    ? {
        NODE_ENV: 'production',
        DEV_LOGIN: '0',
        DEMO_SEED: '0',
        BSN_HASH_KEY: randomBytes(16).toString('hex'),
        EHR_ADAPTERS: 'demo',
        PUBLIC_URL: 'https://gateway.portal.test',
        // Production needs a mail relay for own accounts; the suites read the mail from a MemoryMailer instead.
        SMTP_URL: 'smtp://mail.portal.test:587',
        SMTP_FROM: 'Portaal <noreply@portal.test>',
      }
    : {};
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
    ...production,
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = await createApp(config, {
    logger: createLogger(config.LOG_LEVEL, sink),
    adapters: options.adapters,
    mail: options.mail ?? (options.production ? new MemoryMailer() : undefined),
    sms: options.sms,
  });
  // Production refuses DEMO_SEED; its suites get the same demo accounts from the seed itself.
  if (options.production) await seedDemoAccounts(app.services.accounts, app.services.clients, DEMO_PEOPLE, app.services.ownAccounts);
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
    if (!config.DEV_LOGIN) {
      // Production configuration (no dev login): the session a real login would give, made by the service.
      const services = app.services;
      const account =
        typeof who === 'string' ? await services.accounts.findByEmail(who) : await services.accounts.loginWithBsn(who.bsn, { requestId: 'test-login' });
      if (!account) throw new Error(`no account ${JSON.stringify(who)}`);
      await services.accounts.recordLogin(account.id);
      return (await services.sessions.create(account.id, 'test')).accessToken;
    }
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
    local: (url) => {
      const u = new URL(url);
      return `${base}${u.pathname}${u.search}`;
    },
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
