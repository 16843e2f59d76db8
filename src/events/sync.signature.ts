import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a signature timestamp may be from our clock before the request counts as a replay. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<raw body>"), as ../shared/contract/http.md says. */
export function signSyncBody(secret: string, timestamp: number | string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(rawBody);
  return `sha256=${hmac.digest('hex')}`;
}

/**
 * Checks the two signature headers against the raw bytes. The timestamp is signed too, so moving
 * it breaks the signature; the window bounds how long a captured request can be replayed.
 */
export function verifySyncSignature(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  rawBody: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const { signature, timestamp } = headers;
  if (!timestamp) return { ok: false, reason: 'X-Signature-Timestamp is missing.' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Signature-Timestamp must be unix seconds.' };
  if (!signature) return { ok: false, reason: 'X-Signature is missing.' };
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
  if (!match) return { ok: false, reason: 'X-Signature must be sha256=<64 hex characters>.' };
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) {
    return { ok: false, reason: `X-Signature-Timestamp is more than ${SIGNATURE_WINDOW_SECONDS / 60} minutes from the server's clock.` };
  }
  const expected = Buffer.from(signSyncBody(secret, timestamp, rawBody).slice('sha256='.length), 'hex');
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  // Both are 32 bytes here (the regex fixed the length), so timingSafeEqual never throws on length.
  if (!timingSafeEqual(expected, given)) return { ok: false, reason: 'X-Signature does not match the body.' };
  return { ok: true };
}
