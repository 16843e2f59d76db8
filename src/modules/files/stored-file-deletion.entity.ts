import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timeColumn } from '../../db/columns';

/**
 * Bytes in file storage whose row is gone and which are still to be deleted: written in the same
 * transaction that removes the row, removed once the storage confirmed the delete. A storage that
 * fails (S3 down) leaves the line, and the next sweep tries again; no file is forgotten on disk.
 */
@Entity('stored_file_deletions')
export class StoredFileDeletionEntity {
  @PrimaryColumn({ name: 'storage_key', type: 'varchar', length: 100 }) storageKey!: string;
  @Column({ name: 'queued_at', ...timeColumn }) queuedAt!: Date;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'last_error', type: 'varchar', length: 200, nullable: true }) lastError!: string | null;
}
