import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedFileRef {
  fileId: string;
  accountId: string;
  expiresAt: number;
}

/**
 * Short-lived download URLs bound to one viewer: `<PUBLIC_URL>/files/<id>?a=<account>&e=<expiry>&sig=<hmac>`,
 * absolute so a page on the frontend's own origin can open them. The signature covers id, account
 * and expiry, so a URL cannot be moved to another file or person.
 */
export class FileUrlSigner {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
    /** The absolute URL of a path on this gateway. */
    private readonly absolute: (path: string) => string = (path) => path,
  ) {}

  sign(fileId: string, accountId: string, now = Date.now()): string {
    const expiresAt = Math.floor(now / 1000) + this.ttlSeconds;
    const sig = this.mac(fileId, accountId, expiresAt);
    return this.absolute(`/files/${encodeURIComponent(fileId)}?a=${encodeURIComponent(accountId)}&e=${expiresAt}&sig=${sig}`);
  }

  /** Answers the reference when the signature holds and has not expired; a reason otherwise. */
  verify(fileId: string, query: URLSearchParams, now = Date.now()): SignedFileRef | { error: string } {
    const accountId = query.get('a');
    const expires = Number(query.get('e'));
    const sig = query.get('sig') ?? '';
    if (!accountId || !Number.isFinite(expires) || !sig) return { error: 'The download link is incomplete.' };
    const expected = Buffer.from(this.mac(fileId, accountId, expires));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { error: 'The download link is not valid.' };
    if (expires * 1000 < now) return { error: 'The download link has expired; open the document again from the portal.' };
    return { fileId, accountId, expiresAt: expires * 1000 };
  }

  private mac(fileId: string, accountId: string, expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`file|${fileId}|${accountId}|${expiresAt}`).digest('base64url');
  }
}
