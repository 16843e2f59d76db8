import type { AccountsService } from './modules/identity/accounts.service';
import type { OwnAccountsService } from './modules/identity/own-accounts.service';
import type { SessionsService } from './modules/identity/sessions.service';
import type { TokenService } from './auth/tokens';
import type { AccessLogService } from './audit/access-log.service';
import type { BrowserOrigins } from './http/origins';
import type { SessionCookies } from './http/cookies';
import type { Config } from './config';
import type { EventBus } from './events/event-bus';
import type { FileUrlSigner } from './modules/files/file-urls';
import type { TrustedDocuments } from './graphql/trusted-documents';
import type { KeyValueStore } from './kv/kv';
import type { ClientsService } from './modules/clients/clients.service';
import type { ConsentsService } from './modules/consents/consents.service';
import type { JournalService } from './modules/journal/journal.service';
import type { QuestionnairesService } from './modules/questionnaires/questionnaires.service';
import type { EhrWrites } from './modules/ehr/ehr-writes';
import type { NetworkService } from './modules/network/network.service';
import type { AdapterRegistry } from './modules/ehr/adapter-registry';
import type { EhrCache } from './modules/ehr/ehr-cache';
import type { EhrRequestInfo, RequestEhr } from './modules/ehr/ehr.service';
import type { VideoService } from './modules/video/video.service';
import type { MessagesService } from './modules/messages/messages.service';
import type { AttachmentsService } from './modules/files/attachments.service';
import type { Metrics } from './observability/metrics';
import type { RateLimiter } from './kv/rate-limit';
import type { LiveDelivery } from './live/live-delivery';
import type { EhealthService } from './modules/ehealth/ehealth.service';

/** The services the composition root builds once and hands to every request. */
export interface Services {
  config: Config;
  kv: KeyValueStore;
  metrics: Metrics;
  tokens: TokenService;
  sessions: SessionsService;
  accounts: AccountsService;
  /** Password + second-factor login, activation codes, password reset. */
  ownAccounts: OwnAccountsService;
  clients: ClientsService;
  consents: ConsentsService;
  journal: JournalService;
  questionnaires: QuestionnairesService;
  /** The outbox of the client's writes to the EHRs (questionnaire answers, akkoorden, consents, goals, the shared story, documents). */
  ehrWrites: EhrWrites;
  /** The personal network: invitations and members. */
  network: NetworkService;
  registry: AdapterRegistry;
  /** Read-through cache of EHR answers per client, source and part. */
  ehrCache: EhrCache;
  /** The EHR reader of one request (its DataLoaders are never shared between viewers). */
  readEhr(info: EhrRequestInfo): RequestEhr;
  audit: AccessLogService;
  fileUrls: FileUrlSigner;
  /** The operation safelist, when TRUSTED_DOCUMENTS is configured (production frontends). */
  trustedDocuments: TrustedDocuments | null;
  /** Live events between instances (Redis) or within this one. */
  events: EventBus;
  video: VideoService;
  /** Conversations and messages the portal owns (their EHR copies go through the outbox). */
  messages: MessagesService;
  /** Uploaded files (message attachments) in file storage. */
  attachments: AttachmentsService;
  /** Fixed-window limits (LIMITS) shared by every instance through the key-value store. */
  limiter: RateLimiter;
  /** The live rooms of every kind of subscription on this instance. */
  live: LiveDelivery;
  /** The portal's frontends (CORS, WebSocket cookies, where a login lands) and absolute links. */
  origins: BrowserOrigins;
  /** eHealth modules through Koppeltaal 2.0 and their HTI launches. */
  ehealth: EhealthService;
  /** The browser session's httpOnly cookies. */
  cookies: SessionCookies;
}
