import type { MailMessage, MailPort } from '../ports';

/** The embedded default: mail goes to the log (recipient and subject; the text in development or at debug). */
export class LogMailer implements MailPort {
  constructor(
    private readonly log: { info(obj: object, msg: string): void; debug(obj: object, msg: string): void },
    /** Development only: show the text (login codes, links) in the log so a developer can use them. */
    private readonly showText = false,
  ) {}
  async send(message: MailMessage): Promise<void> {
    this.log.info({ mailTo: message.to, subject: message.subject }, 'mail (not sent: embedded default)');
    if (this.showText) this.log.info({ mailTo: message.to, mailText: message.text }, 'mail text');
    else this.log.debug({ mailTo: message.to, mailText: message.text }, 'mail text');
  }
}

/** Tests read what would have been sent from here. */
export class MemoryMailer implements MailPort {
  readonly sent: MailMessage[] = [];
  async send(message: MailMessage): Promise<void> {
    this.sent.push(message);
  }
  last(to: string): MailMessage | undefined {
    return [...this.sent].reverse().find((m) => m.to === to);
  }
}
