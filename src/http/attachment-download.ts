import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { abilities } from '../auth/abilities';
import { ErrorCode } from '../graphql/errors';
import { mayReadConversation } from '../modules/messages/message-rules';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { clientIp, sendError } from './io';

/**
 * Streams a message attachment to the account a verified link was signed for, if that account may
 * still read the message (its conversation, with today's rights) and the message was not deleted.
 */
export async function sendAttachment(services: Services, logger: Logger, req: IncomingMessage, res: ServerResponse, attachmentId: string, accountId: string, requestId: string): Promise<void> {
  const attachment = await services.attachments.find(attachmentId);
  const message = attachment?.messageId ? await services.messages.message(attachment.messageId) : null;
  const conversation = message ? await services.messages.conversation(message.conversationId) : null;
  if (!attachment || !message || message.deletedAt || !conversation) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');

  const [account, portals, participant] = await Promise.all([
    services.accounts.findById(accountId),
    services.accounts.portals(accountId),
    services.messages.isParticipant(conversation.id, accountId),
  ]);
  const access = portals.find((p) => p.clientId === conversation.clientId);
  if (!account || !access || !mayReadConversation(abilities(access), conversation.kind, participant)) {
    return sendError(res, 403, ErrorCode.FORBIDDEN, 'You may no longer open this attachment.');
  }
  const content = await services.attachments.content(attachment);
  if (!content) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');

  try {
    await services.audit.record({
      action: 'R',
      eventType: 'messages.attachment.download',
      resource: `Bijlage: ${attachment.name}`,
      clientId: conversation.clientId,
      accountId: account.id,
      actorName: account.displayName,
      actorRole: access.relation,
      onBehalfOf: access.relation === 'SELF' ? null : `client:${conversation.clientId}`,
      accessPoint: clientIp(req, services.config.TRUST_PROXY),
      requestId,
      treatmentRelationship: true,
    });
  } catch (err) {
    logger.error({ err, requestId }, 'access log write failed; download refused');
    return sendError(res, 503, ErrorCode.UPSTREAM_UNAVAILABLE, 'The download cannot be logged right now, so it is not served. Try again later.');
  }
  res.writeHead(200, {
    'content-type': attachment.mediaType,
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(attachment.name)}`,
    'content-length': String(attachment.size),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
  const stream = content instanceof Readable ? content : Readable.from(content as AsyncIterable<Uint8Array>);
  await pipeline(stream, res).catch((err) => logger.warn({ err, requestId }, 'file stream ended early'));
}
