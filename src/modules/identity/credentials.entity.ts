import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** An own account's password and second factor (accounts that log in with DigiD have none). */
@Entity('account_credentials')
export class AccountCredentialsEntity {
  @PrimaryColumn({ name: 'account_id', ...idColumn }) accountId!: string;
  @Column({ name: 'password_hash', type: 'varchar', length: 200 }) passwordHash!: string;
  /** After an invitation or a reset the first login must set a new password. */
  @Column({ name: 'must_change_password', type: 'boolean', default: false }) mustChangePassword!: boolean;
  @Column({ name: 'code_channel', type: 'varchar', length: 5, default: 'EMAIL' }) codeChannel!: 'EMAIL' | 'SMS';
  @Column({ type: 'varchar', length: 20, nullable: true }) phone!: string | null;
  @Column({ name: 'phone_verified', type: 'boolean', default: false }) phoneVerified!: boolean;
  @Column({ name: 'updated_at', ...timeColumn }) updatedAt!: Date;
}

/** Step 1 of a password login: a hashed 6-digit code with a deadline and a try counter. */
@Entity('login_challenges')
export class LoginChallengeEntity {
  @PrimaryColumn(idColumn) id!: string;
  /** Null for an unknown e-mail or a wrong password: the challenge looks the same but never succeeds. */
  @Column({ name: 'account_id', ...idColumn, nullable: true }) accountId!: string | null;
  @Column({ name: 'code_hash', type: 'varchar', length: 64 }) codeHash!: string;
  @Column({ type: 'varchar', length: 5 }) channel!: 'EMAIL' | 'SMS';
  @Column({ name: 'masked_destination', type: 'varchar', length: 100 }) maskedDestination!: string;
  @Column({ name: 'expires_at', ...timeColumn }) expiresAt!: Date;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'resends', type: 'int', default: 0 }) resends!: number;
  @Column({ name: 'last_sent_at', ...timeColumn }) lastSentAt!: Date;
  @Column({ name: 'consumed_at', ...timeColumn, nullable: true }) consumedAt!: Date | null;
}

/** A one-time code (activation letter, invitation) that links an account to a client record. */
@Entity('activation_codes')
export class ActivationCodeEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Index('uq_activation_codes_hash', { unique: true })
  @Column({ name: 'code_hash', type: 'varchar', length: 64 })
  codeHash!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  /** YYYY-MM-DD, compared with what the person types. */
  @Column({ name: 'birth_date', type: 'varchar', length: 10 }) birthDate!: string;
  @Column({ type: 'varchar', length: 20 }) relation!: string;
  @Column({ name: 'expires_at', ...timeColumn }) expiresAt!: Date;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'used_at', ...timeColumn, nullable: true }) usedAt!: Date | null;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
}

/** A single-use password-reset link (stored hashed), valid 30 minutes. */
@Entity('password_resets')
export class PasswordResetEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'account_id', ...idColumn }) accountId!: string;
  @Index('uq_password_resets_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;
  @Column({ name: 'expires_at', ...timeColumn }) expiresAt!: Date;
  @Column({ name: 'used_at', ...timeColumn, nullable: true }) usedAt!: Date | null;
}
