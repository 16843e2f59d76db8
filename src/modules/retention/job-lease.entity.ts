import { Column, Entity, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** A job that every instance runs but one at a time does: who holds it until when, and when it last finished. */
@Entity('job_leases')
export class JobLeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) name!: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) holder!: string | null;
  @Column({ name: 'expires_at', ...timeColumn }) expiresAt!: Date;
  @Column({ name: 'last_run_at', ...timeColumn, nullable: true }) lastRunAt!: Date | null;
}

/** A client whose portal's own personal data the retention job removed, and when (the client row itself stays). */
@Entity('retention_removals')
export class RetentionRemovalEntity {
  @PrimaryColumn({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ name: 'removed_at', ...timeColumn }) removedAt!: Date;
}
