import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { enumListTransformer, idColumn, timeColumn } from '../../db/columns';
import type { Permission, PortalRelation } from '../../auth/permissions';

/** One account's access to one client's portal: the relation and, for network members, the rights. */
@Entity('portal_links')
@Index('uq_portal_links_account_client', ['accountId', 'clientId'], { unique: true })
export class PortalLinkEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'account_id', ...idColumn }) accountId!: string;
  @Index('ix_portal_links_client')
  @Column({ name: 'client_id', ...idColumn })
  clientId!: string;
  @Column({ type: 'varchar', length: 20 }) relation!: PortalRelation;
  @Column({ type: 'varchar', length: 400, transformer: enumListTransformer }) permissions!: Permission[];
  @Column({ name: 'is_admin', type: 'boolean', default: false }) isAdmin!: boolean;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
}
