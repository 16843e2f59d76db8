import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** The portal's own id for a person in care; the EHRs know them under their own ids (sources). */
@Entity('clients')
export class ClientEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
  /** The name the EHR last gave (shown while no EHR answers); the EHR stays the truth. */
  @Column({ name: 'display_name', type: 'varchar', length: 200, nullable: true }) displayName!: string | null;
}

/** Where a client is known: one row per adapter (care organisation) and its id there. */
@Entity('client_sources')
@Index('uq_client_sources_source_external', ['source', 'externalId'], { unique: true })
export class ClientSourceEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Index('ix_client_sources_client')
  @Column({ name: 'client_id', ...idColumn })
  clientId!: string;
  @Column({ type: 'varchar', length: 50 }) source!: string;
  @Column({ name: 'external_id', type: 'varchar', length: 128 }) externalId!: string;
}
