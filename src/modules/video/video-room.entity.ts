import { Column, Entity, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** The video room state of one client, as the practitioner systems last reported it. */
@Entity('video_rooms')
export class VideoRoomEntity {
  @PrimaryColumn({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ type: 'boolean', default: false }) ready!: boolean;
  /** A global practitioner id (`<source>:<external id>`), resolved through the EHR's practitioner loader. */
  @Column({ name: 'practitioner_id', type: 'varchar', length: 200, nullable: true }) practitionerId!: string | null;
  @Column({ name: 'join_url', type: 'varchar', length: 1000, nullable: true }) joinUrl!: string | null;
  @Column({ name: 'ready_since', ...timeColumn, nullable: true }) readySince!: Date | null;
  /** The last ready (or ended) event; readiness lapses VIDEO_READY_TTL_SECONDS after it. */
  @Column({ name: 'refreshed_at', ...timeColumn }) refreshedAt!: Date;
  @Column({ name: 'last_event_id', type: 'varchar', length: 128, nullable: true }) lastEventId!: string | null;
}
