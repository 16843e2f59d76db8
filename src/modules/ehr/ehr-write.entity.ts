import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/**
 * pending: to be tried (again); delivered: the EHR took it; refused: the EHR said no (its rules);
 * failed: a dead letter; superseded: a later write of the same thing replaced it before it went;
 * cancelled: nothing to send any more (a message deleted before it went, or no copy to withdraw).
 */
export type EhrWriteStatus = 'pending' | 'delivered' | 'refused' | 'failed' | 'superseded' | 'cancelled';

/**
 * A write to an EHR that the portal accepted and owes the care organisation (the client's input):
 * the port method and its input, kept until the EHR took it. Written in the same transaction as
 * the portal's own record of it, so nothing a client sent is lost while the EHR is away.
 */
@Entity('ehr_writes')
@Index('ix_ehr_writes_due', ['status', 'nextAttemptAt'])
@Index('ix_ehr_writes_subject', ['clientId', 'subject'])
export class EhrWriteEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ type: 'varchar', length: 50 }) source!: string;
  /** The port method (EhrAdapter), e.g. saveQuestionnaireAnswers. */
  @Column({ type: 'varchar', length: 64 }) method!: string;
  /** What it is about (an assignment's global id, a message's id), to show its state beside it. */
  @Column({ type: 'varchar', length: 200 }) subject!: string;
  /** JSON: { externalClientId, input } as the port method takes them. */
  @Column({ type: 'text' }) payload!: string;
  @Column({ type: 'varchar', length: 16 }) status!: EhrWriteStatus;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'next_attempt_at', ...timeColumn }) nextAttemptAt!: Date;
  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true }) lastError!: string | null;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
  @Column({ name: 'delivered_at', ...timeColumn, nullable: true }) deliveredAt!: Date | null;
  /**
   * Set while an instance hands it to the EHR (until its claim runs out), cleared when that attempt
   * settles: a newer write of the same thing waits for it, so the EHR never takes the two in the
   * wrong order (a consent revoked while its grant was still under way).
   */
  @Column({ name: 'sending_until', ...timeColumn, nullable: true }) sendingUntil?: Date | null;
}
