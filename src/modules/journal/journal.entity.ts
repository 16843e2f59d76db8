import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, timeColumn } from '../../db/columns';

/** One diary entry (dagboek): the portal's own record, written by the client or a parent/representative. */
@Entity('diary_entries')
@Index('ix_diary_entries_client_created', ['clientId', 'createdAt'])
export class DiaryEntryEntity {
  @PrimaryColumn(idColumn) id!: string;
  @Column({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ name: 'author_account_id', ...idColumn }) authorAccountId!: string;
  /** The author's name as it was when they wrote (an account may be renamed or removed later). */
  @Column({ name: 'author_name', type: 'varchar', length: 200 }) authorName!: string;
  @Column({ type: 'text' }) text!: string;
  @Column({ name: 'created_at', ...timeColumn }) createdAt!: Date;
}

/** The client story (Mijn Verhaal): one per client, kept by the portal. */
@Entity('client_stories')
export class ClientStoryEntity {
  @PrimaryColumn({ name: 'client_id', ...idColumn }) clientId!: string;
  @Column({ type: 'text' }) text!: string;
  @Column({ name: 'shared_with_organisation', type: 'boolean', default: false }) sharedWithOrganisation!: boolean;
  @Column({ name: 'updated_at', ...timeColumn }) updatedAt!: Date;
  @Column({ name: 'updated_by', ...idColumn }) updatedBy!: string;
}
