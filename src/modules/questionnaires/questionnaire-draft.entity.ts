import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/**
 * Answers saved but not yet sent (a draft), one per client and assignment, so filling in can go
 * on later or on another device; removed once the answers are sent.
 */
@Entity('questionnaire_drafts')
@Index('uq_questionnaire_drafts_assignment', ['clientId', 'assignmentId'], { unique: true })
export class QuestionnaireDraftEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  /** The assignment's global id (`source:externalId`). */
  @Column({ name: 'assignment_id', type: 'varchar', length: 200 }) assignmentId!: string;
  /** JSON: { [questionId]: value }. */
  @Column({ type: 'text' }) answers!: string;
  @Column({ name: 'updated_at', ...timeColumn }) updatedAt!: Date;
  @Column({ name: 'updated_by', ...idColumn }) updatedBy!: string;
  /** Sent (submit) and waiting for the EHR to take it (the EHR write outbox); the draft goes once it did. */
  @Column({ name: 'submitted_at', ...timeColumn, nullable: true }) submittedAt!: Date | null;
}
