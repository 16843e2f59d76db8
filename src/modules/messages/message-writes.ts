import { In, Not, type DataSource, type EntityManager } from 'typeorm';
import type { ClientSourceRef } from '../clients/clients.service';
import type { EhrOutboundAttachment, EhrOutboundMessage } from '../../../adapters/ports';
import type { AttachmentsService } from '../files/attachments.service';
import { EhrWriteEntity, type EhrWriteStatus } from '../ehr/ehr-write.entity';
import { payloadOf, WriteCancelled, type EhrWrites } from '../ehr/ehr-writes';
import { parseGlobalId } from '../ehr/global-id';
import { ConversationEntity, ConversationParticipantEntity, MessageEntity } from './message.entity';

/** A message's way to an EHR through the EHR write outbox: its row holds only the message id; the text is read when it goes. */
export interface MessageWriteInput {
  messageId: string;
}

/**
 * Stores, in the message's transaction, a write per EHR of the message (the client's record there,
 * as the resolver read it): its send, or the withdrawal of the EHR's copy after the author deleted it.
 */
export async function enqueueMessageWrites(
  tx: EntityManager,
  writes: EhrWrites,
  message: Pick<MessageEntity, 'id' | 'clientId'>,
  targets: readonly ClientSourceRef[],
  method: 'sendMessage' | 'withdrawMessage',
): Promise<void> {
  const input: MessageWriteInput = { messageId: message.id };
  for (const t of new Map(targets.map((x) => [x.source, x])).values())
    await writes.enqueue(tx, { clientId: message.clientId, source: t.source, externalClientId: t.externalId, method, subject: message.id, input });
}

/** The EHRs a message's send went (or may still go) to, with the client's id there (from the send): where a deletion must withdraw a copy. */
export async function sentTo(tx: EntityManager, message: Pick<MessageEntity, 'id' | 'clientId'>): Promise<ClientSourceRef[]> {
  const rows = await tx.getRepository(EhrWriteEntity).findBy({
    clientId: message.clientId,
    subject: message.id,
    method: 'sendMessage',
    status: Not(In(['cancelled', 'refused', 'superseded'])),
  });
  return rows.map((r) => ({ source: r.source, externalId: payloadOf(r).externalClientId }));
}

/** The outbox states of every message of a conversation that goes to an EHR (its sends), by message id: one query for the whole conversation. */
export async function sendStates(db: DataSource, conversationId: string): Promise<Map<string, EhrWriteStatus[]>> {
  const rows: { messageId: string; status: EhrWriteStatus }[] = await db
    .getRepository(EhrWriteEntity)
    .createQueryBuilder('w')
    .innerJoin(MessageEntity, 'm', 'm.client_id = w.client_id AND m.id = w.subject')
    .select('m.id', 'messageId')
    .addSelect('w.status', 'status')
    .where('m.conversation_id = :conversationId', { conversationId })
    .andWhere("w.method = 'sendMessage'")
    .getRawMany();
  const states = new Map<string, EhrWriteStatus[]>();
  for (const r of rows) states.set(r.messageId, [...(states.get(r.messageId) ?? []), r.status]);
  return states;
}

/**
 * What a message's write takes when it goes (the outbox's `prepare`): for a send, the message as
 * the portal holds it then (a deleted one is cancelled, never sent), its practitioners in that EHR
 * and its attachments' bytes; for a withdrawal, only once the send settled, and only if a copy got there.
 */
export function messageWritePreparer(db: DataSource, attachments: AttachmentsService) {
  return async (row: EhrWriteEntity, input: unknown): Promise<unknown> => {
    const { messageId } = input as MessageWriteInput;
    if (row.method === 'withdrawMessage') {
      const sends = await db.getRepository(EhrWriteEntity).findBy({ clientId: row.clientId, subject: messageId, source: row.source, method: 'sendMessage' });
      if (sends.some((s) => s.status === 'pending')) throw new Error('the send of this message has not settled yet');
      if (!sends.some((s) => s.status === 'delivered')) throw new WriteCancelled('no copy reached this EHR');
      return input;
    }
    const message = await db.getRepository(MessageEntity).findOneBy({ id: messageId });
    if (!message) throw new WriteCancelled('the message no longer exists');
    if (message.deletedAt || message.body === null) throw new WriteCancelled('the author deleted the message before it was delivered');
    const [conversation, participants, files] = await Promise.all([
      db.getRepository(ConversationEntity).findOneByOrFail({ id: message.conversationId }),
      db.getRepository(ConversationParticipantEntity).findBy({ conversationId: message.conversationId, kind: 'PRACTITIONER' }),
      attachments.forMessage(message.id),
    ]);
    const outbound: EhrOutboundMessage = {
      messageId: message.id,
      conversationId: conversation.id,
      subject: conversation.subject,
      body: message.body,
      authorName: message.authorName,
      recipientPractitionerIds: participants.flatMap((p) => {
        const id = parseGlobalId(p.ref);
        return id && id.source === row.source ? [id.externalId] : [];
      }),
      sentAt: message.sentAt.toISOString(),
      attachments: files.map((a): EhrOutboundAttachment => ({
        id: a.id,
        name: a.name,
        mediaType: a.mediaType,
        size: Number(a.size),
        content: async () => {
          const stream = await attachments.content(a);
          // Gone from storage while the message still lists it: retried (a shared store may lag), never sent without it.
          if (!stream) throw new Error(`attachment ${a.id} is missing from file storage`);
          return stream;
        },
      })),
    };
    return outbound;
  };
}
