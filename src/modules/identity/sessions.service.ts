import { createHash, randomBytes, randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { In, IsNull, MoreThan, type DataSource } from 'typeorm';
import { UnauthenticatedError } from '../../errors';
import { RawTable } from '../../db/raw-table';
import { ChangeStamp } from '../../kv/change-stamp';
import { readOrFallBack, type KeyValueStore } from '../../kv/kv';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { RefreshTokenEntity, SessionEntity } from './session.entity';
import type { AuthViewer, TokenService } from '../../auth/tokens';

export interface IssuedSession {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  sessionId: string;
}

/** Suffix of a session method whose holder must set a new password before anything else. */
export const MUST_CHANGE_PASSWORD = ':must-change';

export interface SessionPolicy {
  idleMinutes: number;
  maxHours: number;
  accessTokenTtlSeconds: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const denyKey = (sessionId: string): string => `revoked-session:${sessionId}`;
/**
 * Present while the deny-list is whole: written by every rebuild. Gone after Redis lost its data
 * (a restart without persistence, a flush), which makes the next check rebuild the list.
 */
export const DENY_LIST_MARKER = 'revoked-sessions:whole';
const DENY_LIST_MARKER_TTL_SECONDS = 365 * 86_400;

/**
 * Sessions: a short access token plus a rotating refresh token. Each refresh token works once;
 * presenting a used one again revokes the whole session (token theft). A revoked session is
 * put on a deny-list (Redis when configured) so its access tokens stop working at once.
 */
export class SessionsService {
  /**
   * Coalesces the checks made in one tick (every live subscriber re-checks on every event) into
   * one deny-list round and one query. No cache: each call still reads after it was made.
   */
  private readonly activity = new DataLoader<string, boolean>((ids) => this.activeMany(ids), { cache: false, maxBatchSize: 1000 });
  private readonly continuing = new DataLoader<string, boolean>((ids) => this.refreshableAmong(ids, true), { cache: false, maxBatchSize: 1000 });
  /** The same for sessions in use right now (their idle time starts again): revoked, ended or a password to replace. */
  private readonly continuingInUse = new DataLoader<string, boolean>((ids) => this.refreshableAmong(ids, false), { cache: false, maxBatchSize: 1000 });
  /** When each session seen standing ends (its maximum length); a revoked or ended one is dropped. */
  private readonly sessionEnds = new Map<string, number>();
  /** Sessions found clear of the deny-list while the revocation stamp was `stamp`. */
  private cleared: { stamp: string | null; ids: Set<string> } = { stamp: null, ids: new Set() };

  private readonly rawSessions: RawTable<SessionEntity>;
  /** The session rows of one tick in one query (the deny-list's stand-in while Redis is away). */
  private readonly tableRows: DataLoader<string, SessionEntity | null>;
  private rebuilding: Promise<void> | undefined;
  /** Renewed by every revocation, on any instance: `cleared` is valid while it is unchanged. */
  private readonly revocations: ChangeStamp;

  private readonly db: DataSource;
  private readonly tokens: TokenService;
  private readonly kv: KeyValueStore;
  private readonly policy: SessionPolicy;
  private readonly logger: Logger;
  private readonly metrics: Metrics;

  constructor(options: { db: DataSource; tokens: TokenService; kv: KeyValueStore; policy: SessionPolicy; logger: Logger; metrics: Metrics }) {
    ({ db: this.db, tokens: this.tokens, kv: this.kv, policy: this.policy, logger: this.logger, metrics: this.metrics } = options);
    const { db, kv } = options;
    this.rawSessions = new RawTable(db, SessionEntity);
    this.tableRows = new DataLoader(
      async (ids) => {
        const found = new Map((await this.rawSessions.findIn('id', [...ids])).map((r) => [r.id, r]));
        return ids.map((id) => found.get(id) ?? null);
      },
      { cache: false, maxBatchSize: 1000 },
    );
    this.revocations = new ChangeStamp(kv, 'sessions-revoked-stamp');
  }

  async create(accountId: string, method: string): Promise<IssuedSession> {
    const now = new Date();
    const session: SessionEntity = {
      id: randomUUID(),
      accountId,
      method,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + this.policy.maxHours * 3_600_000),
      revokedAt: null,
      revokedReason: null,
    };
    const refreshToken = randomBytes(32).toString('base64url');
    await this.db.transaction(async (tx) => {
      await tx.getRepository(SessionEntity).insert(session);
      await tx
        .getRepository(RefreshTokenEntity)
        .insert({ id: randomUUID(), sessionId: session.id, tokenHash: sha256(refreshToken), createdAt: now, usedAt: null });
    });
    this.metrics.securityEvents.inc({ event: 'login' });
    this.logger.info({ event: 'login', accountId, sessionId: session.id, method }, 'session started');
    return { ...this.tokens.sign(accountId, session.id, method.endsWith(MUST_CHANGE_PASSWORD)), refreshToken, sessionId: session.id };
  }

  /**
   * Verifies an access token and checks that its session was not revoked. The deny-list (Redis)
   * answers in one round trip; the sessions table is the truth behind it: when Redis does not
   * answer (within REDIS_COMMAND_TIMEOUT_MS) the row decides, and when Redis lost its data (the
   * list's marker is gone) the list is rebuilt from the table first. A Redis outage logs no one out
   * and brings no logged-out session back.
   */
  async authenticate(accessToken: string): Promise<AuthViewer> {
    const claims = this.tokens.verify(accessToken);
    if ((await this.deniedAmong([claims.sid])).size) throw new UnauthenticatedError('This session has ended; log in again.');
    return { accountId: claims.sub, sessionId: claims.sid, tokenId: claims.jti, expiresAt: claims.exp * 1000, mustChangePassword: claims.pwc };
  }

  /**
   * Writes the deny-list again from the sessions table: every session revoked within an access
   * token's lifetime (older revocations' tokens have expired anyway), then the marker that says the
   * list is whole. After Redis lost its data, and after every reconnect (a revocation during an
   * outage reached only the table). Concurrent calls share one rebuild.
   */
  rebuildDenyList(): Promise<void> {
    this.rebuilding ??= (async () => {
      const since = new Date(Date.now() - (this.policy.accessTokenTtlSeconds + 60) * 1000);
      const revoked = await this.db.getRepository(SessionEntity).find({ where: { revokedAt: MoreThan(since) }, select: { id: true, revokedReason: true } });
      await Promise.all(revoked.map((r) => this.kv.set(denyKey(r.id), r.revokedReason ?? 'revoked', this.policy.accessTokenTtlSeconds + 60)));
      // Whatever an instance cleared under the old stamp is to be looked at again.
      await this.revocations.renew();
      await this.kv.set(DENY_LIST_MARKER, new Date().toISOString(), DENY_LIST_MARKER_TTL_SECONDS);
      this.logger.info({ revoked: revoked.length }, 'session deny-list rebuilt from the sessions table');
    })().finally(() => (this.rebuilding = undefined));
    return this.rebuilding;
  }

  /** Trades a refresh token for a new pair; a reused token revokes the session. */
  async refresh(refreshToken: string): Promise<IssuedSession> {
    const tokens = this.db.getRepository(RefreshTokenEntity);
    const row = await tokens.findOneBy({ tokenHash: sha256(refreshToken) });
    if (!row) throw new UnauthenticatedError('This refresh token is not valid.');
    const session = await this.db.getRepository(SessionEntity).findOneBy({ id: row.sessionId });
    if (!session || session.revokedAt) throw new UnauthenticatedError('This session has ended; log in again.');
    const now = new Date();
    if (row.usedAt) {
      await this.revoke(session.id, 'refresh_reuse');
      this.metrics.securityEvents.inc({ event: 'refresh_reuse' });
      this.logger.warn(
        { event: 'refresh_reuse', accountId: session.accountId, sessionId: session.id },
        'a used refresh token was presented again; session revoked',
      );
      throw new UnauthenticatedError('This refresh token was already used; the session has been ended for safety.');
    }
    if (session.expiresAt <= now) throw new UnauthenticatedError('The session reached its maximum length; log in again.');
    if (session.method.endsWith(MUST_CHANGE_PASSWORD)) throw new UnauthenticatedError('Set a new password first, then log in again.');
    if (now.getTime() - session.lastUsedAt.getTime() > this.policy.idleMinutes * 60_000) {
      await this.revoke(session.id, 'idle');
      throw new UnauthenticatedError('The session ended after inactivity; log in again.');
    }
    const next = randomBytes(32).toString('base64url');
    const claimed = await this.db.transaction(async (tx) => {
      // Claiming the old token and adding the new one in one transaction: two racing refreshes cannot both win.
      const result = await tx
        .getRepository(RefreshTokenEntity)
        .createQueryBuilder()
        .update()
        .set({ usedAt: now })
        .where('id = :id AND used_at IS NULL', { id: row.id })
        .execute();
      if (!result.affected) return false;
      await tx.getRepository(RefreshTokenEntity).insert({ id: randomUUID(), sessionId: session.id, tokenHash: sha256(next), createdAt: now, usedAt: null });
      await tx.getRepository(SessionEntity).update({ id: session.id }, { lastUsedAt: now });
      return true;
    });
    if (!claimed) throw new UnauthenticatedError('This refresh token was already used.');
    return { ...this.tokens.sign(session.accountId, session.id), refreshToken: next, sessionId: session.id };
  }

  /** The session a refresh token belongs to, without using the token (a logout by the refresh cookie alone). */
  async sessionOfRefreshToken(refreshToken: string): Promise<string | null> {
    const row = await this.db.getRepository(RefreshTokenEntity).findOneBy({ tokenHash: sha256(refreshToken) });
    return row?.sessionId ?? null;
  }

  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.db.getRepository(SessionEntity).update({ id: sessionId }, { revokedAt: new Date(), revokedReason: reason });
    try {
      await this.kv.set(denyKey(sessionId), reason, this.policy.accessTokenTtlSeconds + 60);
      await this.revocations.renew();
    } catch (err) {
      // The table has it; every instance rebuilds the list from the table when Redis is back.
      this.logger.warn({ err: (err as Error).message, sessionId }, 'session revoked in the database; the deny-list write waits for Redis');
    }
    this.sessionEnds.delete(sessionId);
    this.cleared.ids.delete(sessionId);
    if (reason === 'logout') this.metrics.securityEvents.inc({ event: 'logout' });
    this.logger.info({ event: 'session_revoked', sessionId, reason }, 'session revoked');
  }

  /**
   * Whether a session still stands, for a live event: the deny-list (written at once by every
   * revocation, on any instance) and the session's end, remembered from its row. The checks of
   * one tick share one deny-list read; a session not seen before costs one query.
   */
  isActive(sessionId: string): Promise<boolean> {
    return this.activity.load(sessionId);
  }

  /**
   * Whether a session could still be refreshed now, by its row and the deny-list: not revoked, not
   * past its maximum length, used within the idle time, no password to replace first. The periodic
   * sweep of open sockets asks this, so a socket lives as long as its session may (and a revocation
   * whose deny-list entry has lapsed is still caught).
   */
  mayContinue(sessionId: string, usedNow = false): Promise<boolean> {
    return (usedNow ? this.continuingInUse : this.continuing).load(sessionId);
  }

  /** Activity on an open socket counts as use of its session (the idle rule), as a refresh does. */
  async touch(sessionIds: readonly string[], at = new Date()): Promise<void> {
    const unique = [...new Set(sessionIds)];
    for (let i = 0; i < unique.length; i += 500) {
      await this.db.getRepository(SessionEntity).update({ id: In(unique.slice(i, i + 500)), revokedAt: IsNull() }, { lastUsedAt: at });
    }
  }

  private async refreshableAmong(ids: readonly string[], idleCounts: boolean): Promise<boolean[]> {
    const unique = [...new Set(ids)];
    const [denied, rows] = await Promise.all([this.deniedAmong(unique), this.rawSessions.findIn('id', unique)]);
    const now = Date.now();
    const ok = new Set(
      rows
        .filter(
          (r) =>
            !r.revokedAt &&
            !denied.has(r.id) &&
            r.expiresAt.getTime() > now &&
            (!idleCounts || now - r.lastUsedAt.getTime() <= this.policy.idleMinutes * 60_000) &&
            !r.method.endsWith(MUST_CHANGE_PASSWORD),
        )
        .map((r) => r.id),
    );
    return ids.map((id) => ok.has(id));
  }

  /** isActive for many sessions at once (an event's subscribers), in the same order. */
  async activeMany(ids: readonly string[]): Promise<boolean[]> {
    const unique = [...new Set(ids)];
    // While no session was revoked anywhere (the shared stamp is unchanged), a session this instance
    // already found clear of the deny-list needs no new look: one key read for the whole tick.
    const stamp = await this.revocations.read();
    if (stamp !== this.cleared.stamp || this.cleared.ids.size > 100_000) this.cleared = { stamp, ids: new Set() };
    const cleared = this.cleared.ids;
    const toCheck = unique.filter((id) => !cleared.has(id));
    let denied: ReadonlySet<string> = new Set();
    if (toCheck.length) {
      denied = await this.deniedAmong(toCheck);
      const unknown = toCheck.filter((id) => !denied.has(id) && !this.sessionEnds.has(id));
      // Just checked against the deny-list: only their rows are read.
      if (unknown.length) await this.standingAmong(unknown, denied);
      // Only under a stamp read before the deny-list: a revocation meanwhile renews it, so the next check looks again.
      if (stamp !== null && this.cleared.ids === cleared) for (const id of toCheck) if (!denied.has(id) && this.sessionEnds.has(id)) cleared.add(id);
    }
    const now = Date.now();
    return ids.map((id) => !denied.has(id) && (this.sessionEnds.get(id) ?? 0) > now);
  }

  /** `denied`: the deny-list as the caller just read it for these ids; without it, it is read here. */
  private async standingAmong(ids: readonly string[], denied?: ReadonlySet<string>): Promise<boolean[]> {
    const unique = [...new Set(ids)];
    const [deniedNow, rows] = await Promise.all([denied ?? this.deniedAmong(unique), this.rawSessions.findIn('id', unique)]);
    const now = new Date();
    const standing = new Set<string>();
    for (const row of rows) {
      if (!row.revokedAt && row.expiresAt > now && !deniedNow.has(row.id)) {
        standing.add(row.id);
        if (this.sessionEnds.size >= 100_000) this.sessionEnds.clear();
        this.sessionEnds.set(row.id, row.expiresAt.getTime());
      }
    }
    for (const id of unique) if (!standing.has(id)) this.sessionEnds.delete(id);
    return ids.map((id) => standing.has(id));
  }

  /**
   * The sessions among `ids` that are revoked: by the deny-list, read with its marker in one round
   * trip; by the sessions table when the store does not answer, or lost its data (then the list is
   * rebuilt). An id without a row counts as revoked there.
   */
  private async deniedAmong(ids: readonly string[]): Promise<Set<string>> {
    let answers: (string | null)[];
    try {
      answers = await readOrFallBack(this.kv, () => this.kv.getMany([...ids.map(denyKey), DENY_LIST_MARKER]));
    } catch {
      return this.revokedInTable(ids);
    }
    if (answers[ids.length] === null) {
      await this.rebuildDenyList().catch((err: Error) => this.logger.warn({ err: err.message }, 'session deny-list could not be rebuilt yet'));
      return this.revokedInTable(ids);
    }
    return new Set(ids.filter((_, i) => answers[i]));
  }

  private async revokedInTable(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.tableRows.loadMany([...new Set(ids)]);
    const standing = new Set(rows.flatMap((r) => (r && !(r instanceof Error) && !r.revokedAt ? [r.id] : [])));
    return new Set(ids.filter((id) => !standing.has(id)));
  }
}
