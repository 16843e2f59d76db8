import { Action } from '../../auth/access';
import type { AccountEntity } from '../identity/account.entity';
import { presenceKey } from '../messages/message-mail';
import { NotificationSender, notificationText, type NotificationMailerOptions } from './notification-text';

/** What changed in a client's portal, as a practitioner system announced it (POST /sync/events). */
export type ChangeKind = 'document' | 'appointment' | 'questionnaire';

/** Per kind: the notification setting that turns it on, the right to see it, and the mail's words (never the content). */
const KINDS: Record<
  ChangeKind,
  { setting: keyof Pick<AccountEntity, 'notifyNewDocument' | 'notifyNewAppointment' | 'notifyNewQuestionnaire'>; action: Action; subject: string; line: string }
> = {
  document: {
    setting: 'notifyNewDocument',
    action: Action.VIEW_DOSSIER,
    subject: 'Nieuw document in uw cliëntportaal',
    line: 'Er staat een nieuw document voor u klaar in het cliëntportaal.',
  },
  appointment: {
    setting: 'notifyNewAppointment',
    action: Action.VIEW_AGENDA,
    subject: 'Afspraak gewijzigd in uw cliëntportaal',
    line: 'Er is een afspraak bijgekomen of gewijzigd in het cliëntportaal.',
  },
  questionnaire: {
    setting: 'notifyNewQuestionnaire',
    action: Action.VIEW_QUESTIONNAIRES,
    subject: 'Nieuwe vragenlijst in uw cliëntportaal',
    line: 'Er staat een nieuwe vragenlijst voor u klaar in het cliëntportaal.',
  },
};

export type ChangeMailerOptions = NotificationMailerOptions;

/**
 * The notification settings besides new messages (message-mail.ts): a mail when a document is
 * published, an appointment added or changed, or a questionnaire assigned, to every linked account
 * whose setting for that kind is on and who may see that part now (the gate, as for reading it),
 * not while they have the portal open (a live subscription), at most once per kind per client per
 * 15 minutes (across instances). The mail says only that something is there.
 */
export class ChangeMailer {
  private readonly sender: NotificationSender;

  constructor(private readonly deps: ChangeMailerOptions) {
    this.sender = new NotificationSender(deps);
  }

  /** In the background: a slow or absent mail server never holds an event back. */
  notify(kind: ChangeKind, clientId: string): void {
    this.sender.inBackground(() => this.send(kind, clientId), 'change mail not sent', { kind, clientId });
  }

  drain(): Promise<void> {
    return this.sender.drain();
  }

  private async send(kind: ChangeKind, clientId: string): Promise<void> {
    const { setting, action, subject, line } = KINDS[kind];
    for (const { account } of await this.deps.accounts.linkedAccounts(clientId)) {
      if (!account?.email || !account[setting]) continue;
      if (!('access' in (await this.deps.authorize(account.id, clientId, action)))) continue;
      await this.sender.sendIfDue(
        presenceKey(clientId, account.id),
        `mail:change:${kind}:${clientId}:${account.id}`,
        { to: account.email, subject, text: notificationText(account.displayName, line, this.deps.origins.page('/')) },
        { kind, clientId, accountId: account.id },
      );
    }
  }
}
