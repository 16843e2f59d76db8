import type { IncomingMessage, ServerResponse } from 'node:http';
import { Action, mayReadConversation, type Grant } from '../../auth/access';
import { ErrorCode } from '../../errors';
import type { Logger } from '../../observability/logger';
import type { Services } from '../../services';
import { auditAndStream } from './download';
import { sendError, sendRefusal } from '../../http/io';

/**
 * Streams a message attachment to the account a verified link was signed for, if the gate still
 * lets that account read the message's conversation and the message was not deleted.
 */
export async function sendAttachment(
  ctx: { services: Services; logger: Logger; req: IncomingMessage; res: ServerResponse; requestId: string },
  attachmentId: string,
  accountId: string,
  gate: (clientId: string, action: Action) => Promise<Grant | Error>,
): Promise<void> {
  const { services, res } = ctx;
  const attachment = await services.attachments.find(attachmentId);
  const message = attachment?.messageId ? await services.messages.message(attachment.messageId) : null;
  const conversation = message ? await services.messages.conversation(message.conversationId) : null;
  if (!attachment || !message || message.deletedAt || !conversation) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');

  const [account, grant, participant] = await Promise.all([
    services.accounts.findById(accountId),
    gate(conversation.clientId, Action.READ_MESSAGES),
    services.messages.isParticipant(conversation.id, accountId),
  ]);
  if (!account || !('access' in grant)) return sendRefusal(res, grant, 'You may no longer open this attachment.');
  if (!mayReadConversation(grant, conversation.kind, participant)) return sendError(res, 403, ErrorCode.FORBIDDEN, 'You may no longer open this attachment.');
  const content = await services.attachments.content(attachment);
  if (!content) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such file.');

  await auditAndStream(
    ctx,
    { account, access: grant.access },
    { clientId: conversation.clientId, eventType: 'messages.attachment.download', resource: `Bijlage: ${attachment.name}` },
    { name: attachment.name, mediaType: attachment.mediaType, size: attachment.size, stream: content },
  );
}
