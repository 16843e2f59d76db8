import type { SmsMessage, SmsPort } from '../ports';

/** The embedded default: SMS goes to the log, the number masked. */
export class LogSms implements SmsPort {
  constructor(
    private readonly log: { info(obj: object, msg: string): void; debug(obj: object, msg: string): void },
    /** Development only: show the text (login codes, links) in the log so a developer can use them. */
    private readonly showText = false,
  ) {}
  async send(message: SmsMessage): Promise<void> {
    this.log.info({ smsTo: `${message.to.slice(0, 4)}…${message.to.slice(-2)}` }, 'sms (not sent: embedded default)');
    if (this.showText) this.log.info({ smsTo: message.to, smsText: message.text }, 'sms text');
    else this.log.debug({ smsTo: message.to, smsText: message.text }, 'sms text');
  }
}

export class MemorySms implements SmsPort {
  readonly sent: SmsMessage[] = [];
  async send(message: SmsMessage): Promise<void> {
    this.sent.push(message);
  }
  last(to: string): SmsMessage | undefined {
    return [...this.sent].reverse().find((m) => m.to === to);
  }
}
