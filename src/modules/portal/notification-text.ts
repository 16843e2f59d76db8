import type { MailMessage, MailPort } from '../../../adapters/ports';
import type { Action, Grant } from '../../auth/access';
import type { BrowserOrigins } from '../../http/origins';
import type { KeyValueStore } from '../../kv/kv';
import type { Logger } from '../../observability/logger';
import type { AccountsService } from '../identity/accounts.service';

/** What every notification mailer (new messages, documents, appointments, questionnaires) is given. */
export interface NotificationMailerOptions {
  accounts: AccountsService;
  kv: KeyValueStore;
  mail: MailPort;
  logger: Logger;
  /** The portal frontend's pages (the link in the mail). */
  origins: Pick<BrowserOrigins, 'page'>;
  /** The access gate for an account outside a request (gate-readers' authorizeAccount). */
  authorize: (accountId: string, clientId: string, action: Action) => Promise<Grant | Error>;
  /** At most one mail per subject per reader in this many seconds (15 minutes). */
  intervalSeconds?: number;
}

/** The body of every notification mail: who it is for, what happened (no content), where to look, how to stop them. */
export function notificationText(displayName: string, line: string, link: string, extra: string[] = []): string {
  return [
    `Beste ${displayName},`,
    '',
    `${line} Log in om het te bekijken:`,
    link,
    '',
    ...extra,
    'U kunt deze e-mails uitzetten bij uw meldingsinstellingen in het portaal.',
  ].join('\n');
}

/**
 * The notification mailers' common part: mails go in the background (a slow or absent mail server
 * never holds an event or a message back; drained at shutdown), and a mail to an account is due
 * only while it has no live subscription open for the client (the portal is open, it sees it there)
 * and not already sent under the same throttle key within the interval (across instances, kv).
 */
export class NotificationSender {
  private readonly inFlight = new Set<Promise<void>>();
  readonly intervalSeconds: number;

  constructor(private readonly options: Pick<NotificationMailerOptions, 'kv' | 'logger' | 'intervalSeconds' | 'mail'>) {
    this.intervalSeconds = options.intervalSeconds ?? 15 * 60;
  }

  inBackground(job: () => Promise<void>, failure: string, bindings: Record<string, unknown>): void {
    const running = job()
      .catch((err: Error) => this.options.logger.warn({ err: err.message, ...bindings }, failure))
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * One recipient's mail, when due: a failure is logged and frees the throttle key (the next change
   * mails again instead of none for the interval), and the other recipients still get theirs.
   */
  async sendIfDue(presence: string, throttleKey: string, message: MailMessage, bindings: Record<string, unknown>): Promise<void> {
    // The store away: whether the portal is open, or a mail just went, is unknown; a notice twice is better than none.
    if ((await this.options.kv.countMembers(presence).catch(() => 0)) > 0) return;
    if (!(await this.options.kv.setIfAbsent(throttleKey, '1', this.intervalSeconds).catch(() => true))) return;
    try {
      await this.options.mail.send(message);
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message, ...bindings }, 'notification mail not sent; the next change mails again');
      await this.options.kv.del(throttleKey).catch(() => undefined);
    }
  }
}
