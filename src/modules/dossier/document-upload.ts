import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { BadUserInputError, ConflictError, NotAvailableError } from '../../errors';
import { actor, openWrites, syncStatusOf } from '../ehr/client-items';
import { dossierReads } from './dossier.service';
import { Document } from './dossier.types';
import { globalId, parseGlobalId } from '../ehr/global-id';
import type { EhrUploadedDocument } from '../../../adapters/ports';
import type { EhrWriteStatus } from '../ehr/ehr-write.entity';

/** A document's title in the dossier. */
export const TITLE_MAX = 200;

/**
 * The client's own document in the dossier (Tromp): an upload (POST /files, the same type and
 * size checks as attachments) filed with a title, written to the client's EHR (FHIR: a Binary and
 * a DocumentReference, created once per document id) and then listed in `dossier.documents` with
 * `uploadedBy`. By the client, a parent with authority or a representative (UPLOAD_DOCUMENT).
 * Should the EHR refuse or be away, the upload is released again: nothing is lost, try again.
 */
@Resolver()
export class DocumentUploadResolver {
  @Mutation(() => Document, { description: 'Files an upload (POST /files) in the dossier with a title; it goes to the care organisation’s system.' })
  async addDocument(
    @Arg('clientId', () => ID) clientId: string,
    @Arg('uploadId', () => ID) uploadId: string,
    @Arg('title') title: string,
    @Ctx() ctx: GatewayContext,
  ): Promise<Document> {
    const { access } = await authorize(ctx, clientId, Action.UPLOAD_DOCUMENT);
    const name = title.trim();
    if (!name || [...name].length > TITLE_MAX)
      throw new BadUserInputError(`Give the document a title of 1 to ${TITLE_MAX} characters.`, { field: 'title', limit: TITLE_MAX });
    const target = (await ctx.ehr.clientSources(clientId)).find((s) => typeof ctx.services.registry.adapter(s.source)?.uploadDocument === 'function');
    if (!target) throw new NotAvailableError('Adding documents at this care organisation');
    const account = await ctx.account();
    const documentId = randomUUID();
    const at = new Date().toISOString();
    const uploadedBy = await actor(ctx, access);
    // Taken and in the EHR write outbox in one transaction: tried at once, kept (with the upload) and retried while the EHR is away.
    const { write, input } = await ctx.services.attachments.fileAsDocument(uploadId, account.id, documentId, async (tx, upload) => {
      const stored: StoredUpload = {
        documentId,
        uploadId: upload.id,
        title: name,
        fileName: upload.name,
        mediaType: upload.mediaType,
        size: Number(upload.size),
        uploadedBy,
        at,
      };
      const subject = globalId(target.source, documentId);
      const queued = await ctx.services.ehrWrites.enqueue(tx, {
        clientId,
        source: target.source,
        externalClientId: target.externalId,
        method: 'uploadDocument',
        subject,
        input: stored,
      });
      return { write: queued, input: stored };
    });
    const outcome = await ctx.services.ehrWrites.tryNow(write);
    if (outcome.state === 'refused') {
      // Not filed: the upload is the uploader's again (until the unused-upload sweep).
      await ctx.services.attachments.releaseFromDocument(input.uploadId, documentId);
      throw new ConflictError(`The care organisation's system refused the document: ${outcome.reason}`);
    }
    await ctx.audit(
      { action: 'C', eventType: 'dossier.document.upload', resource: `Document toegevoegd: ${name}`, clientId, treatmentRelationship: true },
      access,
    );
    if (outcome.state === 'pending') return pendingDocument(clientId, target.source, input, 'pending');
    await ctx.ehr.forget(clientId, target.source, 'listDocuments');
    const externalId = outcome.id ?? documentId;
    const id = globalId(target.source, externalId);
    // The EHR took it: a re-read that fails now answers the document as filed, not an error (which would make the person upload it again).
    const listed = (await dossierReads.documents(ctx, clientId).catch(() => [])).find((d) => d.id === id);
    return listed ?? { ...pendingDocument(clientId, target.source, input, 'pending'), id, externalId, syncStatus: null };
  }
}

/** An upload as it waits in the outbox: the port's input without the bytes (read from file storage when it goes). */
export type StoredUpload = Omit<EhrUploadedDocument, 'content'> & { uploadId: string };

/** A document filed in the portal and not yet taken by the EHR: listed with the client as uploader, syncStatus PENDING. */
export function pendingDocument(clientId: string, source: string, input: StoredUpload, status: EhrWriteStatus): Document {
  return {
    id: globalId(source, input.documentId),
    externalId: input.documentId,
    name: input.title,
    mediaType: input.mediaType,
    uploadedBy: input.uploadedBy.name,
    uploadedAt: input.at,
    needsApproval: false,
    approvedAt: null,
    source,
    clientId,
    syncStatus: syncStatusOf(status),
  };
}

/** The documents as the client sees them: the ones they filed that the EHR has not taken yet are in the list. */
export async function withPendingUploads(ctx: GatewayContext, clientId: string, documents: Document[]): Promise<Document[]> {
  const waiting = await openWrites(ctx, clientId, 'uploadDocument');
  if (!waiting.size) return documents;
  const extra = [...waiting].filter(([id]) => !documents.some((d) => d.id === id));
  return [...documents, ...extra.map(([id, w]) => pendingDocument(clientId, parseGlobalId(id)!.source, w.input as unknown as StoredUpload, w.status))];
}
