import type { IncomingMessage, ServerResponse } from 'node:http';
import { abilities } from '../auth/abilities';
import { ErrorCode } from '../graphql/errors';
import type { Logger } from '../observability/logger';
import { parseGlobalId } from '../modules/ehr/global-id';
import type { Services } from '../services';
import { sendAttachment } from './attachment-download';
import { auditAndStream } from './download';
import { bearerToken, sendError } from './io';

/**
 * GET /files/:id?a=&e=&sig= streams a file to the viewer the URL was signed for, until it expires.
 * The viewer's right is checked again at download time and the download is written to the access log.
 */
export function filesRoute(services: Services, logger: Logger) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> => {
    if (req.method !== 'GET') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use GET with a signed download link.');
    const fileId = decodeURIComponent(url.pathname.slice('/files/'.length));
    const ref = services.fileUrls.verify(fileId, url.searchParams);
    if ('error' in ref) return sendError(res, 403, ErrorCode.FORBIDDEN, ref.error);

    // A session sent along must be the one the link was made for.
    const token = bearerToken(req);
    if (token) {
      const viewer = await services.sessions.authenticate(token).catch(() => null);
      if (!viewer || viewer.accountId !== ref.accountId) return sendError(res, 403, ErrorCode.FORBIDDEN, 'This download link was made for someone else.');
    }

    if (fileId.startsWith('att:')) return sendAttachment(services, logger, req, res, fileId.slice('att:'.length), ref.accountId, requestId);

    const match = /^doc:([^:]+):(.+)$/.exec(fileId);
    const doc = match ? parseGlobalId(match[2]!) : null;
    if (!match || !doc) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');
    const clientId = match[1]!;

    const [account, portals] = await Promise.all([services.accounts.findById(ref.accountId), services.accounts.portals(ref.accountId)]);
    const access = portals.find((p) => p.clientId === clientId);
    if (!account || !abilities(access).viewDossier) return sendError(res, 403, ErrorCode.FORBIDDEN, 'You may no longer open this document.');
    const sources = (await services.clients.sourcesOf([clientId])).get(clientId) ?? [];
    const source = sources.find((s) => s.source === doc.source);
    if (!source) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');

    let content;
    try {
      content = await services.registry.call(doc.source, 'getDocumentContent', (a, signal) =>
        a.getDocumentContent(source.externalId, doc.externalId, { requestId, accountId: account.id, signal }),
      );
    } catch {
      return sendError(res, 503, ErrorCode.UPSTREAM_UNAVAILABLE, `The care organisation's system (${doc.source}) does not answer right now.`, { 'retry-after': '30' });
    }
    if (!content) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');

    await auditAndStream(
      { services, logger, req, res, requestId },
      { account, access: access! },
      { clientId, eventType: 'dossier.document.download', resource: `Document: ${content.name}` },
      content,
    );
  };
}
