import type { MailPort } from '../../../adapters/ports';
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
