import { Column, Entity, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** A person who can log in: with DigiD (linked by a keyed hash of the BSN) or an own account. */
@Entity('accounts')
export class AccountEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ type: 'varchar', length: 254, nullable: true, unique: true }) email!: string | null;
  @Column({ name: 'display_name', type: 'varchar', length: 200 }) displayName!: string;
  /** HMAC-SHA256 of the BSN with BSN_HASH_KEY: finds the account again, never reveals the BSN. */
  @Column({ name: 'bsn_hash', type: 'varchar', length: 64, nullable: true, unique: true }) bsnHash!: string | null;
  /** HMAC-SHA256 of (issuer, subject) when a broker sends a pseudonym instead of a BSN. */
  @Column({ name: 'oidc_subject_hash', type: 'varchar', length: 64, nullable: true, unique: true }) oidcSubjectHash!: string | null;
  @Column({ name: 'preferred_client_id', ...idColumn, nullable: true }) preferredClientId!: string | null;
  @Column({ name: 'last_login_at', ...timeColumn, nullable: true }) lastLoginAt!: Date | null;
  @Column({ name: 'previous_login_at', ...timeColumn, nullable: true }) previousLoginAt!: Date | null;
  @Column({ name: 'notify_new_message', type: 'boolean', default: true }) notifyNewMessage!: boolean;
  @Column({ name: 'notify_new_document', type: 'boolean', default: true }) notifyNewDocument!: boolean;
  @Column({ name: 'notify_new_appointment', type: 'boolean', default: true }) notifyNewAppointment!: boolean;
  @Column({ name: 'notify_new_questionnaire', type: 'boolean', default: true }) notifyNewQuestionnaire!: boolean;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
}
