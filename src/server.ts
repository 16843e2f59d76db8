import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { EhrAdapter, MailPort, SmsPort } from '../adapters/ports';
import { AccountsService } from './modules/identity/accounts.service';
import type { RouteAccess } from './auth/operations';
import { BrowserOrigins } from './http/origins';
import { memoryApqCache, sharedApqCache, type ApqCache } from './graphql/apq-cache';
import { SessionCookies } from './http/cookies';
import { mountRoutes } from './http/routes';
import { portalPage } from './http/portal-page';
import { identityRoutes } from './modules/identity/identity.routes';
import { filesRoutes } from './modules/files/files.routes';
import { syncRoutes } from './events/sync.routes';
import { exportRoutes } from './modules/export/export.route';
import { ehealthRoutes } from './modules/ehealth/ehealth.routes';
import { EhealthService } from './modules/ehealth/ehealth.service';
import { LaunchKey } from './modules/ehealth/launch-key';
import { OwnAccountsService } from './modules/identity/own-accounts.service';
import { phoneOnFileReader } from './modules/identity/phone-on-file';
import { RateLimiter } from './kv/rate-limit';
import { SessionsService } from './modules/identity/sessions.service';
import { TokenService } from './auth/tokens';
import { AccessLogService } from './audit/access-log.service';
import { shouldMigrateOnStart, shouldSeedDemo, type Config } from './config';
import { openDatabase } from './db/data-source';
import { createApollo, queryProtection } from './graphql/apollo';
import { KnownOperations } from './graphql/execution/jit-executor';
import { ErrorCode } from './errors';
import { buildGatewaySchema } from './schema';
import { createWebSocketServer } from './graphql/ws';
import { FileUrlSigner } from './modules/files/file-urls';
import { TrustedDocuments } from './graphql/trusted-documents';
import { graphqlRoute } from './http/graphql.route';
import { DirectPath } from './graphql/execution/direct-path';
import { LiveDelivery } from './live/live-delivery';
import { sendError } from './http/io';
import { opsRoutes } from './http/ops.route';
import { type EventBus, InProcessEventBus } from './events/event-bus';
import { RedisEventBus } from './events/redis-event-bus';
import { SyncService } from './events/sync.service';
import { VideoService } from './modules/video/video.service';
import { messageWritePreparer } from './modules/messages/message-writes';
import { MessagesService, practitionerName } from './modules/messages/messages.service';
import { AttachmentsService } from './modules/files/attachments.service';
import { MessageMailer } from './modules/messages/message-mail';
import { ChangeMailer } from './modules/portal/change-mail';
import type { Action } from './auth/access';
import { authorizeAccount } from './graphql/gate-readers';
import { MemoryKeyValueStore, RedisKeyValueStore, type KeyValueStore } from './kv/kv';
import { ClientsService } from './modules/clients/clients.service';
import { ConsentsService } from './modules/consents/consents.service';
import { JournalService } from './modules/journal/journal.service';
import { QuestionnairesService } from './modules/questionnaires/questionnaires.service';
import { EhrWrites, payloadOf } from './modules/ehr/ehr-writes';
import { NetworkService } from './modules/network/network.service';
import { OnboardingService } from './modules/onboarding/onboarding.service';
import { loadEhrAdapters, loadFileStorage, loadKoppeltaal, loadMailPort, loadSmsPort, type EhrAdapterSettings } from '../adapters/loader';
import { DEMO_PEOPLE } from '../adapters/demo/demo-data';
import { fhirAuthFrom } from '../adapters/fhir/fhir.adapter';
import { AdapterRegistry } from './modules/ehr/adapter-registry';
import { EhrCache } from './modules/ehr/ehr-cache';
import { RequestEhr, type EhrRequestInfo } from './modules/ehr/ehr.service';
import { seedDemoAccounts } from './modules/portal/demo-seed';
import { RetentionJob } from './modules/retention/retention.service';
import { createLogger, type Logger } from './observability/logger';
import { Metrics } from './observability/metrics';
import type { Services } from './services';

export interface AppOptions {
  logger?: Logger;
  /** Replace configured adapters by name (tests and benchmarks pass instrumented ones). */
  adapters?: Record<string, EhrAdapter>;
  /** Where mail and SMS go; the embedded default writes them to the log. */
  mail?: MailPort;
  sms?: SmsPort;
}

export interface App {
  readonly config: Config;
  readonly services: Services;
  readonly db: DataSource;
  readonly logger: Logger;
  /** The HTTP routes this instance serves, with what each asks (docs/authorisation.md, the matrix test). */
  readonly routes: readonly { name: string; path: string; access: RouteAccess }[];
  /** Listens on config.PORT (0 picks a free port); answers the base URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
  url(): string;
}

/** The composition root: builds config-driven services, picks adapters, wires HTTP and WebSocket. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const trustedDocuments = config.TRUSTED_DOCUMENTS ? TrustedDocuments.load(config.TRUSTED_DOCUMENTS) : null;
  const metrics = new Metrics({ knownOperations: trustedDocuments?.operationNames() ?? null });
  const db = await openDatabase(config.database, shouldMigrateOnStart(config));
  const shared = connectShared(config, logger);
  const registry = new AdapterRegistry(loadEhrAdapters(ehrAdapterSettings(config), options.adapters), config.adapters, metrics, logger);
  const { services, sync, mailer } = buildServices({ config, options, logger, metrics, db, registry, trustedDocuments, ...shared });

  if (shouldSeedDemo(config) && registry.has('demo')) await seedDemoAccounts(services.accounts, services.clients, DEMO_PEOPLE, services.ownAccounts);
  rebuildDenyListOnReconnect(shared.redis, services, logger);

  const schema = await buildGatewaySchema(shared.events);
  const known = config.GRAPHQL_EXECUTOR === 'jit' && config.GRAPHQL_DIRECT_PATH ? new KnownOperations() : undefined;
  const apq = apqCacheFor(config, shared, logger);
  const apollo = createApollo(schema, config, metrics, logger, { known, apq });
  await apollo.start();
  const protection = queryProtection(config);
  const ws = createWebSocketServer(schema, services, logger, protection.validationRules, protection.maxTokens);

  const lifecycle = { shuttingDown: false, inFlight: 0 };
  // The outbox to the EHRs (messages and every other write) for the operator.
  const outboxCounts = () => services.ehrWrites.counts();
  const syncCounts = () => sync.counts();
  const ops = opsRoutes(services, db, () => lifecycle.shuttingDown, outboxCounts, syncCounts);
  metrics.outboxCounts = outboxCounts;
  metrics.syncEventCounts = syncCounts;
  metrics.fileDeletionsPending = () => services.attachments.queuedDeletions();
  const graphql = graphqlRoute(apollo, services, logger, known ? new DirectPath(known, metrics, apq) : undefined);
  // Every module's routes, each at the path its row in ROUTES gives (docs/authorisation.md lists them).
  const { routes, dispatch } = mountRoutes(
    {
      graphql: (req, res, url, id) => graphql(req, res, url, id),
      healthz: (req, res) => ops.healthz(req, res),
      readyz: (req, res) => ops.readyz(req, res),
      metrics: (req, res) => ops.metrics(req, res),
      ...identityRoutes(services, logger),
      ...filesRoutes(services, logger),
      ...syncRoutes(services, sync, logger),
      ...exportRoutes(services, logger),
      ...ehealthRoutes(config, services.ehealth, logger),
      // The reference portal page at `/` where the dev login is (examples/portal-web); last, so every other path is matched first.
      ...((page) => (page ? { portal_page: page } : {}))(config.DEV_LOGIN && !config.isProduction ? portalPage() : null),
    },
    services.origins,
  );
  const httpServer = httpServerFor(dispatch, ws, lifecycle, metrics, logger);
  // Closed portals' own personal data and the access log beyond its retention (README, "Retention").
  const retention = new RetentionJob({ db, audit: services.audit, attachments: services.attachments, logger, settings: config.retention });

  let baseUrl = '';
  let uploadSweep: NodeJS.Timeout | undefined;
  return {
    config,
    services,
    db,
    logger,
    routes: routes.map(({ name, path, access }) => ({ name, path, access })),
    url: () => baseUrl,
    async start() {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.PORT, config.HOST, () => resolve());
      });
      const { port } = httpServer.address() as AddressInfo;
      baseUrl = `http://localhost:${port}`;
      services.origins.listening(baseUrl);
      // A store that starts empty (a new or restarted Redis) gets the deny-list from the sessions table.
      await services.sessions
        .rebuildDenyList()
        .catch((err: Error) => logger.warn({ err: err.message }, 'session deny-list rebuild failed; retried at the first check'));
      // Whether each EHR answers, once, so the log and /readyz say so from the start.
      await registry.probe(config.ADAPTER_TIMEOUT_MS);
      // Events answered 202 before a crash are processed now, in the background.
      sync.resumeInBackground();
      sync.startRetries();
      // Writes stored but not yet taken by their EHR (messages, questionnaire answers…; an outage, a stop or crash in between) go out now.
      services.ehrWrites.start();
      uploadSweep = sweepUnusedUploads(services, config, logger);
      if (config.RETENTION_JOB) retention.start();
      return baseUrl;
    },
    /** Graceful: stop accepting, close sockets with 1001, let in-flight requests finish, close pools. */
    async stop() {
      lifecycle.shuttingDown = true;
      clearInterval(uploadSweep);
      const closed = new Promise<void>((resolve) => (httpServer.listening ? httpServer.close(() => resolve()) : resolve()));
      httpServer.closeIdleConnections();
      await ws.close();
      const deadline = Date.now() + config.SHUTDOWN_GRACE_MS;
      while (lifecycle.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      httpServer.closeAllConnections();
      await closed;
      await apollo.stop();
      await sync.drain();
      await services.ehealth.drain();
      await services.ehrWrites.stop();
      await retention.stop();
      await mailer.drain();
      await shared.events.close();
      await registry.close();
      await db.destroy();
      if (shared.redis) await shared.redis.quit().catch(() => shared.redis?.disconnect());
    },
  };
}

/** Redis when REDIS_URL is set (the shared key-value store and the bus between instances), in-process otherwise. */
function connectShared(config: Config, logger: Logger): { redis: Redis | null; kv: KeyValueStore; events: EventBus } {
  if (!config.REDIS_URL) return { redis: null, kv: new MemoryKeyValueStore(), events: new InProcessEventBus() };
  const redis = new Redis(config.REDIS_URL, {
    keyPrefix: config.REDIS_KEY_PREFIX,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // A Redis that is frozen or gone makes a command fail within this, never hang a request.
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(200 * times, 2000),
  });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection problem'));
  // Live events cross instances through Redis; the database stays the truth either way.
  const events = new RedisEventBus({
    url: config.REDIS_URL,
    prefix: config.REDIS_KEY_PREFIX,
    logger,
    connectionName: `ggz-events-${config.REDIS_KEY_PREFIX.replace(/[^\w-]/g, '_')}`,
  });
  return { redis, kv: new RedisKeyValueStore(redis, config.REDIS_KEY_PREFIX), events };
}

function ehrAdapterSettings(config: Config): EhrAdapterSettings {
  const fhir = config.FHIR_BASE_URL
    ? {
        baseUrl: config.FHIR_BASE_URL,
        auth: fhirAuthFrom(config),
        intakeQuestionnaire: config.FHIR_INTAKE_QUESTIONNAIRE,
        inlineAttachmentMaxBytes: config.FHIR_INLINE_ATTACHMENT_MAX_BYTES,
      }
    : undefined;
  return { names: config.EHR_ADAPTERS, fhir };
}

interface Parts {
  config: Config;
  options: AppOptions;
  logger: Logger;
  metrics: Metrics;
  db: DataSource;
  registry: AdapterRegistry;
  trustedDocuments: TrustedDocuments | null;
  kv: KeyValueStore;
  events: EventBus;
}

/** APQ's texts: shared through Redis when configured, in this instance's memory otherwise; none beside a safelist. */
function apqCacheFor(config: Config, shared: ReturnType<typeof connectShared>, logger: Logger): ApqCache | null {
  if (!config.APQ || config.TRUSTED_DOCUMENTS) return null;
  return shared.redis ? sharedApqCache(shared.kv, config.APQ_TTL_SECONDS, logger) : memoryApqCache(config.APQ_MEMORY_BYTES, config.APQ_TTL_SECONDS);
}

/** Every service, each given by name what it uses and its slice of the settings. */
function buildServices({ config, options, logger, metrics, db, registry, trustedDocuments, kv, events }: Parts) {
  const tokens = new TokenService(config.sessionKey, config.SESSION_KEY_ID, config.ACCESS_TOKEN_TTL_SECONDS);
  const clients = new ClientsService(db);
  const sessions = new SessionsService({ db, tokens, kv, policy: config.sessions, logger, metrics });
  const audit = new AccessLogService(db);
  const accounts = new AccountsService({ db, clients, adapters: registry, bsnHashKey: config.bsnHashKey, kv, audit });
  const mail = loadMailPort(
    { smtpUrl: config.SMTP_URL, from: config.SMTP_FROM, requireTls: config.isProduction, log: logger, showText: !config.isProduction },
    options.mail,
  );
  const { port: sms, real: realSms } = loadSmsPort(
    { gatewayUrl: config.SMS_GATEWAY_URL, productToken: config.SMS_PRODUCT_TOKEN, sender: config.SMS_SENDER, log: logger, showText: !config.isProduction },
    options.sms,
  );
  // Mail links open pages of the portal frontend (origins.page); download links point at this gateway (origins.absolute).
  const origins = new BrowserOrigins({ ...config.browser, isProduction: config.isProduction, port: config.PORT });
  const limiter = new RateLimiter(kv);
  const ehrCache = new EhrCache(kv, config.CACHE_TTL_SECONDS);
  const readEhr = (info: EhrRequestInfo) => new RequestEhr(registry, clients, info, ehrCache);
  const ownAccounts = new OwnAccountsService({
    db,
    accounts,
    sessions,
    limiter,
    kv,
    mail,
    sms,
    logger,
    metrics,
    origins,
    enabled: config.OWN_ACCOUNTS,
    phoneOnFile: realSms ? phoneOnFileReader({ accounts, readEhr, audit }) : undefined,
  });
  const s3Credentials =
    config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } : undefined;
  const attachments = new AttachmentsService(db, loadFileStorage(config.FILE_STORAGE_URL, s3Credentials), config.UPLOAD_MAX_BYTES);
  const questionnaires = new QuestionnairesService(db);
  const ehrWrites = new EhrWrites({ db, registry, logger, kv, options: config.outbox, ...ehrWriteHooks(db, questionnaires, attachments, ehrCache) });
  const notifying = {
    accounts,
    kv,
    mail,
    logger,
    origins,
    // Asked when a message or event arrives, long after `services` below exists.
    authorize: (accountId: string, clientId: string, action: Action) => authorizeAccount(services, logger, accountId, clientId, action),
  };
  const mailer = new MessageMailer({ db, ...notifying });
  const changes = new ChangeMailer(notifying);
  const video = new VideoService(db, events, config.VIDEO_READY_TTL_SECONDS);
  const messages = new MessagesService({
    db,
    bus: events,
    writes: ehrWrites,
    practitionerName: (id) => practitionerName(registry, id),
    attachments,
    onAdded: (message) => mailer.notify(message),
  });
  const services: Services = {
    config,
    kv,
    metrics,
    tokens,
    registry,
    ehrCache,
    readEhr,
    clients,
    consents: new ConsentsService(db),
    journal: new JournalService(db),
    questionnaires,
    ehrWrites,
    network: new NetworkService({ db, accounts, ownAccounts, sessions, mail, origins }),
    trustedDocuments,
    sessions,
    accounts,
    ownAccounts,
    audit,
    fileUrls: new FileUrlSigner(
      config.sessionKey.kind === 'secret' ? config.sessionKey.secret : config.sessionKey.privateKey,
      config.FILE_URL_TTL_SECONDS,
      (path) => origins.absolute(path),
    ),
    events,
    video,
    messages,
    attachments,
    limiter,
    // Its rooms are made on a subscription's first use, long after `services` exists.
    live: new LiveDelivery({ services: () => services, logger }),
    origins,
    cookies: new SessionCookies(config.browser),
    ehealth: ehealthService(config, clients, events, logger, metrics, kv),
  };
  const sync = new SyncService({
    db,
    bus: events,
    video,
    logger,
    metrics,
    retry: config.syncRetry,
    ehrCache,
    messages,
    clients,
    announce: (kind, clientId) => changes.notify(kind, clientId),
    onboarding: new OnboardingService({
      clients,
      registry,
      accounts,
      ownAccounts,
      audit: services.audit,
      mail,
      sms,
      logger,
      organisationName: config.ORGANISATION_NAME,
      portalUrl: () => origins.page('/'),
      ownAccountsEnabled: config.OWN_ACCOUNTS,
    }),
  });
  return { services, sync, mailer: { drain: () => Promise.all([mailer.drain(), changes.drain()]).then(() => undefined) } };
}

/** The Koppeltaal domain (its FHIR server, or the demo one outside production) and the key our launches are signed with. */
function ehealthService(config: Config, clients: ClientsService, bus: EventBus, logger: Logger, metrics: Metrics, kv: KeyValueStore): EhealthService {
  const key = LaunchKey.from(config.KOPPELTAAL_PRIVATE_KEY, config.KOPPELTAAL_KEY_ID);
  const clientId = config.KOPPELTAAL_CLIENT_ID ?? 'ggz-portal-gateway';
  const fhir =
    config.KOPPELTAAL_FHIR_URL && config.KOPPELTAAL_TOKEN_URL && config.KOPPELTAAL_PATIENT_IDENTIFIER_SYSTEM
      ? {
          baseUrl: config.KOPPELTAAL_FHIR_URL,
          auth: {
            tokenUrl: config.KOPPELTAAL_TOKEN_URL,
            clientId,
            privateKey: key.privateKey,
            keyId: key.keyId,
            algorithm: key.algorithm,
            scope: config.KOPPELTAAL_SCOPE,
          },
          patientIdentifierSystem: config.KOPPELTAAL_PATIENT_IDENTIFIER_SYSTEM,
          ehrSource: config.KOPPELTAAL_EHR_SOURCE ?? config.EHR_ADAPTERS[0],
          resilience: { ...config.adapters, timeoutMs: config.ADAPTER_TIMEOUT_MS },
        }
      : undefined;
  const port = loadKoppeltaal({ fhir, demo: !config.isProduction && config.EHR_ADAPTERS.includes('demo') });
  return new EhealthService({ port, clients, bus, key, clientId, launchTtlSeconds: config.KOPPELTAAL_LAUNCH_TTL_SECONDS, logger, metrics, kv });
}

/** Back after an outage: what was revoked meanwhile reached only the sessions table, so the deny-list is written again. */
function rebuildDenyListOnReconnect(redis: Redis | null, services: Services, logger: Logger): void {
  let wasDown = false;
  redis?.on('close', () => (wasDown = true));
  redis?.on('ready', () => {
    if (!wasDown) return;
    wasDown = false;
    logger.info('redis is back: rebuilding the session deny-list');
    services.sessions.rebuildDenyList().catch((err: Error) => logger.warn({ err: err.message }, 'session deny-list rebuild failed'));
  });
}

/** node:http in front of the routes: a request id, nosniff, the metrics, a 500 that names a reference, WebSocket upgrades on /graphql. */
function httpServerFor(
  dispatch: ReturnType<typeof mountRoutes>['dispatch'],
  ws: ReturnType<typeof createWebSocketServer>,
  lifecycle: { shuttingDown: boolean; inFlight: number },
  metrics: Metrics,
  logger: Logger,
): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    lifecycle.inFlight++;
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && /^[\w.-]{8,64}$/.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-content-type-options', 'nosniff');
    if (lifecycle.shuttingDown) res.setHeader('connection', 'close');
    let routeName = 'unknown';
    try {
      routeName = await dispatch(req, res, new URL(req.url ?? '/', 'http://gateway.local'), requestId);
    } catch (err) {
      logger.error({ err, requestId, path: req.url?.split('?')[0] }, 'request failed');
      if (!res.headersSent) sendError(res, 500, ErrorCode.UPSTREAM_UNAVAILABLE, `Something went wrong on our side (reference ${requestId}).`);
      else res.destroy();
    } finally {
      lifecycle.inFlight--;
      metrics.httpRequests.inc({ route: routeName, status: String(res.statusCode) });
    }
  };
  const httpServer = createServer((req, res) => void handle(req, res));
  httpServer.keepAliveTimeout = 65_000;
  httpServer.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://gateway.local').pathname !== '/graphql') {
      socket.destroy();
      return;
    }
    ws.handleUpgrade(req, socket, head);
  });
  return httpServer;
}

/** Uploads that no message took are removed after UPLOAD_UNUSED_TTL_HOURS (checked hourly, or sooner for a shorter time). */
function sweepUnusedUploads(services: Services, config: Config, logger: Logger): NodeJS.Timeout {
  const unusedAfter = config.UPLOAD_UNUSED_TTL_HOURS * 3_600_000;
  const timer = setInterval(
    () => void services.attachments.removeUnused(unusedAfter).catch((err: Error) => logger.warn({ err: err.message }, 'removing unused uploads failed')),
    Math.min(unusedAfter, 3_600_000),
  );
  timer.unref();
  return timer;
}

/**
 * What the portal does around its writes to the EHRs (the EHR write outbox): a message and the bytes
 * of an upload when they go, and its own records once the EHR took or refused a write.
 */
function ehrWriteHooks(
  db: DataSource,
  questionnaires: QuestionnairesService,
  attachments: AttachmentsService,
  ehrCache: EhrCache,
): Pick<ConstructorParameters<typeof EhrWrites>[0], 'prepare' | 'onDelivered' | 'onRefused'> {
  const message = messageWritePreparer(db, attachments);
  return {
    prepare: async (row, input) => {
      if (row.method === 'sendMessage' || row.method === 'withdrawMessage') return message(row, input);
      // An upload goes with its bytes, read from file storage when it goes (gone from storage: retried, never sent without them).
      if (row.method !== 'uploadDocument') return input;
      const stored = input as { uploadId: string };
      return {
        ...stored,
        content: async () => {
          const upload = await attachments.find(stored.uploadId);
          const stream = upload ? await attachments.content(upload) : null;
          if (!stream) throw new Error(`upload ${stored.uploadId} is missing from file storage`);
          return stream;
        },
      };
    },
    onDelivered: async (row) => {
      if (row.method === 'uploadDocument') {
        // The EHR holds it now; the portal keeps no copy.
        const { uploadId, documentId } = payloadOf(row).input as { uploadId: string; documentId: string };
        await attachments.removeFiled(uploadId, documentId);
        return ehrCache.dropPart(row.clientId, row.source, 'listDocuments');
      }
      if (row.method === 'setConsent') return ehrCache.dropPart(row.clientId, row.source, 'listConsents');
      if (row.method === 'cancelAppointment') return ehrCache.dropPart(row.clientId, row.source, 'listAppointments');
      if (row.method === 'addTreatmentGoal' || row.method === 'removeTreatmentGoal') return ehrCache.dropPart(row.clientId, row.source, 'getTreatmentPlan');
      if (row.method === 'approve') {
        // The EHR's own record of the akkoord shows from now on.
        for (const part of ['listDocuments', 'getTreatmentPlan', 'listSessionReports']) await ehrCache.dropPart(row.clientId, row.source, part);
        return;
      }
      if (row.method !== 'saveQuestionnaireAnswers') return;
      // The EHR has the answers now: the portal's waiting draft goes, and the EHR's completed response shows.
      await questionnaires.removeDraft(row.clientId, row.subject);
      await ehrCache.dropPart(row.clientId, row.source, 'listQuestionnaireAssignments');
    },
    // Refused (another set was sent meanwhile): the draft is open again; the EHR's own answers show if it has them.
    onRefused: async (row) => {
      if (row.method === 'saveQuestionnaireAnswers') await questionnaires.reopen(row.clientId, row.subject);
      if (row.method === 'uploadDocument') {
        const { uploadId, documentId } = payloadOf(row).input as { uploadId: string; documentId: string };
        await attachments.releaseFromDocument(uploadId, documentId);
      }
    },
  };
}
