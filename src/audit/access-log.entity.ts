import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../db/columns';

/**
 * One line of the access log (NEN 7513): who did what to which client's data, when, from where,
 * on whose behalf and under which grounds. Append-only: the database refuses updates and deletes.
 */
@Entity('access_log')
@Index('ix_access_log_client_at', ['clientId', 'at'])
export class AccessLogEntity {
  @PrimaryColumn(idColumn) id!: string;
  /** Start of the event, UTC, milliseconds. */
  @Column(timeColumn) at!: Date;
  /** C, R, U, D or E (create, read, update, delete, execute). */
  @Column({ type: 'varchar', length: 1 }) action!: 'C' | 'R' | 'U' | 'D' | 'E';
  /** What kind of event, e.g. dossier.medications.read. */
  @Column({ name: 'event_type', type: 'varchar', length: 80 }) eventType!: string;
  /** What data, in words a client understands (e.g. "Medicatie"). */
  @Column({ type: 'varchar', length: 200 }) resource!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ name: 'account_id', ...idColumn, nullable: true }) accountId!: string | null;
  @Column({ name: 'actor_name', type: 'varchar', length: 200 }) actorName!: string;
  /** The relation under which the actor acted: SELF, PARENT, NETWORK_MEMBER, SYSTEM … */
  @Column({ name: 'actor_role', type: 'varchar', length: 40 }) actorRole!: string;
  /** The responsible user on whose behalf the actor acted (the client, for a parent). */
  @Column({ name: 'on_behalf_of', type: 'varchar', length: 200, nullable: true }) onBehalfOf!: string | null;
  @Column({ name: 'access_point', type: 'varchar', length: 64, nullable: true }) accessPoint!: string | null;
  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true }) requestId!: string | null;
  @Column({ name: 'authorisation_applied', type: 'boolean', default: true }) authorisationApplied!: boolean;
  @Column({ name: 'treatment_relationship', type: 'boolean', default: false }) treatmentRelationship!: boolean;
  @Column({ name: 'consent_applied', type: 'boolean', default: false }) consentApplied!: boolean;
  @Column({ name: 'emergency_access', type: 'boolean', default: false }) emergencyAccess!: boolean;
}
