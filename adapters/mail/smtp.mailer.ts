import nodemailer, { type Transporter } from 'nodemailer';
import type { MailMessage, MailPort } from '../ports';

export interface SmtpMailerOptions {
  /** SMTP_URL: `smtp://user:pass@host:587` (STARTTLS) or `smtps://user:pass@host:465` (TLS from the start). */
  url: string;
  /** SMTP_FROM: `Name <address>`, the sender every mail shows. */
  from: string;
  /** Refuse to send over a connection that did not upgrade to TLS (production). */
  requireTls: boolean;
  /** One attempt's limit on connecting and on each answer of the server. */
  timeoutMs?: number;
}

/** Thrown when the SMTP server did not take a message; the caller decides whether to retry. */
export class MailNotSentError extends Error {}

/** The production mail port: plain-text mail through an SMTP relay (nodemailer), one connection per message. */
export class SmtpMailer implements MailPort {
  private readonly transport: Transporter;

  constructor(private readonly options: SmtpMailerOptions) {
    const timeout = options.timeoutMs ?? 10_000;
    this.transport = nodemailer.createTransport({
      url: options.url,
      requireTLS: options.requireTls && !options.url.startsWith('smtps:'),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(message: MailMessage): Promise<void> {
    try {
      await this.transport.sendMail({ from: this.options.from, to: message.to, subject: message.subject, text: message.text });
    } catch (err) {
      // The server's reason, never the text (it may hold a code or a password).
      throw new MailNotSentError(`mail not sent: ${(err as Error).message}`);
    }
  }
}
