import type { IncomingMessage, ServerResponse } from 'node:http';
import { abilities } from '../auth/abilities';
import { ErrorCode } from '../graphql/errors';
import { mayReadConversation } from '../modules/messages/message-rules';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { auditAndStream } from './download';
import { sendError } from './io';

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

  await auditAndStream(
    { services, logger, req, res, requestId },
    { account, access },
    { clientId: conversation.clientId, eventType: 'messages.attachment.download', resource: `Bijlage: ${attachment.name}` },
    { name: attachment.name, mediaType: attachment.mediaType, size: attachment.size, stream: content },
  );
}
