import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** A consent the portal itself owns (e.g. a child from 16 letting the parents see the portal). */
@Entity('portal_consents')
@Index('uq_portal_consents_client_topic', ['clientId', 'topic'], { unique: true })
export class PortalConsentEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ type: 'varchar', length: 40 }) topic!: string;
  @Column({ type: 'boolean', default: false }) granted!: boolean;
  @Column({ name: 'changed_at', ...timeColumn }) changedAt!: Date;
  @Column({ name: 'changed_by', ...idColumn }) changedBy!: string;
}
