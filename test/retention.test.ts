import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { In, type DataSource, type EntityTarget, type FindOptionsWhere, type ObjectLiteral } from 'typeorm';
import type { FileStoragePort } from '../adapters/ports';
import { loadFileStorage } from '../adapters/loader';
import { AccessLogEntity } from '../src/audit/access-log.entity';
import { AccessLogService } from '../src/audit/access-log.service';
import { openDatabase } from '../src/db/data-source';
import { SyncEventEntity } from '../src/events/sync-event.entity';
import { ClientEntity, ClientSourceEntity } from '../src/modules/clients/client.entity';
import { PortalConsentEntity } from '../src/modules/consents/portal-consent.entity';
import { EhrWriteEntity } from '../src/modules/ehr/ehr-write.entity';
import { AttachmentsService } from '../src/modules/files/attachments.service';
import { StoredFileDeletionEntity } from '../src/modules/files/stored-file-deletion.entity';
import { AccountEntity } from '../src/modules/identity/account.entity';
import { AccountCredentialsEntity, ActivationCodeEntity, LoginChallengeEntity, PasswordResetEntity } from '../src/modules/identity/credentials.entity';
import { PortalLinkEntity } from '../src/modules/identity/portal-link.entity';
import { RefreshTokenEntity, SessionEntity } from '../src/modules/identity/session.entity';
import { ClientStoryEntity, DiaryEntryEntity } from '../src/modules/journal/journal.entity';
import {
  AttachmentEntity,
  ConversationEntity,
  ConversationParticipantEntity,
  ConversationReaderEntity,
  MessageEntity,
} from '../src/modules/messages/message.entity';
import { InvitationEntity } from '../src/modules/network/invitation.entity';
import { QuestionnaireDraftEntity } from '../src/modules/questionnaires/questionnaire-draft.entity';
import { RetentionJob, type RetentionSettings } from '../src/modules/retention/retention.service';
import { RetentionRemovalEntity } from '../src/modules/retention/job-lease.entity';
import { ClientTreatmentEndEntity } from '../src/modules/clients/client-treatment.entity';
import { VideoRoomEntity } from '../src/modules/video/video-room.entity';
import { startTestApp, type TestApp } from './utils/app';
import { postSignedSync } from './utils/live';
import { describeWithMariaDb } from './utils/services';

const DAY = 86_400_000;
const SETTINGS: RetentionSettings = { personalDataDays: 730, accessLogDays: 1826, accessLogBatch: 2, everyMs: DAY, closesAfterDays: 30 };

/** One portal with one row of every kind of the portal's own personal data. */
interface Portal {
  clientId: string;
  externalId: string;
  accountId: string;
  sessionId: string;
  conversationId: string;
  messageId: string;
  upload: AttachmentEntity;
  unusedUpload: AttachmentEntity;
}

async function seedPortal(db: DataSource, attachments: AttachmentsService, label: string, endedAt: Date | null, t0: Date): Promise<Portal> {
  const clientId = randomUUID();
  const externalId = `ret-${label}-${clientId.slice(0, 8)}`;
  const accountId = randomUUID();
  const sessionId = randomUUID();
  const conversationId = randomUUID();
  const messageId = randomUUID();
  const insert = <T extends ObjectLiteral>(entity: EntityTarget<T>, row: T) => db.getRepository(entity).insert(row as never);
  await insert(ClientEntity, { id: clientId, createdAt: t0, displayName: `Client ${label}` });
  await insert(ClientSourceEntity, { id: randomUUID(), clientId, source: 'demo', externalId });
  if (endedAt) await insert(ClientTreatmentEndEntity, { id: randomUUID(), clientId, source: 'demo', endedAt });
  await insert(AccountEntity, {
    id: accountId,
    email: `${externalId}@retention.test`,
    displayName: `Client ${label}`,
    bsnHash: null,
    oidcSubjectHash: null,
    preferredClientId: clientId,
    lastLoginAt: t0,
    previousLoginAt: null,
    notifyNewMessage: true,
    notifyNewDocument: true,
    notifyNewAppointment: true,
    notifyNewQuestionnaire: true,
    createdAt: t0,
  });
  await insert(PortalLinkEntity, {
    id: randomUUID(),
    accountId,
    clientId,
    relation: 'SELF',
    permissions: [],
    isAdmin: true,
    createdAt: t0,
  } as PortalLinkEntity);
  await insert(AccountCredentialsEntity, {
    accountId,
    passwordHash: 'x',
    mustChangePassword: false,
    codeChannel: 'EMAIL',
    phone: '0612345678',
    phoneVerified: true,
    updatedAt: t0,
  });
  await insert(LoginChallengeEntity, {
    id: randomUUID(),
    accountId,
    codeHash: randomUUID(),
    channel: 'EMAIL',
    maskedDestination: 'c***@retention.test',
    expiresAt: t0,
    attempts: 0,
    resends: 0,
    lastSentAt: t0,
    consumedAt: null,
  });
  await insert(PasswordResetEntity, { id: randomUUID(), accountId, tokenHash: randomUUID(), expiresAt: t0, usedAt: null });
  await insert(SessionEntity, {
    id: sessionId,
    accountId,
    method: 'password',
    createdAt: t0,
    lastUsedAt: t0,
    expiresAt: t0,
    revokedAt: null,
    revokedReason: null,
  });
  await insert(RefreshTokenEntity, { id: randomUUID(), sessionId, tokenHash: randomUUID(), createdAt: t0, usedAt: null });
  await insert(ActivationCodeEntity, {
    id: randomUUID(),
    codeHash: randomUUID(),
    clientId,
    birthDate: '1990-01-01',
    relation: 'SELF',
    expiresAt: t0,
    attempts: 0,
    usedAt: null,
    createdAt: t0,
  });
  await insert(ConversationEntity, { id: conversationId, clientId, subject: 'Vraag', kind: 'TEAM', createdAt: t0, lastMessageAt: t0 });
  await insert(ConversationParticipantEntity, { id: randomUUID(), conversationId, kind: 'CLIENT', ref: accountId, name: `Client ${label}` });
  await insert(ConversationReaderEntity, { id: randomUUID(), conversationId, accountId, lastReadAt: t0, archivedAt: null });
  await insert(MessageEntity, {
    id: messageId,
    conversationId,
    clientId,
    authorKind: 'CLIENT',
    authorRef: accountId,
    authorName: `Client ${label}`,
    body: 'Alleen in het portaal',
    sentAt: t0,
    deletedAt: null,
    sourceEventId: null,
  });
  const upload = await attachments.upload(accountId, 'brief.pdf', Readable.from([Buffer.from('%PDF-1.4\n% retention test\n')]));
  await db.getRepository(AttachmentEntity).update({ id: upload.id }, { messageId });
  const unusedUpload = await attachments.upload(accountId, 'concept.pdf', Readable.from([Buffer.from('%PDF-1.4\n% not yet sent\n')]));
  await insert(DiaryEntryEntity, { id: randomUUID(), clientId, authorAccountId: accountId, authorName: `Client ${label}`, text: 'Dagboek', createdAt: t0 });
  await insert(ClientStoryEntity, { clientId, text: 'Mijn verhaal', sharedWithOrganisation: false, updatedAt: t0, updatedBy: accountId });
  await insert(QuestionnaireDraftEntity, {
    id: randomUUID(),
    clientId,
    assignmentId: 'as-1',
    answers: '{}',
    updatedAt: t0,
    updatedBy: accountId,
    submittedAt: null,
  });
  await insert(PortalConsentEntity, { id: randomUUID(), clientId, topic: 'PARENT_ACCESS', granted: true, changedAt: t0, changedBy: accountId });
  await insert(InvitationEntity, {
    id: randomUUID(),
    clientId,
    invitedBy: accountId,
    name: 'Buurvrouw',
    email: `buur-${externalId}@retention.test`,
    language: 'nl',
    permissions: [],
    admin: false,
    tokenHash: randomUUID(),
    expiresAt: t0,
    acceptedAt: null,
    createdAt: t0,
  } as InvitationEntity);
  await insert(VideoRoomEntity, { clientId, ready: false, practitionerId: null, joinUrl: null, readySince: null, refreshedAt: t0, lastEventId: null });
  await insert(EhrWriteEntity, {
    id: randomUUID(),
    clientId,
    source: 'demo',
    method: 'sendMessage',
    subject: messageId,
    payload: '{"body":"Alleen in het portaal"}',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: t0,
    lastError: null,
    createdAt: t0,
    deliveredAt: null,
  } as EhrWriteEntity);
  await insert(SyncEventEntity, {
    id: randomUUID(),
    eventId: randomUUID(),
    type: 'message.created',
    source: 'demo',
    clientRef: externalId,
    occurredAt: t0,
    payload: '{"body":"van de behandelaar"}',
    receivedAt: t0,
    processedAt: t0,
    error: null,
    attempts: 1,
    nextAttemptAt: null,
  });
  await new AccessLogService(db).record({
    action: 'R',
    eventType: 'dossier.medications.read',
    resource: 'Medicatie',
    clientId,
    accountId,
    actorName: `Client ${label}`,
    actorRole: 'SELF',
  });
  return { clientId, externalId, accountId, sessionId, conversationId, messageId, upload, unusedUpload };
}

/** How many rows of each kind the portal holds for one seeded portal. */
async function holdings(db: DataSource, p: Portal): Promise<Record<string, number>> {
  const count = <T extends ObjectLiteral>(entity: EntityTarget<T>, where: FindOptionsWhere<T>) => db.getRepository(entity).countBy(where);
  return {
    messages: await count(MessageEntity, { clientId: p.clientId }),
    conversations: await count(ConversationEntity, { clientId: p.clientId }),
    participants: await count(ConversationParticipantEntity, { conversationId: p.conversationId }),
    readers: await count(ConversationReaderEntity, { conversationId: p.conversationId }),
    attachments: await count(AttachmentEntity, { uploaderAccountId: p.accountId }),
    diary: await count(DiaryEntryEntity, { clientId: p.clientId }),
    story: await count(ClientStoryEntity, { clientId: p.clientId }),
    drafts: await count(QuestionnaireDraftEntity, { clientId: p.clientId }),
    consents: await count(PortalConsentEntity, { clientId: p.clientId }),
    invitations: await count(InvitationEntity, { clientId: p.clientId }),
    activationCodes: await count(ActivationCodeEntity, { clientId: p.clientId }),
    videoRooms: await count(VideoRoomEntity, { clientId: p.clientId }),
    ehrWrites: await count(EhrWriteEntity, { clientId: p.clientId }),
    syncEvents: await count(SyncEventEntity, { clientRef: p.externalId }),
    links: await count(PortalLinkEntity, { clientId: p.clientId }),
    accounts: await count(AccountEntity, { id: p.accountId }),
    credentials: await count(AccountCredentialsEntity, { accountId: p.accountId }),
    challenges: await count(LoginChallengeEntity, { accountId: p.accountId }),
    resets: await count(PasswordResetEntity, { accountId: p.accountId }),
    sessions: await count(SessionEntity, { accountId: p.accountId }),
    refreshTokens: await count(RefreshTokenEntity, { sessionId: p.sessionId }),
  };
}

/** The kinds of which a portal has nothing (any longer). */
const missing = (h: Record<string, number>) => Object.entries(h).filter(([, n]) => n < 1);
const anythingLeft = (h: Record<string, number>) => Object.entries(h).filter(([, n]) => n !== 0);

async function stored(attachments: AttachmentsService, row: AttachmentEntity): Promise<boolean> {
  const stream = await attachments.content(row);
  if (stream && 'destroy' in stream) (stream as Readable).destroy();
  return stream !== null;
}

function retentionSuite(name: string, database: 'sqlite' | 'mariadb', describeOn: jest.Describe): void {
  describeOn(`the retention job on ${name}`, () => {
    let t: TestApp;
    const t0 = new Date();
    const at = (days: number) => new Date(t0.getTime() + days * DAY);
    let clock = t0;
    let job: RetentionJob;
    let closed: Portal;
    let recent: Portal;
    let open: Portal;
    let parentId: string;
    const youngLines: string[] = [];

    beforeAll(async () => {
      t = await startTestApp({ database, env: { RETENTION_JOB: '0', LOG_LEVEL: 'warn' } });
      const { db, services } = t.app;
      job = new RetentionJob({ db, audit: services.audit, attachments: services.attachments, logger: t.app.logger, settings: SETTINGS, now: () => clock });
      closed = await seedPortal(db, services.attachments, 'closed', null, t0);
      recent = await seedPortal(db, services.attachments, 'recent', at(400), t0);
      open = await seedPortal(db, services.attachments, 'open', null, t0);
      // A parent of two: of the closed portal and of the open one.
      parentId = randomUUID();
      await db
        .getRepository(AccountEntity)
        .insert({ id: parentId, email: `parent-${parentId}@retention.test`, displayName: 'Ouder', preferredClientId: closed.clientId, createdAt: t0 });
      for (const clientId of [closed.clientId, open.clientId])
        await db
          .getRepository(PortalLinkEntity)
          .insert({ id: randomUUID(), accountId: parentId, clientId, relation: 'PARENT' as never, permissions: [], isAdmin: false, createdAt: t0 });
    });
    afterAll(async () => t?.stop());

    it('learns when treatment ended from a signed treatment.ended sync event', async () => {
      const res = await postSignedSync(t.base, t.config.syncSecret, {
        id: `ended-${closed.clientId}`,
        type: 'treatment.ended',
        source: 'demo',
        clientId: closed.externalId,
        data: { endedAt: t0.toISOString() },
      });
      expect(res.status).toBe(202);
      const repo = t.app.db.getRepository(ClientTreatmentEndEntity);
      for (let i = 0; i < 100 && !(await repo.findOneBy({ clientId: closed.clientId }))?.endedAt; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await repo.findOneBy({ clientId: closed.clientId, source: 'demo' }))?.endedAt?.toISOString()).toBe(t0.toISOString());
    });

    it('keeps the latest report of a treatment end: an older event processed after a later one (a retry) changes nothing', async () => {
      const { db, services } = t.app;
      const resumed = await seedPortal(db, services.attachments, 'resumed', null, t0);
      const stored = async () => (await db.getRepository(ClientTreatmentEndEntity).findOneBy({ clientId: resumed.clientId, source: 'demo' }))?.endedAt ?? null;
      // Arrivals an hour ago (before the EHR read below, which reports now).
      const received = (ms: number) => new Date(Date.now() - 3_600_000 + ms);
      // Ended (received first), then resumed (received later); the ended one fails and is only processed again now.
      expect(await services.clients.recordTreatmentEnd(resumed.clientId, 'demo', null, received(2_000))).toBe(true);
      expect(await services.clients.recordTreatmentEnd(resumed.clientId, 'demo', at(-10), received(1_000))).toBe(true);
      expect(await stored()).toBeNull();
      // A later report of an end is taken, also through the EHR's own read of the client (now).
      expect(await services.clients.recordTreatmentEnd(resumed.clientId, 'demo', at(-5), received(3_000))).toBe(true);
      expect((await stored())?.toISOString()).toBe(at(-5).toISOString());
      await services.clients.rememberTreatmentEnd(resumed.clientId, 'demo', null, new Date());
      expect(await stored()).toBeNull();
      expect(await services.clients.recordTreatmentEnd(resumed.clientId, 'demo', at(-5), received(4_000))).toBe(true);
      expect(await stored()).toBeNull();
    });

    it('refuses a treatment.ended event without a date or null', async () => {
      const res = await postSignedSync(t.base, t.config.syncSecret, {
        id: randomUUID(),
        type: 'treatment.ended',
        source: 'demo',
        clientId: closed.externalId,
        data: {},
      });
      expect(res.status).toBe(400);
    });

    it('keeps everything of a closed portal until RETENTION_PERSONAL_DATA_DAYS have passed since treatment ended', async () => {
      clock = at(729);
      const report = await job.runOnce();
      expect(report.ran).toBe(true);
      expect(report.clients).toEqual([]);
      expect(missing(await holdings(t.app.db, closed))).toEqual([]);
    });

    it('a dry run names what it would remove and removes nothing', async () => {
      clock = at(731);
      const report = await job.runOnce({ dryRun: true });
      expect(report.clients).toEqual([closed.clientId]);
      expect(report.removed).toMatchObject({ messages: 1, diary_entries: 1, client_stories: 1, accounts: 1, files: 2 });
      expect(missing(await holdings(t.app.db, closed))).toEqual([]);
    });

    it('removes every kind of the portal’s own personal data of a portal closed longer than the retention, files included', async () => {
      clock = at(731);
      const report = await job.runOnce();
      expect(report.clients).toEqual([closed.clientId]);
      expect(anythingLeft(await holdings(t.app.db, closed))).toEqual([]);
      expect(await stored(t.app.services.attachments, closed.upload)).toBe(false);
      expect(await stored(t.app.services.attachments, closed.unusedUpload)).toBe(false);
      // The client row and where the EHRs know it stay (the access log refers to them), without the name.
      const client = await t.app.db.getRepository(ClientEntity).findOneBy({ id: closed.clientId });
      expect(client).toMatchObject({ displayName: null });
      expect((await t.app.db.getRepository(RetentionRemovalEntity).findOneBy({ clientId: closed.clientId }))?.removedAt.toISOString()).toBe(
        clock.toISOString(),
      );
      expect(await t.app.db.getRepository(ClientSourceEntity).countBy({ clientId: closed.clientId })).toBe(1);
    });

    it('keeps everything of a portal closed more recently and of an open one, and their files', async () => {
      expect(missing(await holdings(t.app.db, recent))).toEqual([]);
      expect(missing(await holdings(t.app.db, open))).toEqual([]);
      expect(await stored(t.app.services.attachments, recent.upload)).toBe(true);
      expect(await stored(t.app.services.attachments, open.unusedUpload)).toBe(true);
      expect((await t.app.db.getRepository(ClientEntity).findOneBy({ id: open.clientId }))?.displayName).toBe('Client open');
    });

    it('keeps an account that is also someone else’s portal, taking only its link to the closed one', async () => {
      const links = await t.app.db.getRepository(PortalLinkEntity).findBy({ accountId: parentId });
      expect(links.map((l) => l.clientId)).toEqual([open.clientId]);
      expect((await t.app.db.getRepository(AccountEntity).findOneBy({ id: parentId }))?.preferredClientId).toBeNull();
    });

    it('never removes the access log with the personal data: the closed portal’s lines stay', async () => {
      expect(await t.app.db.getRepository(AccessLogEntity).countBy({ clientId: closed.clientId })).toBe(1);
    });

    it('leaves the portals of the demo EHR (no treatment end recorded) alone', async () => {
      const removed = await t.app.db.getRepository(RetentionRemovalEntity).find();
      expect(removed.map((r) => r.clientId)).toEqual([closed.clientId]);
    });

    it('runs once per interval however often it is asked', async () => {
      clock = at(731.5);
      expect((await job.runOnce()).ran).toBe(false);
    });

    it('prunes access-log lines only beyond RETENTION_ACCESS_LOG_DAYS, in batches, and keeps the younger ones', async () => {
      const repo = t.app.db.getRepository(AccessLogEntity);
      for (let i = 0; i < 2; i++) {
        const id = randomUUID();
        youngLines.push(id);
        await repo.insert({
          id,
          at: at(1000),
          action: 'R',
          eventType: 'agenda.read',
          resource: 'Afspraken',
          clientId: open.clientId,
          accountId: open.accountId,
          actorName: 'Client open',
          actorRole: 'SELF',
        } as AccessLogEntity);
      }
      const old = await repo.countBy({});
      clock = at(1825);
      const before = await job.runOnce();
      expect(before.accessLogPruned).toBe(0);
      // The portal closed more recently (at +400 days) has passed its retention by now.
      expect(before.clients).toEqual([recent.clientId]);
      expect(anythingLeft(await holdings(t.app.db, recent))).toEqual([]);
      clock = at(1827);
      const report = await job.runOnce();
      // Everything written at t0 is older than five years now; the younger two stay.
      expect(report.accessLogPruned).toBe(old - 2);
      expect(report.accessLogBatches).toBe(Math.ceil((old - 2) / SETTINGS.accessLogBatch));
      expect((await repo.find()).map((l) => l.id).sort()).toEqual([...youngLines].sort());
      expect(report.clients).toEqual([]);
    });

    it('still refuses an ordinary DELETE or UPDATE of the access log', async () => {
      await expect(t.app.db.query('DELETE FROM access_log')).rejects.toThrow(/append-only/);
      await expect(t.app.db.query("UPDATE access_log SET resource = 'x'")).rejects.toThrow(/append-only/);
      expect(await t.app.db.getRepository(AccessLogEntity).countBy({})).toBe(2);
    });

    it('refuses a delete of lines younger than the marker even inside a pruning transaction', async () => {
      await expect(
        t.app.db.transaction(async (m) => {
          await m.query('INSERT INTO access_log_prune (id, before_at) VALUES (?, ?)', [randomUUID(), '2000-01-01 00:00:00.000']);
          await m.query('DELETE FROM access_log');
        }),
      ).rejects.toThrow(/append-only/);
      expect(await t.app.db.getRepository(AccessLogEntity).countBy({})).toBe(2);
      expect(await t.app.db.query('SELECT id FROM access_log_prune')).toEqual([]);
    });

    it('does the work once when two instances run it at the same moment (a lease in the database)', async () => {
      const due = await seedPortal(t.app.db, t.app.services.attachments, 'due', at(100), t0);
      // MariaDB: a second instance with its own connections; SQLite (one writer in one process): a second job on the same file's connection.
      const otherDb = database === 'mariadb' ? await openDatabase(t.config.database, false) : t.app.db;
      try {
        clock = at(3000);
        const other = new RetentionJob({
          db: otherDb,
          audit: new AccessLogService(otherDb),
          attachments: t.app.services.attachments,
          logger: t.app.logger,
          settings: SETTINGS,
          now: () => clock,
        });
        const reports = await Promise.all([job.runOnce(), other.runOnce()]);
        expect(reports.map((r) => r.ran).sort()).toEqual([false, true]);
        expect(reports.flatMap((r) => r.clients)).toEqual([due.clientId]);
        expect(anythingLeft(await holdings(t.app.db, due))).toEqual([]);
      } finally {
        if (otherDb !== t.app.db) await otherDb.destroy();
      }
    });

    it('keeps a file whose storage fails at removal queued, and deletes it on the next run: no byte outlives its portal unnoticed', async () => {
      const { db } = t.app;
      // The same storage as the gateway's, down for deletes until it is back.
      const disk = loadFileStorage(t.config.FILE_STORAGE_URL);
      let down = true;
      const storage: FileStoragePort = {
        put: (key, stream) => disk.put(key, stream),
        get: (key) => disk.get(key),
        delete: async (key) => {
          if (down) throw new Error('storage unavailable');
          await disk.delete(key);
        },
      };
      const attachments = new AttachmentsService(db, storage, t.config.UPLOAD_MAX_BYTES);
      const flaky = new RetentionJob({ db, audit: t.app.services.audit, attachments, logger: t.app.logger, settings: SETTINGS, now: () => clock });
      const due = await seedPortal(db, t.app.services.attachments, 'flaky', at(3000), t0);
      clock = at(5000);

      const first = await flaky.runOnce({ force: true });
      expect(first.clients).toEqual([due.clientId]);
      expect(anythingLeft(await holdings(db, due))).toEqual([]);
      expect(first.filesPending).toBe(2);
      expect(await stored(t.app.services.attachments, due.upload)).toBe(true);
      const queued = await db.getRepository(StoredFileDeletionEntity).findBy({ storageKey: In([due.upload.storageKey, due.unusedUpload.storageKey]) });
      expect(queued.map((q) => ({ attempts: q.attempts, lastError: q.lastError }))).toEqual([
        { attempts: 1, lastError: 'storage unavailable' },
        { attempts: 1, lastError: 'storage unavailable' },
      ]);
      // The operator sees them waiting.
      expect(await (await fetch(`${t.base}/metrics`)).text()).toMatch(/^gateway_stored_file_deletions_pending 2$/m);

      down = false;
      clock = at(5001);
      const second = await flaky.runOnce({ force: true });
      expect(second.clients).toEqual([]);
      expect(second.filesPending).toBe(0);
      expect(await stored(t.app.services.attachments, due.upload)).toBe(false);
      expect(await stored(t.app.services.attachments, due.unusedUpload)).toBe(false);
      expect(await db.getRepository(StoredFileDeletionEntity).countBy({})).toBe(0);
    });
  });
}

retentionSuite('SQLite', 'sqlite', describe);
retentionSuite('MariaDB', 'mariadb', describeWithMariaDb);
