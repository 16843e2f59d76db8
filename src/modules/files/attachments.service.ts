import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { fromBuffer } from 'file-type';
import { In, IsNull, LessThan, type DataSource, type EntityManager } from 'typeorm';
import type { FileStoragePort } from '../../../adapters/ports';
import { BadUserInputError } from '../../errors';
import { AttachmentEntity } from '../messages/message.entity';
import { StoredFileDeletionEntity } from './stored-file-deletion.entity';

/** What may be attached: documents, images, audio and video, judged by content. Executables and archives are not on it. */
const ALLOWED_MEDIA_TYPES = new Set([
  'application/pdf',
  'application/rtf',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/heic',
  'image/heif',
  'image/tiff',
  'image/bmp',
  'audio/mpeg',
  'audio/mp4',
  'audio/ogg',
  'audio/vnd.wave',
  'video/mp4',
  'video/quicktime',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'text/plain',
]);
const SNIFF_BYTES = 4100;
/** Storage deletes under way at once (a portal's files at retention can be many). */
const DELETE_CONCURRENCY = 10;
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

export class AttachmentRefusedError extends Error {
  constructor(
    readonly status: 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Uploaded files and their use as message attachments. The bytes go to file storage behind a
 * port; the row says who uploaded it and, once used, to which message it belongs (only once).
 */
/** The upload could not be kept (file storage or the database did not take it): not the sender's fault, answered 503. */
export class UploadNotKeptError extends Error {}

export class AttachmentsService {
  constructor(
    private readonly db: DataSource,
    private readonly storage: FileStoragePort,
    private readonly maxBytes: number,
  ) {}

  /** Streams an upload to storage: type by content (415 if not allowed), size capped (413). */
  async upload(accountId: string, fileName: string, stream: Readable): Promise<AttachmentEntity> {
    const { head, rest } = await readHead(stream, SNIFF_BYTES);
    const mediaType = await mediaTypeOf(head);
    if (!mediaType || !ALLOWED_MEDIA_TYPES.has(mediaType)) {
      stream.resume();
      throw new AttachmentRefusedError(415, `Only documents, images, audio and video can be attached; this file is ${mediaType ?? 'of an unknown type'}.`);
    }
    const max = this.maxBytes;
    let size = 0;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of rest()) {
          size += chunk.length;
          if (size > max) throw new AttachmentRefusedError(413, `The file is larger than ${max} bytes.`);
          yield chunk;
        }
      })(),
    );
    const storageKey = randomUUID();
    try {
      await this.storage.put(storageKey, counted);
    } catch (err) {
      // Let busboy finish the request so the answer (413) can go out.
      stream.resume();
      // A refusal, or the sender gone (its stream failed): as it is; anything else is the storage's.
      if (err instanceof AttachmentRefusedError || stream.errored) throw err;
      throw new UploadNotKeptError(`file storage did not take the upload: ${(err as Error).message}`);
    }
    const row: AttachmentEntity = {
      id: randomUUID(),
      uploaderAccountId: accountId,
      messageId: null,
      name: cleanName(fileName),
      mediaType,
      size,
      storageKey,
      createdAt: new Date(),
    };
    try {
      await this.db.getRepository(AttachmentEntity).insert(row);
    } catch (err) {
      // Bytes without a row: noted and deleted (straight from storage, should the note fail too), never left unnoticed.
      await this.db
        .transaction((tx) => this.queueDeletion(tx, [storageKey]))
        .then(() => this.deleteQueued([storageKey]))
        .catch(() => this.storage.delete(storageKey))
        .catch(() => undefined);
      throw new UploadNotKeptError(`the upload's record could not be stored: ${(err as Error).message}`);
    }
    return row;
  }

  /**
   * Attaches uploads to a message inside the message's transaction: only the uploader's own, not
   * yet used ones. The conditional update is the guard, so two messages cannot take the same file.
   */
  async claim(tx: EntityManager, ids: string[], accountId: string, messageId: string): Promise<void> {
    const unique = [...new Set(ids)];
    if (!unique.length) return;
    if (unique.length > MAX_ATTACHMENTS_PER_MESSAGE)
      throw new BadUserInputError(`At most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments per message.`, {
        field: 'attachmentIds',
        limit: MAX_ATTACHMENTS_PER_MESSAGE,
      });
    const result = await tx.getRepository(AttachmentEntity).update({ id: In(unique), uploaderAccountId: accountId, messageId: IsNull() }, { messageId });
    if (result.affected !== unique.length) {
      throw new BadUserInputError('An attachment is unknown, was uploaded by someone else, or is already part of a message.', { field: 'attachmentIds' });
    }
  }

  /**
   * Takes an upload for a dossier document (the uploader's own, not yet used): marked `doc:<id>`,
   * so no message or second document can take it while it is written to the EHR. `enqueue` stores
   * the write in the same transaction: taken and on its way, or neither.
   */
  async fileAsDocument<T>(id: string, accountId: string, documentId: string, enqueue: (tx: EntityManager, upload: AttachmentEntity) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(AttachmentEntity);
      const taken = await repo.update({ id, uploaderAccountId: accountId, messageId: IsNull() }, { messageId: `doc:${documentId}` });
      if (taken.affected !== 1) throw new BadUserInputError('The upload is unknown, was uploaded by someone else, or is already used.', { field: 'uploadId' });
      return enqueue(tx, (await repo.findOneBy({ id }))!);
    });
  }

  /** A document that was not filed gives its upload back (it can be used again, or is swept as unused). */
  async releaseFromDocument(id: string, documentId: string): Promise<void> {
    await this.db.getRepository(AttachmentEntity).update({ id, messageId: `doc:${documentId}` }, { messageId: null });
  }

  /** Once the EHR holds the document, the portal keeps no copy: row and bytes go. */
  async removeFiled(id: string, documentId: string): Promise<void> {
    const row = await this.db.getRepository(AttachmentEntity).findOneBy({ id, messageId: `doc:${documentId}` });
    if (!row) return;
    await this.db.transaction(async (tx) => {
      await tx.getRepository(AttachmentEntity).delete({ id });
      await this.queueDeletion(tx, [row.storageKey]);
    });
    await this.deleteQueued([row.storageKey]);
  }

  find(id: string): Promise<AttachmentEntity | null> {
    return this.db.getRepository(AttachmentEntity).findOneBy({ id });
  }

  forMessage(messageId: string): Promise<AttachmentEntity[]> {
    return this.db.getRepository(AttachmentEntity).find({ where: { messageId }, order: { createdAt: 'ASC' } });
  }

  content(attachment: AttachmentEntity): Promise<NodeJS.ReadableStream | null> {
    return this.storage.get(attachment.storageKey);
  }

  /**
   * Uploads that were never used (no message took them) within `maxAgeMs` are removed, rows and
   * bytes; answers how many. Idempotent, so every instance may run it.
   */
  async removeUnused(maxAgeMs: number, now = Date.now()): Promise<number> {
    // Bytes an earlier removal could not delete (the storage failed then) go first.
    await this.deleteQueued();
    const stale = await this.db
      .getRepository(AttachmentEntity)
      .find({ where: { messageId: IsNull(), createdAt: LessThan(new Date(now - maxAgeMs)) }, take: 500 });
    const keys: string[] = [];
    for (const row of stale) {
      // The row first, and only while still unused: a message that took it meanwhile keeps its file.
      await this.db.transaction(async (tx) => {
        const gone = await tx.getRepository(AttachmentEntity).delete({ id: row.id, messageId: IsNull() });
        if (!gone.affected) return;
        await this.queueDeletion(tx, [row.storageKey]);
        keys.push(row.storageKey);
      });
    }
    await this.deleteQueued(keys);
    return keys.length;
  }

  /**
   * A deleted message's files are gone for everyone: their rows go in the message's own deletion
   * (`tx`), their bytes are noted there and answered, for deleteQueued once it committed.
   */
  async removeForMessage(tx: EntityManager, messageId: string): Promise<string[]> {
    const rows = await tx.getRepository(AttachmentEntity).findBy({ messageId });
    if (!rows.length) return [];
    await tx.getRepository(AttachmentEntity).delete({ messageId });
    const keys = rows.map((r) => r.storageKey);
    await this.queueDeletion(tx, keys);
    return keys;
  }

  /**
   * Notes bytes whose rows `tx` removes as still to be deleted from storage, in the same
   * transaction: the rows and the note land together, so no file outlives its row unnoticed.
   * The caller deletes them after the commit (deleteQueued).
   */
  async queueDeletion(tx: EntityManager, storageKeys: readonly string[]): Promise<void> {
    if (!storageKeys.length) return;
    const queuedAt = new Date();
    await tx.getRepository(StoredFileDeletionEntity).upsert(
      storageKeys.map((storageKey) => ({ storageKey, queuedAt, attempts: 0, lastError: null })),
      ['storageKey'],
    );
  }

  /**
   * Deletes queued bytes from storage (these keys, or the oldest 500 of the queue), each on its own:
   * a key whose delete failed stays queued with the error, for the next sweep (the hourly unused-
   * upload sweep, or the retention job's next run). Never throws for the storage; answers the counts.
   */
  async deleteQueued(storageKeys?: readonly string[]): Promise<{ deleted: number; failed: number }> {
    const queue = this.db.getRepository(StoredFileDeletionEntity);
    const keys = storageKeys ?? (await queue.find({ select: { storageKey: true }, order: { queuedAt: 'ASC' }, take: 500 })).map((r) => r.storageKey);
    let deleted = 0;
    let failed = 0;
    for (let at = 0; at < keys.length; at += DELETE_CONCURRENCY) {
      const results = await Promise.allSettled(
        keys.slice(at, at + DELETE_CONCURRENCY).map(async (storageKey) => {
          try {
            await this.storage.delete(storageKey);
          } catch (err) {
            await queue.update({ storageKey }, { attempts: () => 'attempts + 1', lastError: String((err as Error).message).slice(0, 200) });
            throw err;
          }
          await queue.delete({ storageKey });
        }),
      );
      for (const r of results)
        if (r.status === 'fulfilled') deleted++;
        else failed++;
    }
    return { deleted, failed };
  }

  /** How many stored files wait to be deleted (/metrics: gateway_stored_file_deletions_pending; the retention report). */
  queuedDeletions(): Promise<number> {
    return this.db.getRepository(StoredFileDeletionEntity).count();
  }
}

/** Reads the first bytes for sniffing without losing them: answers them and the whole stream again. */
async function readHead(stream: Readable, bytes: number): Promise<{ head: Buffer; rest: () => AsyncIterable<Buffer> }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  await new Promise<void>((resolve, reject) => {
    const finish = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause();
      resolve();
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) finish();
    };
    const onEnd = () => {
      ended = true;
      finish();
    };
    const onError = (err: Error) => reject(err);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
  const head = Buffer.concat(chunks);
  return {
    head,
    rest: async function* () {
      yield head;
      if (!ended) for await (const chunk of stream) yield chunk as Buffer;
    },
  };
}

/** The type the bytes say; plain UTF-8 text (no control characters) counts as text/plain. */
async function mediaTypeOf(head: Buffer): Promise<string | null> {
  if (!head.length) return null;
  const detected = await fromBuffer(head);
  if (detected) return detected.mime;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    // eslint-disable-next-line no-control-regex -- control characters are what tells binary from text
    return /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text) ? null : 'text/plain';
  } catch {
    return null;
  }
}

function cleanName(name: string): string {
  const base = basename(name.replace(/\\/g, '/'))
    // eslint-disable-next-line no-control-regex -- control characters are taken out of file names
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return [...(base || 'bestand')].slice(0, 200).join('');
}
