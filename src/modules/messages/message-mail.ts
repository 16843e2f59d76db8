import type { DataSource } from 'typeorm';
import type { MailPort } from '../../../adapters/ports';
import { Action, mayReadConversation } from '../../auth/access';
import type { AccountsService } from '../identity/accounts.service';
import type { KeyValueStore } from '../../kv/kv';
import type { Logger } from '../../observability/logger';
import { ConversationEntity, ConversationParticipantEntity, type MessageEntity } from './message.entity';
import { notificationText, type NotificationMailerOptions } from '../portal/notification-text';

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
  private readonly inFlight = new Set<Promise<void>>();

  private readonly db: DataSource;
  private readonly accounts: AccountsService;
  private readonly kv: KeyValueStore;
  private readonly mail: MailPort;
  private readonly logger: Logger;
  private readonly origins: MessageMailerOptions['origins'];
  private readonly intervalSeconds: number;
  private readonly authorize: MessageMailerOptions['authorize'];

  constructor(options: MessageMailerOptions) {
    ({ db: this.db, accounts: this.accounts, kv: this.kv, mail: this.mail, logger: this.logger, origins: this.origins, authorize: this.authorize } = options);
    this.intervalSeconds = options.intervalSeconds ?? 15 * 60;
  }

  /** In the background: a mail server that is slow or down never holds a message back. */
  notify(message: MessageEntity): void {
    const job = this.send(message)
      .catch((err: Error) => this.logger.warn({ err: err.message, messageId: message.id }, 'new-message mail not sent'))
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async send(message: MessageEntity): Promise<void> {
    const conversation = await this.db.getRepository(ConversationEntity).findOneBy({ id: message.conversationId });
    if (!conversation) return;
    const candidates = (await this.accounts.linkedAccounts(message.clientId)).filter(({ link }) => link.accountId !== message.authorRef);
    if (!candidates.length) return;
    const participants = await this.db.getRepository(ConversationParticipantEntity).findBy({ conversationId: conversation.id });
    const refs = new Set(participants.map((p) => p.ref));
    for (const { account } of candidates) {
      if (!account?.email || !account.notifyNewMessage) continue;
      // The gate, as for reading the message itself: the portal rules (a child of 16 who withheld
      // access, a closed portal) hold for a mail about it as much as for the portal.
      const grant = await this.authorize(account.id, message.clientId, Action.READ_MESSAGES);
      if (!('access' in grant) || !mayReadConversation(grant, conversation.kind, refs.has(account.id))) continue;
      if ((await this.kv.countMembers(presenceKey(message.clientId, account.id))) > 0) continue;
      if (!(await this.kv.setIfAbsent(`mail:new-message:${conversation.id}:${account.id}`, '1', this.intervalSeconds))) continue;
      await this.mail.send({
        to: account.email,
        subject: 'Nieuw bericht in uw cliëntportaal',
        text: notificationText(account.displayName, 'Er staat een nieuw bericht voor u klaar in het cliëntportaal.', this.origins.page('/'), [
          'Berichten zijn niet bedoeld voor crisissituaties. Bel bij een crisis uw behandelaar of de crisisdienst, of 112 bij direct gevaar.',
        ]),
      });
    }
  }
}
