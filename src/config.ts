import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';

/** Every setting of the gateway, parsed once at start. Nothing else reads process.env. */

const bool = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');
const int = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const databaseUrl = z.string().refine((v) => /^sqlite:.+/.test(v) || /^mysql:\/\/[^/]+\/[A-Za-z0-9_]+/.test(v) || /^mariadb:\/\/[^/]+\/[A-Za-z0-9_]+/.test(v), {
  message: 'must be mysql://user:pass@host:3306/db or sqlite:PATH',
});

const adapterList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(['demo', 'fhir'])).min(1, 'names at least one adapter'));

const fhirAuth = z.string().refine((v) => v === 'none' || v === 'client_credentials' || /^bearer:.+/.test(v), {
  message: "must be 'none', 'bearer:<token>' or 'client_credentials'",
});

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  // Where this gateway is reached from outside (absolute download and API links); default http://localhost:PORT.
  PUBLIC_URL: z.url().optional(),
  // The portal frontend: where a login lands and mail links point (default: PUBLIC_URL, whose / serves the reference page in development).
  FRONTEND_URL: z.url().optional(),
  DATABASE_URL: databaseUrl.default('sqlite:data/portal.sqlite'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must be redis://host:6379/0')
    .optional(),
  REDIS_KEY_PREFIX: z.string().default('ggz:'),
  // Every Redis command answers within this or fails (then the database decides, or the instance alone).
  REDIS_COMMAND_TIMEOUT_MS: int(20, 10000).default(500),
  EHR_ADAPTERS: adapterList.default(['demo']),
  FHIR_BASE_URL: z.url().optional(),
  FHIR_AUTH: fhirAuth.default('none'),
  FHIR_TOKEN_URL: z.url().optional(),
  FHIR_CLIENT_ID: z.string().optional(),
  FHIR_CLIENT_SECRET: z.string().optional(),
  FHIR_INTAKE_QUESTIONNAIRE: z.string().default('intake'),
  // Message attachments up to this size go inside the FHIR Communication; larger ones are named only.
  FHIR_INLINE_ATTACHMENT_MAX_BYTES: int(0, 100 * 1024 * 1024).default(20 * 1024 * 1024),
  SYNC_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_PRIVATE_KEY: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }).optional(),
  SESSION_KEY_ID: z.string().default('k1'),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 3600).default(900),
  SESSION_IDLE_MINUTES: int(1, 1440).default(15),
  SESSION_MAX_HOURS: int(1, 720).default(12),
  BSN_HASH_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  // private_key_jwt client authentication (what the OpenID NLGov profile asks of DigiD brokers' clients).
  OIDC_CLIENT_PRIVATE_KEY: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }).optional(),
  OIDC_CLIENT_KEY_ID: z.string().optional(),
  OIDC_REDIRECT_URI: z.url().optional(),
  OIDC_SUBJECT_CLAIM: z.string().default('sub'),
  // 'bsn': the claim carries a BSN (11-proef, EHR lookup); 'pseudonym': a broker's stable per-client identifier.
  OIDC_SUBJECT_TYPE: z.enum(['bsn', 'pseudonym']).default('bsn'),
  // Lowest acceptable `acr`; eIDAS levels rank low < substantial < high. Production defaults to substantial.
  OIDC_REQUIRED_ACR: z.string().optional(),
  DEV_LOGIN: bool.default(false),
  DEMO_SEED: bool.optional(),
  MIGRATE_ON_START: bool.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: z.string().default(''),
  TRUSTED_DOCUMENTS: z.string().optional(),
  // Automatic persisted queries (a hash instead of the text after the first use); off whenever TRUSTED_DOCUMENTS is set.
  APQ: bool.default(true),
  APQ_TTL_SECONDS: int(60, 30 * 86400).default(86400),
  // The in-memory APQ cache's size when there is no Redis (the texts' bytes).
  APQ_MEMORY_BYTES: int(1024, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
  TRUST_PROXY: bool.default(false),
  // Who may read /metrics: the peer addresses (never X-Forwarded-For) of the scrapers, or '*'.
  METRICS_ALLOW: z
    .string()
    .default('127.0.0.1,::1')
    .refine((v) => v.trim() === '*' || v.split(',').every((a) => isIP(a.trim()) !== 0), { message: "must be '*' or a comma list of IP addresses" }),
  // Uploads never used as an attachment (or filed) are removed after this many hours.
  UPLOAD_UNUSED_TTL_HOURS: int(1, 24 * 90).default(24),
  // An upload that receives nothing for this long is given up (its partial file removed).
  UPLOAD_IDLE_TIMEOUT_MS: int(1000, 600000).default(30000),
  GRAPHQL_MAX_DEPTH: int(2, 50).default(8),
  GRAPHQL_MAX_ALIASES: int(1, 100).default(15),
  GRAPHQL_MAX_DIRECTIVES: int(1, 200).default(50),
  GRAPHQL_MAX_TOKENS: int(100, 100000).default(2000),
  GRAPHQL_MAX_COST: int(100, 1000000).default(5000),
  GRAPHQL_MAX_BODY_BYTES: int(1024, 10 * 1024 * 1024).default(100 * 1024),
  // 'jit': operations compiled once (graphql-jit) and run as plain JavaScript; 'graphql-js': the reference executor.
  GRAPHQL_EXECUTOR: z.enum(['jit', 'graphql-js']).default('jit'),
  // With 'jit': a query text Apollo has already accepted runs directly when it answers without errors.
  GRAPHQL_DIRECT_PATH: bool.default(true),
  CACHE_TTL_SECONDS: int(0, 86400).default(60),
  ADAPTER_TIMEOUT_MS: int(50, 120000).default(2500),
  // All attempts of one read together, waits between them included: what a person waits for a field at most.
  ADAPTER_DEADLINE_MS: int(50, 120000).default(3000),
  ADAPTER_RETRIES: int(0, 10).default(2),
  ADAPTER_BREAKER_THRESHOLD: int(1, 1000).default(5),
  ADAPTER_BREAKER_HALF_OPEN_MS: int(100, 3600000).default(5000),
  ADAPTER_CONCURRENCY: int(1, 1000).default(20),
  WS_MAX_PAYLOAD_BYTES: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  WS_MAX_SUBSCRIPTIONS: int(1, 1000).default(20),
  WS_AUTH_TIMEOUT_MS: int(100, 60000).default(10000),
  WS_SESSION_CHECK_MS: int(100, 60000).default(30000),
  // Pinged this often; a socket that has not answered the previous ping by the next is dropped (graphql-ws's own default).
  WS_KEEPALIVE_MS: int(100, 600000).default(12000),
  SHUTDOWN_GRACE_MS: int(0, 120000).default(10000),
  FILE_URL_TTL_SECONDS: int(10, 3600).default(300),
  FHIR_SUBSCRIPTION_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  SYNC_MAX_BODY_BYTES: int(1024, 10 * 1024 * 1024).default(256 * 1024),
  // A sync event whose processing failed (an unknown client, the database away) is tried again with capped backoff.
  SYNC_RETRY_BASE_MS: int(50, 3600000).default(5000),
  // An accepted event is the receiving instance's for this long; then any instance may process it (a crash in between).
  SYNC_CLAIM_MS: int(100, 600000).default(5000),
  // Events per source system per minute on POST /sync/events (0: no limit); over it 429 with Retry-After.
  SYNC_RATE_LIMIT_PER_MINUTE: int(0, 1000000).default(6000),
  SYNC_RETRY_MAX_MS: int(100, 86400000).default(3600000),
  SYNC_RETRY_MAX_ATTEMPTS: int(1, 100).default(12),
  VIDEO_READY_TTL_SECONDS: int(1, 86400).default(900),
  // The EHR write outbox (messages and every other write): how often it looks for due rows, its capped retry backoff, its dead letters.
  OUTBOX_POLL_MS: int(10, 600000).default(2000),
  OUTBOX_RETRY_BASE_MS: int(10, 3600000).default(1000),
  OUTBOX_RETRY_MAX_MS: int(100, 86400000).default(300000),
  // After this many failed attempts a row is a dead letter: no more retries, FAILED to the client, degraded /readyz, until an operator requeues it.
  OUTBOX_MAX_ATTEMPTS: int(1, 10000).default(20),
  // Message attachments: where they are kept (file:PATH embedded) and the largest upload (250 MB like the manual).
  FILE_STORAGE_URL: z
    .string()
    .regex(/^(file:.+|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^?]*)?(\?.*)?)$/, 'must be file:PATH or s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]')
    .default('file:data/files'),
  // For an s3:// store; both or neither (then the SDK's own chain: an instance or workload role).
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  UPLOAD_MAX_BYTES: int(1024, 2 * 1024 * 1024 * 1024).default(250 * 1024 * 1024),
  // Koppeltaal 2.0 (eHealth modules): the domain's FHIR server, our SMART backend-services client (private_key_jwt), its token endpoint.
  KOPPELTAAL_FHIR_URL: z.url().optional(),
  KOPPELTAAL_CLIENT_ID: z.string().min(1).optional(),
  KOPPELTAAL_TOKEN_URL: z.url().optional(),
  KOPPELTAAL_SCOPE: z.string().min(1).optional(),
  // Signs the client assertions and the HTI launch tokens (RS256 or ES256 by the key's type); published at /.well-known/jwks.json.
  KOPPELTAAL_PRIVATE_KEY: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }).optional(),
  KOPPELTAAL_KEY_ID: z.string().min(1).optional(),
  // The identifier system under which the EHR (KOPPELTAAL_EHR_SOURCE, default the first of EHR_ADAPTERS) registers its patient numbers in the domain.
  KOPPELTAAL_PATIENT_IDENTIFIER_SYSTEM: z.string().min(1).optional(),
  KOPPELTAAL_EHR_SOURCE: z.string().min(1).optional(),
  // The rest-hook's header secret (the Subscription's channel.header: Authorization: Bearer <secret>).
  KOPPELTAAL_SUBSCRIPTION_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  // An HTI launch token's lifetime (the IG: at most 5 minutes).
  KOPPELTAAL_LAUNCH_TTL_SECONDS: int(10, 300).default(120),
  TREATMENT_END_GRACE_DAYS: int(0, 3650).default(0),
  TREATMENT_END_READ_ONLY_DAYS: int(0, 3650).default(30),
  // Own accounts (password + a code by mail or SMS); 0: DigiD only, no password login.
  OWN_ACCOUNTS: bool.default(true),
  // The mail relay: smtp://user:pass@host:587 (STARTTLS, required in production) or smtps://…:465; unset: mail goes to the log.
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/\s]+\/?(\?\S*)?$/, 'must be smtp://user:pass@host:587 or smtps://user:pass@host:465')
    .optional(),
  // The sender of every mail, `Name <address>`.
  SMTP_FROM: z.string().trim().min(3).max(200).default('Cliëntenportaal <noreply@localhost>'),
  // SMS (login codes, phone confirmation) through CM.com's messages API; unset token: SMS goes to the log.
  SMS_GATEWAY_URL: z.url().default('https://gw.messaging.cm.com/v1.0/message'),
  SMS_PRODUCT_TOKEN: z.string().trim().min(8).optional(),
  // The sender a phone shows: up to 11 letters and digits, or a phone number.
  SMS_SENDER: z
    .string()
    .regex(/^([A-Za-z0-9 ]{1,11}|\+?\d{3,16})$/, 'must be up to 11 letters and digits, or a phone number')
    .default('Portaal'),
  // Who the portal's mails say they come from (an invitation names the care organisation).
  ORGANISATION_NAME: z.string().trim().min(1).max(100).default('uw zorgaanbieder'),
  // The retention job: whether this instance takes part (one at a time does the work, by a lease in the database), how often it runs,
  // how long the portal's own personal data outlives the treatment (730 days, as Koppeltaal's retention topic), and the access log
  // (at least 5 years, NEN 7513) before it is pruned, so many lines per transaction.
  RETENTION_JOB: bool.default(true),
  RETENTION_INTERVAL_MINUTES: int(1, 7 * 1440).default(1440),
  RETENTION_PERSONAL_DATA_DAYS: int(1, 36500).default(730),
  RETENTION_ACCESS_LOG_DAYS: int(1826, 36500).default(1826),
  RETENTION_ACCESS_LOG_BATCH: int(1, 100000).default(1000),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env, ReturnType<typeof slicesOf> {
  isProduction: boolean;
  database: { type: 'sqlite'; path: string } | { type: 'mysql'; url: string };
  /** The key that signs access tokens: HS256 with a secret, or RS256/ES256 with a PEM key. */
  sessionKey: { kind: 'secret'; secret: string } | { kind: 'pem'; privateKey: string };
  syncSecret: string;
  bsnHashKey: string;
  generatedSecrets: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`configuration error: ${variable} ${reason}`);
  }
}

/** Parses the environment into a Config; throws ConfigError naming the first wrong variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue.path[0] ?? 'environment');
    const shown = raw[variable] !== undefined && !/SECRET|KEY|TOKEN|SMTP_URL/.test(variable) ? ` (got '${raw[variable]}')` : '';
    throw new ConfigError(variable, `${issue.message}${shown}`);
  }
  const e = parsed.data;
  const isProduction = e.NODE_ENV === 'production';
  const database = e.DATABASE_URL.startsWith('sqlite:')
    ? ({ type: 'sqlite', path: e.DATABASE_URL.slice('sqlite:'.length) } as const)
    : ({ type: 'mysql', url: e.DATABASE_URL.replace(/^mariadb:/, 'mysql:') } as const);

  if (isProduction) {
    if (e.DEV_LOGIN) throw new ConfigError('DEV_LOGIN', 'must not be enabled in production');
    if (!e.SESSION_SECRET && !e.SESSION_PRIVATE_KEY) throw new ConfigError('SESSION_SECRET', 'or SESSION_PRIVATE_KEY is required in production');
    if (!e.SYNC_SECRET) throw new ConfigError('SYNC_SECRET', 'is required in production');
    if (database.type === 'sqlite') throw new ConfigError('DATABASE_URL', 'must point at MySQL/MariaDB in production, not SQLite');
    if (e.OIDC_ISSUER && !e.OIDC_ISSUER.startsWith('https://')) throw new ConfigError('OIDC_ISSUER', 'must be https:// in production');
    // The session cookies are Secure in production; a browser would drop them on an http callback.
    if (e.OIDC_REDIRECT_URI && !e.OIDC_REDIRECT_URI.startsWith('https://')) throw new ConfigError('OIDC_REDIRECT_URI', 'must be https:// in production');
    if (e.DEMO_SEED) throw new ConfigError('DEMO_SEED', 'must not be enabled in production');
    // Secure cookies and absolute links need the https address the browsers see.
    if (!e.PUBLIC_URL?.startsWith('https://')) throw new ConfigError('PUBLIC_URL', 'must be the https:// address of the gateway in production');
    if (e.FRONTEND_URL && !e.FRONTEND_URL.startsWith('https://')) throw new ConfigError('FRONTEND_URL', 'must be https:// in production');
    if (!e.BSN_HASH_KEY) throw new ConfigError('BSN_HASH_KEY', 'is required in production (it links DigiD logins to accounts)');
    // Login codes, resets and invitations of own accounts must reach people, not the log.
    if (e.OWN_ACCOUNTS && !e.SMTP_URL)
      throw new ConfigError('SMTP_URL', 'is required in production while own accounts are on (login codes and invitations go by mail); or set OWN_ACCOUNTS=0');
    if (!e.SMS_GATEWAY_URL.startsWith('https://')) throw new ConfigError('SMS_GATEWAY_URL', 'must be https:// in production');
    if (e.SMTP_URL && !env.SMTP_FROM)
      throw new ConfigError('SMTP_FROM', 'is required in production with SMTP_URL (the sender people see, e.g. GGZ Demo <noreply@ggz-demo.nl>)');
  }
  if (e.EHR_ADAPTERS.includes('fhir') && !e.FHIR_BASE_URL) throw new ConfigError('FHIR_BASE_URL', "is required when EHR_ADAPTERS names 'fhir'");
  if (!!e.S3_ACCESS_KEY_ID !== !!e.S3_SECRET_ACCESS_KEY)
    throw new ConfigError(e.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID', 'must be set together with the other S3 key');
  if (e.FHIR_AUTH === 'client_credentials' && (!e.FHIR_TOKEN_URL || !e.FHIR_CLIENT_ID || !e.FHIR_CLIENT_SECRET)) {
    throw new ConfigError('FHIR_AUTH', 'client_credentials needs FHIR_TOKEN_URL, FHIR_CLIENT_ID and FHIR_CLIENT_SECRET');
  }
  if (e.KOPPELTAAL_FHIR_URL) {
    for (const name of ['KOPPELTAAL_CLIENT_ID', 'KOPPELTAAL_TOKEN_URL', 'KOPPELTAAL_PATIENT_IDENTIFIER_SYSTEM'] as const)
      if (!e[name]) throw new ConfigError(name, 'is required with KOPPELTAAL_FHIR_URL');
    // A key made at start is for development only: modules and the domain must find the same key after a restart.
    if (!e.KOPPELTAAL_PRIVATE_KEY && isProduction) throw new ConfigError('KOPPELTAAL_PRIVATE_KEY', 'is required with KOPPELTAAL_FHIR_URL in production');
  }
  const oidcSet = [e.OIDC_ISSUER, e.OIDC_CLIENT_ID, e.OIDC_REDIRECT_URI].filter(Boolean).length;
  if (oidcSet > 0 && oidcSet < 3) throw new ConfigError('OIDC_ISSUER', 'OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_REDIRECT_URI go together');
  if (e.OIDC_CLIENT_PRIVATE_KEY && e.OIDC_CLIENT_SECRET)
    throw new ConfigError('OIDC_CLIENT_PRIVATE_KEY', 'and OIDC_CLIENT_SECRET exclude each other (one client authentication method)');

  const generatedSecrets: string[] = [];
  const sessionKey = e.SESSION_PRIVATE_KEY
    ? ({ kind: 'pem', privateKey: e.SESSION_PRIVATE_KEY } as const)
    : ({ kind: 'secret', secret: e.SESSION_SECRET ?? generate('SESSION_SECRET', generatedSecrets) } as const);
  const syncSecret = e.SYNC_SECRET ?? generate('SYNC_SECRET', generatedSecrets);

  // A stable development key, so a restart of `npm start` finds the same demo accounts by BSN.
  const bsnHashKey = e.BSN_HASH_KEY ?? 'development-only-bsn-hash-key';
  return { ...e, isProduction, database, sessionKey, syncSecret, bsnHashKey, generatedSecrets, ...slicesOf(e) };
}

/** What each part is given of the settings: its slice, named as it names them. */
function slicesOf(e: Env) {
  // Unset: the address the gateway listens on, known once it does (BrowserOrigins.listening).
  const publicUrl = e.PUBLIC_URL?.replace(/\/+$/, '') ?? null;
  return {
    browser: {
      publicUrl,
      frontendUrl: e.FRONTEND_URL?.replace(/\/+$/, '') ?? null,
      // Explicitly listed frontends; the gateway's own origin and FRONTEND_URL's are always allowed.
      corsOrigins: e.CORS_ORIGINS.split(',')
        .map((s) => s.trim().replace(/\/+$/, ''))
        .filter(Boolean),
      // Secure cookies (with the __Host- prefix) in production and wherever the gateway is reached over https.
      secureCookies: e.NODE_ENV === 'production' || !!publicUrl?.startsWith('https://') || !!e.OIDC_REDIRECT_URI?.startsWith('https://'),
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      sessionMaxSeconds: e.SESSION_MAX_HOURS * 3600,
    },
    sessions: { idleMinutes: e.SESSION_IDLE_MINUTES, maxHours: e.SESSION_MAX_HOURS, accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS },
    adapters: {
      timeoutMs: e.ADAPTER_TIMEOUT_MS,
      deadlineMs: e.ADAPTER_DEADLINE_MS,
      retries: e.ADAPTER_RETRIES,
      breakerThreshold: e.ADAPTER_BREAKER_THRESHOLD,
      halfOpenAfterMs: e.ADAPTER_BREAKER_HALF_OPEN_MS,
      concurrency: e.ADAPTER_CONCURRENCY,
    },
    outbox: { pollMs: e.OUTBOX_POLL_MS, retryBaseMs: e.OUTBOX_RETRY_BASE_MS, retryMaxMs: e.OUTBOX_RETRY_MAX_MS, maxAttempts: e.OUTBOX_MAX_ATTEMPTS },
    syncRetry: { baseMs: e.SYNC_RETRY_BASE_MS, maxMs: e.SYNC_RETRY_MAX_MS, maxAttempts: e.SYNC_RETRY_MAX_ATTEMPTS, claimMs: e.SYNC_CLAIM_MS },
    retention: {
      personalDataDays: e.RETENTION_PERSONAL_DATA_DAYS,
      accessLogDays: e.RETENTION_ACCESS_LOG_DAYS,
      accessLogBatch: e.RETENTION_ACCESS_LOG_BATCH,
      everyMs: e.RETENTION_INTERVAL_MINUTES * 60_000,
      closesAfterDays: e.TREATMENT_END_GRACE_DAYS + e.TREATMENT_END_READ_ONLY_DAYS,
    },
    ws: {
      maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      maxSubscriptions: e.WS_MAX_SUBSCRIPTIONS,
      authTimeoutMs: e.WS_AUTH_TIMEOUT_MS,
      sessionCheckMs: e.WS_SESSION_CHECK_MS,
      keepAliveMs: e.WS_KEEPALIVE_MS,
    },
  };
}

function generate(name: string, generated: string[]): string {
  generated.push(name);
  return randomBytes(32).toString('base64url');
}

/** Migrations run at start on the embedded SQLite default; on MySQL, `npm run migrate` runs them (or MIGRATE_ON_START=1). */
export function shouldMigrateOnStart(config: Config): boolean {
  return config.MIGRATE_ON_START ?? config.database.type === 'sqlite';
}

/** The demo seed runs by default only where the demo adapter serves on the embedded defaults. */
export function shouldSeedDemo(config: Config): boolean {
  return config.DEMO_SEED ?? (!config.isProduction && config.EHR_ADAPTERS.includes('demo'));
}
