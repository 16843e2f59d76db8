import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { enumListTransformer, idColumn, timeColumn } from '../../db/columns';
import type { Permission } from '../../auth/permissions';

/** An invitation to a client's personal network (Caren): valid 3 days, the token stored hashed. */
@Entity('network_invitations')
@Index('ix_network_invitations_client', ['clientId'])
export class InvitationEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ name: 'invited_by', ...idColumn }) invitedBy!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'varchar', length: 254 }) email!: string;
  @Column({ type: 'varchar', length: 10 }) language!: string;
  @Column({ type: 'varchar', length: 400, transformer: enumListTransformer }) permissions!: Permission[];
  @Column({ type: 'boolean', default: false }) admin!: boolean;
  @Index('uq_network_invitations_token', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;
  @Column({ name: 'expires_at', ...timeColumn }) expiresAt!: Date;
  @Column({ name: 'accepted_at', ...timeColumn, nullable: true }) acceptedAt!: Date | null;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
}
