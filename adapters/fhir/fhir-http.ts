import type { Bundle } from '@medplum/fhirtypes';

/**
 * What every adapter that speaks FHIR over HTTP shares (the EHR's FHIR adapter, the Koppeltaal
 * adapter): following a search's `next` pages on the same server only, and one access token per
 * server, fetched once for all callers at a time.
 */

/**
 * The bundles of a search, following `next` links for at most `maxPages` pages; `complete` is false
 * when the server had more. Only pages on `base`'s own origin are followed: a `next` elsewhere would
 * take our token with it.
 */
export async function readPages(
  first: URL,
  base: URL,
  maxPages: number,
  load: (url: URL, page: number) => Promise<Bundle>,
): Promise<{ bundles: Bundle[]; complete: boolean }> {
  const bundles: Bundle[] = [];
  let next: URL | undefined = first;
  for (let page = 0; next; page++) {
    if (page >= maxPages) return { bundles, complete: false };
    const bundle = await load(next, page);
    bundles.push(bundle);
    const href = bundle.link?.find((l) => l.relation === 'next')?.url;
    next = href ? new URL(href, base) : undefined;
    if (next && next.origin !== base.origin) throw new Error(`the FHIR server paged to another origin (${next.origin})`);
  }
  return { bundles, complete: true };
}

/** A token endpoint's answer: the token and how many seconds it is good for. */
export interface IssuedToken {
  token: string;
  lifetimeSeconds: number;
}

const TOKEN_TIMEOUT_MS = 10_000;
/** A margin, so a token does not expire between here and the server. */
const TOKEN_MARGIN_MS = 30_000;

/**
 * An access token kept until shortly before it expires. Concurrent callers share one token request,
 * bounded by its own timeout: one caller giving up (its signal) stops waiting without failing the
 * others waiting for the same token. `invalidate` after a 401 makes the next caller fetch a new one.
 */
export class TokenCache {
  private cached?: { token: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(private readonly fetchToken: (signal: AbortSignal) => Promise<IssuedToken>) {}

  get(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.cached.expiresAt - TOKEN_MARGIN_MS > Date.now()) return Promise.resolve(this.cached.token);
    this.pending ??= this.fetchToken(AbortSignal.timeout(TOKEN_TIMEOUT_MS))
      .then(({ token, lifetimeSeconds }) => {
        this.cached = { token, expiresAt: Date.now() + lifetimeSeconds * 1000 };
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return untilAborted(this.pending, signal);
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

/** The token endpoint's JSON answer read as an IssuedToken (300 s when it names no lifetime). */
export async function issuedToken(res: Response, what: string): Promise<IssuedToken> {
  const body = (await res.json()) as { access_token?: unknown; expires_in?: unknown };
  if (typeof body.access_token !== 'string') throw new Error(`${what} answered without an access_token`);
  return { token: body.access_token, lifetimeSeconds: typeof body.expires_in === 'number' ? body.expires_in : 300 };
}

/** Waits for `promise`, or rejects as soon as `signal` aborts (the promise itself runs on). */
export function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
