import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { restsOnChildConsent } from '../../auth/access';
import { PortalRelation, type PortalAccess } from '../../auth/permissions';
import { onBehalfOf } from '../../graphql/context';
import { ErrorCode } from '../../errors';
import { sharedPortalProfile } from '../../graphql/gate-readers';
import type { Logger } from '../../observability/logger';
import type { Services } from '../../services';
import { clientIp, sendError } from '../../http/io';

export interface DownloadFile {
  name: string;
  mediaType: string;
  size?: number;
  stream: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
}

/**
 * The last steps of every file download: write the access-log line first (no log, no file), then
 * stream the bytes as an attachment that the browser will not sniff or cache.
 */
export async function auditAndStream(
  ctx: { services: Services; logger: Logger; req: IncomingMessage; res: ServerResponse; requestId: string },
  who: { account: { id: string; displayName: string }; access: PortalAccess },
  what: { clientId: string; eventType: string; resource: string },
  file: DownloadFile,
): Promise<void> {
  const { services, logger, req, res, requestId } = ctx;
  try {
    // Read for anyone but the client in person: the line names on whose behalf, and whether the access rested on a consent.
    const profile = who.access.relation === PortalRelation.SELF ? null : await sharedPortalProfile(services, logger)(what.clientId);
    await services.audit.record({
      action: 'R',
      eventType: what.eventType,
      resource: what.resource,
      clientId: what.clientId,
      accountId: who.account.id,
      actorName: who.account.displayName,
      actorRole: who.access.relation,
      onBehalfOf: onBehalfOf(who.access, profile?.name),
      accessPoint: clientIp(req, services.config.TRUST_PROXY),
      requestId,
      treatmentRelationship: true,
      consentApplied: restsOnChildConsent(who.access, profile),
    });
  } catch (err) {
    logger.error({ err, requestId }, 'access log write failed; download refused');
    return sendError(res, 503, ErrorCode.UPSTREAM_UNAVAILABLE, 'The download cannot be logged right now, so it is not served. Try again later.');
  }
  res.writeHead(200, {
    'content-type': file.mediaType,
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    ...(file.size !== undefined ? { 'content-length': String(file.size) } : {}),
  });
  const stream = file.stream instanceof Readable ? file.stream : Readable.from(file.stream as AsyncIterable<Uint8Array>);
  await pipeline(stream, res).catch((err) => logger.warn({ err, requestId }, 'file stream ended early'));
}
