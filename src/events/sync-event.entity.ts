import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../db/columns';

/** One event a practitioner system posted to /sync/events, kept whether or not it was processed yet. */
@Entity('sync_events')
export class SyncEventEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Index('uq_sync_events_event_id', { unique: true })
  @Column({ name: 'event_id', type: 'varchar', length: 128 })
  eventId!: string;
  @Column({ type: 'varchar', length: 64 }) type!: string;
  @Column({ type: 'varchar', length: 50 }) source!: string;
  /** The clientId as sent: the portal's client id, or the source system's own id for the client. */
  @Column({ name: 'client_ref', type: 'varchar', length: 128, nullable: true }) clientRef!: string | null;
  @Column({ name: 'occurred_at', ...timeColumn, nullable: true }) occurredAt!: Date | null;
  /** The raw body exactly as received (the signed bytes), for reprocessing and audit. */
  @Column({ type: 'text' }) payload!: string;
  @Column({ name: 'received_at', ...timeColumn }) receivedAt!: Date;
  /** Null until a handler has dealt with it; types without a handler yet stay null (never dropped). */
  @Column({ name: 'processed_at', ...timeColumn, nullable: true }) processedAt!: Date | null;
  @Column({ type: 'varchar', length: 500, nullable: true }) error!: string | null;
  /** Failed processing attempts so far. */
  @Column({ type: 'int', default: 0 }) attempts!: number;
  /** When a failed event is tried again; null when it is not (processed, waiting for a handler, or given up). */
  @Column({ name: 'next_attempt_at', ...timeColumn, nullable: true }) nextAttemptAt!: Date | null;
}
