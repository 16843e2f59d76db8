import type { DataSource } from 'typeorm';
import { Action, mayReadConversation } from '../../auth/access';
import { ConversationEntity, ConversationParticipantEntity, type MessageEntity } from './message.entity';
import { NotificationSender, notificationText, type NotificationMailerOptions } from '../portal/notification-text';

/** The key that says a viewer has a live messages subscription for a client open (on any instance). */
export const presenceKey = (clientId: string, accountId: string): string => `presence:messages:${clientId}:${accountId}`;

export interface MessageMailerOptions extends NotificationMailerOptions {
  db: DataSource;
}

/**
 * Tells readers of a conversation by e-mail that a message arrived: only those who may read it,
 * whose notifyNewMessage setting is on, who are not the author and have no live subscription open,
 * at most once per conversation per interval (15 minutes) per reader, across instances (kv).
 * The mail never carries the message or its subject: health data travels only over the portal.
 */
export class MessageMailer {
  private readonly sender: NotificationSender;

  constructor(private readonly deps: MessageMailerOptions) {
    this.sender = new NotificationSender(deps);
  }

  /** In the background: a mail server that is slow or down never holds a message back. */
  notify(message: MessageEntity): void {
    this.sender.inBackground(() => this.send(message), 'new-message mail not sent', { messageId: message.id });
  }

  drain(): Promise<void> {
    return this.sender.drain();
  }

  private async send(message: MessageEntity): Promise<void> {
    const { db, accounts, origins } = this.deps;
    const conversation = await db.getRepository(ConversationEntity).findOneBy({ id: message.conversationId });
    if (!conversation) return;
    const candidates = (await accounts.linkedAccounts(message.clientId)).filter(({ link }) => link.accountId !== message.authorRef);
    if (!candidates.length) return;
    const participants = await db.getRepository(ConversationParticipantEntity).findBy({ conversationId: conversation.id });
    const refs = new Set(participants.map((p) => p.ref));
    for (const { account } of candidates) {
      if (!account?.email || !account.notifyNewMessage) continue;
      // The gate, as for reading the message itself: the portal rules (a child of 16 who withheld
      // access, a closed portal) hold for a mail about it as much as for the portal.
      const grant = await this.deps.authorize(account.id, message.clientId, Action.READ_MESSAGES);
      if (!('access' in grant) || !mayReadConversation(grant, conversation.kind, refs.has(account.id))) continue;
      await this.sender.sendIfDue(
        presenceKey(message.clientId, account.id),
        `mail:new-message:${conversation.id}:${account.id}`,
        {
          to: account.email,
          subject: 'Nieuw bericht in uw cliëntportaal',
          text: notificationText(account.displayName, 'Er staat een nieuw bericht voor u klaar in het cliëntportaal.', origins.page('/'), [
            'Berichten zijn niet bedoeld voor crisissituaties. Bel bij een crisis uw behandelaar of de crisisdienst, of 112 bij direct gevaar.',
          ]),
        },
        { messageId: message.id, accountId: account.id },
      );
    }
  }
}
