import type { SmsMessage, SmsPort } from '../ports';

/** CM.com's global Business Messaging gateway (its "messages" JSON API). */

export interface CmSmsOptions {
  /** SMS_GATEWAY_URL: the gateway's message endpoint (CM.com's global one, or a regional one). */
  url: string;
  /** SMS_PRODUCT_TOKEN: the product token of the CM.com account (a UUID). */
  productToken: string;
  /** SMS_SENDER: what the phone shows as sender (up to 11 letters and digits). */
  sender: string;
  timeoutMs?: number;
}

/** The gateway's answer: errorCode 0 with every message Accepted, or an errorCode with details. */
interface CmAnswer {
  details?: string;
  errorCode?: number;
  messages?: { to?: string; status?: string; reference?: string; parts?: number; messageDetails?: string | null; messageErrorCode?: number }[];
}

/** Thrown when the gateway did not take the SMS; the message names the gateway's reason, never the text. */
export class SmsNotSentError extends Error {}

/**
 * SMS through CM.com's JSON messages API: POST `{ messages: { authentication: { producttoken },
 * msg: [{ from, to: [{ number }], body: { type: 'auto', content }, reference }] } }`, numbers in
 * the 00-international form (0031612345678), answered `{ details, errorCode, messages: [{ status }] }`.
 */
export class CmSms implements SmsPort {
  constructor(private readonly options: CmSmsOptions) {}

  async send(message: SmsMessage): Promise<void> {
    const reference = `portal-${Date.now().toString(36)}`;
    const body = {
      messages: {
        authentication: { producttoken: this.options.productToken },
        msg: [
          {
            from: this.options.sender,
            to: [{ number: internationalNumber(message.to) }],
            body: { type: 'auto', content: message.text },
            reference,
            allowedChannels: ['SMS'],
            // A login code and its sentence fit in one part; a longer text may take up to three.
            minimumNumberOfMessageParts: 1,
            maximumNumberOfMessageParts: 3,
          },
        ],
      },
    };
    let res: Response;
    try {
      res = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'x-cm-producttoken': this.options.productToken },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new SmsNotSentError(`SMS not sent: the gateway did not answer (${(err as Error).message})`);
    }
    const answer = (await res.json().catch(() => ({}))) as CmAnswer;
    const refused = answer.messages?.find((m) => m.status !== 'Accepted');
    if (!res.ok || answer.errorCode !== 0 || refused || !answer.messages?.length) {
      const reason = refused?.messageDetails ?? answer.details ?? `HTTP ${res.status}`;
      throw new SmsNotSentError(`SMS not sent: CM.com refused it (HTTP ${res.status}, errorCode ${answer.errorCode ?? '?'}): ${reason}`);
    }
  }
}

/** CM.com wants 00 and the country code: +31612345678 and 0612345678 (a Dutch number) become 0031612345678. */
export function internationalNumber(phone: string): string {
  const digits = phone.replace(/[\s()-]/g, '');
  if (digits.startsWith('+')) return `00${digits.slice(1)}`;
  if (digits.startsWith('00')) return digits;
  if (digits.startsWith('0')) return `0031${digits.slice(1)}`;
  return digits;
}
