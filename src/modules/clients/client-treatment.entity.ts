import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** When a source's treatment of a client ended (null: it goes on), as its EHR said last; what retention counts from. */
@Entity('client_treatment_ends')
@Index('uq_client_treatment_ends_client_source', ['clientId', 'source'], { unique: true })
export class ClientTreatmentEndEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ type: 'varchar', length: 50 }) source!: string;
  @Column({ name: 'ended_at', ...timeColumn, nullable: true }) endedAt!: Date | null;
  /** When this was reported (the event's arrival, or the EHR read): an older report that comes later (a retry) changes nothing. Null: before this was kept. */
  @Column({ name: 'reported_at', ...timeColumn, nullable: true }) reportedAt?: Date | null;
}
