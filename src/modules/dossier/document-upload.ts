import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { BadUserInputError, ConflictError, NotAvailableError } from '../../errors';
import { actor } from './approvals.service';
import { dossierReads } from './dossier.service';
import { Document } from './dossier.types';
import { globalId } from '../ehr/global-id';

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
    const upload = await ctx.services.attachments.takeForDocument(uploadId, account.id, documentId);
    try {
      const by = await actor(ctx, access);
      const result = await ctx.ehr.write(target.source, 'uploadDocument', (adapter, c) =>
        adapter.uploadDocument!(
          target.externalId,
          {
            documentId,
            title: name,
            fileName: upload.name,
            mediaType: upload.mediaType,
            size: Number(upload.size),
            content: async () => {
              const stream = await ctx.services.attachments.content(upload);
              if (!stream) throw new Error(`upload ${upload.id} is missing from file storage`);
              return stream;
            },
            uploadedBy: by,
            at: new Date().toISOString(),
          },
          c,
        ),
      );
      if (!result.done) throw new ConflictError(`The care organisation's system refused the document: ${result.reason}`);
      // The EHR holds it now; the portal keeps no copy.
      await ctx.services.attachments.removeFiled(upload.id, documentId);
      await ctx.audit(
        { action: 'C', eventType: 'dossier.document.upload', resource: `Document toegevoegd: ${name}`, clientId, treatmentRelationship: true },
        access,
      );
      await ctx.ehr.forget(clientId, target.source, 'listDocuments');
      const externalId = result.id ?? documentId;
      const id = globalId(target.source, externalId);
      const listed = (await dossierReads.documents(ctx, clientId)).find((d) => d.id === id);
      return (
        listed ?? {
          id,
          name,
          mediaType: upload.mediaType,
          uploadedBy: account.displayName,
          uploadedAt: new Date().toISOString(),
          needsApproval: false,
          approvedAt: null,
          source: target.source,
          clientId,
          externalId,
        }
      );
    } catch (err) {
      // Not filed: the upload is the uploader's again (until the unused-upload sweep).
      await ctx.services.attachments.releaseFromDocument(upload.id, documentId);
      throw err;
    }
  }
}
