import { In, IsNull, Not, type EntityManager, type EntityTarget, type FindOptionsWhere, type ObjectLiteral, type DataSource } from 'typeorm';
import type { AccessLogService } from '../../audit/access-log.service';
import { SyncEventEntity } from '../../events/sync-event.entity';
import type { Logger } from '../../observability/logger';
import { ClientEntity, ClientSourceEntity } from '../clients/client.entity';
import { PortalConsentEntity } from '../consents/portal-consent.entity';
import { EhrWriteEntity } from '../ehr/ehr-write.entity';
import { PollLoop } from '../ehr/poll-loop';
import type { AttachmentsService } from '../files/attachments.service';
import { AccountEntity } from '../identity/account.entity';
import { AccountCredentialsEntity, ActivationCodeEntity, LoginChallengeEntity, PasswordResetEntity } from '../identity/credentials.entity';
import { PortalLinkEntity } from '../identity/portal-link.entity';
import { RefreshTokenEntity, SessionEntity } from '../identity/session.entity';
import { ClientStoryEntity, DiaryEntryEntity } from '../journal/journal.entity';
import { AttachmentEntity, ConversationEntity, ConversationParticipantEntity, ConversationReaderEntity, MessageEntity } from '../messages/message.entity';
import { InvitationEntity } from '../network/invitation.entity';
import { QuestionnaireDraftEntity } from '../questionnaires/questionnaire-draft.entity';
import { VideoRoomEntity } from '../video/video-room.entity';
import { ClientTreatmentEndEntity } from '../clients/client-treatment.entity';
import { JobLease } from './job-lease';
import { RetentionRemovalEntity } from './job-lease.entity';

const DAY_MS = 86_400_000;
/** A run that holds the lease longer than this without renewing it (a crash) loses it to another instance. */
const LEASE_MS = 15 * 60_000;

/**
 * What the retention job does with each table of the portal's database for a closed client past
 * the retention (the README's table says why). Every table has its line: a module that adds a
 * table decides here (the retention test fails for a table without one, and for a line naming a
 * table that does not exist).
 */
export const RETENTION_OF_TABLE = {
  messages: 'removed',
  conversations: 'removed',
  conversation_participants: 'removed',
  conversation_readers: 'removed',
  message_attachments: 'removed',
  diary_entries: 'removed',
  client_stories: 'removed',
  questionnaire_drafts: 'removed',
  portal_consents: 'removed',
  network_invitations: 'removed',
  activation_codes: 'removed',
  video_rooms: 'removed',
  ehr_writes: 'removed',
  sync_events: 'removed',
  portal_links: 'removed',
  accounts: 'removed',
  account_credentials: 'removed',
  sessions: 'removed',
  refresh_tokens: 'removed',
  login_challenges: 'removed',
  password_resets: 'removed',
  clients: 'kept',
  client_sources: 'kept',
  client_treatment_ends: 'kept',
  access_log: 'kept',
  job_leases: 'no personal data',
  access_log_prune: 'no personal data',
  retention_removals: 'no personal data',
  stored_file_deletions: 'no personal data',
} as const satisfies Record<string, 'removed' | 'kept' | 'no personal data'>;

type Table = keyof typeof RETENTION_OF_TABLE;
/** The tables a removal step may name: those decided as removed. */
type RemovedTable = { [T in Table]: (typeof RETENTION_OF_TABLE)[T] extends 'removed' ? T : never }[Table];

export interface RetentionSettings {
  /** RETENTION_PERSONAL_DATA_DAYS: the portal's own personal data is kept this long after treatment ended. */
  personalDataDays: number;
  /** RETENTION_ACCESS_LOG_DAYS: access-log lines are kept this long, then pruned. */
  accessLogDays: number;
  /** RETENTION_ACCESS_LOG_BATCH: lines deleted per transaction. */
  accessLogBatch: number;
  /** RETENTION_INTERVAL_MINUTES, in ms: how often the job runs (across all instances together). */
  everyMs: number;
  /** The portal closes TREATMENT_END_GRACE_DAYS + TREATMENT_END_READ_ONLY_DAYS after treatment ended; never removed before. */
  closesAfterDays: number;
}

/** What one run removed (or, in a dry run, would remove), per table. */
export interface RetentionReport {
  /** False when another instance holds the job or it is not due yet. */
  ran: boolean;
  dryRun: boolean;
  /** Clients whose portal's own personal data went. */
  clients: string[];
  /** Rows per table (`files` is stored upload bytes). */
  removed: Record<string, number>;
  accessLogPruned: number;
  accessLogBatches: number;
  /** Stored files still to be deleted after this run (their storage failed): queued, tried again by the next sweep. */
  filesPending: number;
}

export interface RetentionJobOptions {
  db: DataSource;
  audit: AccessLogService;
  attachments: AttachmentsService;
  logger: Logger;
  settings: RetentionSettings;
  /** The job's clock (tests move it). */
  now?: () => Date;
  /** Tells instances apart in the lease (default: random per job). */
  holder?: string;
}

/**
 * Removes the portal's own personal data of portals closed for longer than the retention after
 * treatment ended, and prunes the access log beyond its own retention. Every instance runs it; a
 * lease row in the database lets one at a time do the work, once per interval. See the README's
 * retention table for what each table keeps.
 */
export class RetentionJob {
  private readonly lease: JobLease;
  private readonly now: () => Date;
  private readonly loop: PollLoop;
  private stopping = false;

  constructor(private readonly deps: RetentionJobOptions) {
    this.now = deps.now ?? (() => new Date());
    this.lease = new JobLease(deps.db, 'retention', LEASE_MS, deps.holder);
    // Instances look every ten minutes at most whether the job is due; the lease makes it run once per interval.
    this.loop = new PollLoop(() => this.runOnce(), Math.min(deps.settings.everyMs, 600_000), deps.logger, 'retention');
  }

  start(): void {
    this.stopping = false;
    this.loop.start();
  }

  /** Stops between two steps (a client, a batch of the log); waits for the current one. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
  }

  /** One run when due and this instance gets the lease; `dryRun` counts without removing (and takes no lease). */
  async runOnce(options: { dryRun?: boolean; force?: boolean } = {}): Promise<RetentionReport> {
    const dryRun = !!options.dryRun;
    const report: RetentionReport = { ran: false, dryRun, clients: [], removed: {}, accessLogPruned: 0, accessLogBatches: 0, filesPending: 0 };
    const startedAt = this.now();
    if (!dryRun && !(await this.lease.take(startedAt, options.force ? 0 : this.deps.settings.everyMs))) return report;
    report.ran = true;
    let finished = false;
    try {
      // Files an earlier run (or a message deletion) could not delete from storage: first, before new ones queue up.
      if (!dryRun) await this.deps.attachments.deleteQueued();
      for (const clientId of await this.dueClients(startedAt)) {
        if (this.stopping) return report;
        await this.removeClient(clientId, dryRun, report);
        report.clients.push(clientId);
        // A lease lost meanwhile (a run stalled past its expiry) is another instance's now: this one stops.
        if (!dryRun && !(await this.lease.renew(this.now()))) return report;
      }
      await this.pruneAccessLog(startedAt, dryRun, report);
      finished = !this.stopping;
      if (!dryRun) report.filesPending = await this.deps.attachments.queuedDeletions();
      if (report.filesPending)
        this.deps.logger.error(
          { filesPending: report.filesPending },
          'retention: stored files could not be deleted; they stay queued and are tried again by the next sweep',
        );
      if (report.clients.length || report.accessLogPruned)
        this.deps.logger.info({ dryRun, clients: report.clients.length, removed: report.removed, accessLogPruned: report.accessLogPruned }, 'retention run');
      return report;
    } finally {
      if (!dryRun) await this.lease.release(this.now(), finished);
    }
  }

  /**
   * Clients every source of whose has ended treatment more than the retention ago (and whose portal
   * has closed), not yet removed since: a client still in treatment anywhere keeps everything.
   */
  private async dueClients(now: Date): Promise<string[]> {
    const days = Math.max(this.deps.settings.personalDataDays, this.deps.settings.closesAfterDays);
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    const rows: { clientId: string }[] = await this.deps.db
      .getRepository(ClientSourceEntity)
      .createQueryBuilder('s')
      .leftJoin(ClientTreatmentEndEntity, 't', 't.client_id = s.client_id AND t.source = s.source')
      .leftJoin(RetentionRemovalEntity, 'r', 'r.client_id = s.client_id')
      .select('s.client_id', 'clientId')
      .groupBy('s.client_id')
      .addGroupBy('r.removed_at')
      .having('COUNT(*) = COUNT(t.ended_at)')
      .andHaving('MAX(t.ended_at) <= :cutoff', { cutoff })
      .andHaving('(r.removed_at IS NULL OR r.removed_at < MAX(t.ended_at))')
      .orderBy('s.client_id')
      .getRawMany();
    return rows.map((r) => r.clientId);
  }

  /** One client's portal data in one transaction; the stored upload bytes after its commit. */
  private async removeClient(clientId: string, dryRun: boolean, report: RetentionReport): Promise<void> {
    const files: string[] = [];
    const work = async (m: EntityManager) => {
      const step = async <T extends ObjectLiteral>(table: RemovedTable, entity: EntityTarget<T>, where: FindOptionsWhere<T> | null) => {
        if (!where) return;
        const n = dryRun ? await m.getRepository(entity).countBy(where) : ((await m.getRepository(entity).delete(where)).affected ?? 0);
        report.removed[table] = (report.removed[table] ?? 0) + n;
      };
      const ids = async <T extends ObjectLiteral>(entity: EntityTarget<T>, where: FindOptionsWhere<T>, column: keyof T & string): Promise<string[]> =>
        (await m.getRepository(entity).find({ where, select: { [column]: true } as never })).map((r) => String(r[column]));

      const conversations = await ids(ConversationEntity, { clientId }, 'id');
      const messages = await ids(MessageEntity, { clientId }, 'id');
      const links = await m.getRepository(PortalLinkEntity).findBy({ clientId });
      const linked = [...new Set(links.map((l) => l.accountId))];
      // An account that is someone's for another client too (a parent of two) stays; only its link to this one goes.
      const elsewhere = linked.length
        ? new Set(await ids(PortalLinkEntity, { accountId: In(linked), clientId: Not(clientId) }, 'accountId'))
        : new Set<string>();
      const accounts = linked.filter((a) => !elsewhere.has(a));
      const sessions = accounts.length ? await ids(SessionEntity, { accountId: In(accounts) }, 'id') : [];
      const sources = await m.getRepository(ClientSourceEntity).findBy({ clientId });

      const messageFiles = messages.length ? await m.getRepository(AttachmentEntity).findBy({ messageId: In(messages) }) : [];
      const unusedUploads = accounts.length ? await m.getRepository(AttachmentEntity).findBy({ uploaderAccountId: In(accounts), messageId: IsNull() }) : [];
      const uploads = [...messageFiles, ...unusedUploads];
      files.push(...uploads.map((a) => a.storageKey));
      await step('message_attachments', AttachmentEntity, uploads.length ? { id: In(uploads.map((a) => a.id)) } : null);
      await step('conversation_readers', ConversationReaderEntity, conversations.length ? { conversationId: In(conversations) } : null);
      await step('conversation_participants', ConversationParticipantEntity, conversations.length ? { conversationId: In(conversations) } : null);
      await step('messages', MessageEntity, { clientId });
      await step('conversations', ConversationEntity, { clientId });
      await step('diary_entries', DiaryEntryEntity, { clientId });
      await step('client_stories', ClientStoryEntity, { clientId });
      await step('questionnaire_drafts', QuestionnaireDraftEntity, { clientId });
      await step('portal_consents', PortalConsentEntity, { clientId });
      await step('network_invitations', InvitationEntity, { clientId });
      await step('activation_codes', ActivationCodeEntity, { clientId });
      await step('video_rooms', VideoRoomEntity, { clientId });
      await step('ehr_writes', EhrWriteEntity, { clientId });
      await step('sync_events', SyncEventEntity, { clientRef: clientId });
      for (const s of sources) await step('sync_events', SyncEventEntity, { source: s.source, clientRef: s.externalId });
      await step('portal_links', PortalLinkEntity, { clientId });
      await step('refresh_tokens', RefreshTokenEntity, sessions.length ? { sessionId: In(sessions) } : null);
      await step('sessions', SessionEntity, accounts.length ? { accountId: In(accounts) } : null);
      await step('account_credentials', AccountCredentialsEntity, accounts.length ? { accountId: In(accounts) } : null);
      await step('login_challenges', LoginChallengeEntity, accounts.length ? { accountId: In(accounts) } : null);
      await step('password_resets', PasswordResetEntity, accounts.length ? { accountId: In(accounts) } : null);
      await step('accounts', AccountEntity, accounts.length ? { id: In(accounts) } : null);
      if (!dryRun) {
        // The kept accounts no longer open this portal first.
        if (elsewhere.size) await m.getRepository(AccountEntity).update({ id: In([...elsewhere]), preferredClientId: clientId }, { preferredClientId: null });
        // The client row stays (the access log and the EHRs' ids refer to it), without the name.
        await m.getRepository(ClientEntity).update({ id: clientId }, { displayName: null });
        await m.getRepository(RetentionRemovalEntity).upsert({ clientId, removedAt: this.now() }, ['clientId']);
      }
    };
    if (dryRun) await work(this.deps.db.manager);
    else
      await this.deps.db.transaction(async (m) => {
        await work(m);
        // The bytes are noted in the same transaction, so a storage that fails after the commit leaves them queued, not forgotten.
        await this.deps.attachments.queueDeletion(m, files);
      });
    report.removed.files = (report.removed.files ?? 0) + files.length;
    if (!dryRun && files.length) await this.deps.attachments.deleteQueued(files);
  }

  /** Lines older than their retention, in batches of RETENTION_ACCESS_LOG_BATCH, each its own transaction. */
  private async pruneAccessLog(now: Date, dryRun: boolean, report: RetentionReport): Promise<void> {
    const before = new Date(now.getTime() - this.deps.settings.accessLogDays * DAY_MS);
    if (dryRun) {
      report.accessLogPruned = await this.deps.audit.countOlderThan(before);
      return;
    }
    while (!this.stopping) {
      const n = await this.deps.audit.prune(before, this.deps.settings.accessLogBatch);
      if (!n) return;
      report.accessLogPruned += n;
      report.accessLogBatches++;
      if (n < this.deps.settings.accessLogBatch || !(await this.lease.renew(this.now()))) return;
    }
  }
}
