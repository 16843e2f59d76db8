import type { IncomingMessage, ServerResponse } from 'node:http';
import { Action } from '../../auth/access';
import { ErrorCode } from '../../errors';
import { authorizeAccount } from '../../graphql/gate-readers';
import type { Logger } from '../../observability/logger';
import { parseGlobalId } from '../ehr/global-id';
import type { Services } from '../../services';
import { sendAttachment } from './attachment-download';
import { auditAndStream } from './download';
import { bearerToken, safeDecode, sendError, sendRefusal } from '../../http/io';

/**
 * GET /files/:id?a=&e=&sig= streams a file to the viewer the URL was signed for, until it expires.
 * The viewer's right is checked again at download time and the download is written to the access log.
 */
export function filesRoute(services: Services, logger: Logger) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> => {
    if (req.method !== 'GET') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use GET with a signed download link.');
    const fileId = safeDecode(url.pathname.slice('/files/'.length));
    if (fileId === null) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'The file id in the link is not valid percent-encoding.');
    const ref = services.fileUrls.verify(fileId, url.searchParams);
    if ('error' in ref) return sendError(res, 403, ErrorCode.FORBIDDEN, ref.error);

    // A session sent along must be the one the link was made for.
    const token = bearerToken(req, services.cookies);
    let sessionMustChange = false;
    if (token) {
      const viewer = await services.sessions.authenticate(token).catch(() => null);
      if (!viewer || viewer.accountId !== ref.accountId) return sendError(res, 403, ErrorCode.FORBIDDEN, 'This download link was made for someone else.');
      sessionMustChange = viewer.mustChangePassword;
    }
    // The link was made earlier: the gate decides again now, as for any read (a password to be
    // replaced first, a 16-year-old who withdrew the parents' access, a treatment that ended).
    const mustChangePassword = sessionMustChange || (await services.ownAccounts.mustChangePassword(ref.accountId));
    const gate = (clientId: string, action: Action) => authorizeAccount(services, logger, ref.accountId, clientId, action, { mustChangePassword });

    if (fileId.startsWith('att:')) return sendAttachment({ services, logger, req, res, requestId }, fileId.slice('att:'.length), ref.accountId, gate);

    const match = /^doc:([^:]+):(.+)$/.exec(fileId);
    const doc = match ? parseGlobalId(match[2]) : null;
    if (!match || !doc) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');
    const clientId = match[1];

    const [account, grant] = await Promise.all([services.accounts.findById(ref.accountId), gate(clientId, Action.VIEW_DOSSIER)]);
    if (!account || !('access' in grant)) return sendRefusal(res, grant, 'You may no longer open this document.');
    const sources = (await services.clients.sourcesOf([clientId])).get(clientId) ?? [];
    const source = sources.find((s) => s.source === doc.source);
    if (!source) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');

    let content;
    try {
      content = await services.registry.call(doc.source, 'getDocumentContent', (a, attempt) =>
        a.getDocumentContent(source.externalId, doc.externalId, attempt.context({ requestId, accountId: account.id })),
      );
    } catch {
      return sendError(res, 503, ErrorCode.UPSTREAM_UNAVAILABLE, `The care organisation's system (${doc.source}) does not answer right now.`, {
        'retry-after': '30',
      });
    }
    if (!content) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');

    await auditAndStream(
      { services, logger, req, res, requestId },
      { account, access: grant.access },
      { clientId, eventType: 'dossier.document.download', resource: `Document: ${content.name}` },
      content,
    );
  };
}
