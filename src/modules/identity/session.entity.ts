import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** A login: the refresh-token family hangs off it, revoking it ends every token of the family. */
@Entity('sessions')
export class SessionEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Index('ix_sessions_account')
  @Column({ name: 'account_id', ...idColumn })
  accountId!: string;
  /** dev, oidc or password */
  @Column({ type: 'varchar', length: 20 }) method!: string;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
  @Column({ name: 'last_used_at', ...timeColumn }) lastUsedAt!: Date;
  @Column({ name: 'expires_at', ...timeColumn }) expiresAt!: Date;
  @Column({ name: 'revoked_at', ...timeColumn, nullable: true }) revokedAt!: Date | null;
  @Column({ name: 'revoked_reason', type: 'varchar', length: 40, nullable: true }) revokedReason!: string | null;
}

/** One refresh token of a session, stored only as a SHA-256 hash; used once, then replaced. */
@Entity('refresh_tokens')
export class RefreshTokenEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Index('ix_refresh_tokens_session')
  @Column({ name: 'session_id', ...idColumn })
  sessionId!: string;
  @Index('uq_refresh_tokens_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
  @Column({ name: 'used_at', ...timeColumn, nullable: true }) usedAt!: Date | null;
}
