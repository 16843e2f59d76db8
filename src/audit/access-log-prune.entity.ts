import { Column, Entity, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../db/columns';

/**
 * The marker the access log's DELETE trigger looks for: only inside the transaction that writes
 * (and removes) one may lines older than `before_at` be deleted. Never left behind.
 */
@Entity('access_log_prune')
export class AccessLogPruneEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'before_at', ...timeColumn }) beforeAt!: Date;
}
