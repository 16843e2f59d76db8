import type { DataSource } from 'typeorm';
import type { MailPort } from '../../../adapters/ports';
import { abilities } from '../../auth/abilities';
import type { AccountsService } from '../../auth/accounts.service';
import type { KeyValueStore } from '../../kv/kv';
import type { Logger } from '../../observability/logger';
import { mayReadConversation } from './message-rules';
import { ConversationEntity, ConversationParticipantEntity, type MessageEntity } from './message.entity';

/** The key that says a viewer has a live messages subscription for a client open (on any instance). */
export const presenceKey = (clientId: string, accountId: string): string => `presence:messages:${clientId}:${accountId}`;

/**
 * Tells readers of a conversation by e-mail that a message arrived: only those who may read it,
 * whose notifyNewMessage setting is on, who are not the author and have no live subscription open,
 * at most once per conversation per interval (15 minutes) per reader, across instances (kv).
 * The mail never carries the message or its subject: health data travels only over the portal.
 */
export class MessageMailer {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly db: DataSource,
    private readonly accounts: AccountsService,
    private readonly kv: KeyValueStore,
    private readonly mail: MailPort,
    private readonly logger: Logger,
    private readonly portalUrl: string,
    private readonly intervalSeconds = 15 * 60,
  ) {}

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
    for (const { link, account } of candidates) {
      if (!account?.email || !account.notifyNewMessage) continue;
      const can = abilities({ clientId: link.clientId, relation: link.relation, permissions: link.permissions, isAdmin: link.isAdmin });
      if (!mayReadConversation(can, conversation.kind, refs.has(account.id))) continue;
      if ((await this.kv.countMembers(presenceKey(message.clientId, account.id))) > 0) continue;
      if (!(await this.kv.setIfAbsent(`mail:new-message:${conversation.id}:${account.id}`, '1', this.intervalSeconds))) continue;
      await this.mail.send({
        to: account.email,
        subject: 'Nieuw bericht in uw cliëntportaal',
        text: [
          `Beste ${account.displayName},`,
          '',
          'Er staat een nieuw bericht voor u klaar in het cliëntportaal. Log in om het te lezen:',
          this.portalUrl,
          '',
          'Berichten zijn niet bedoeld voor crisissituaties. Bel bij een crisis uw behandelaar of de crisisdienst, of 112 bij direct gevaar.',
          'U kunt deze e-mails uitzetten bij uw meldingsinstellingen in het portaal.',
        ].join('\n'),
      });
    }
  }
}
