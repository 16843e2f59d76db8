import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';

/** Request headers a frontend may send cross-origin: Apollo Client's, urql's and graphql-request's, and ours. */
const ALLOWED_HEADERS = 'content-type, authorization, apollo-require-preflight, x-apollo-operation-name, x-requested-with, x-request-id';
/** Response headers a page may read: the reference to quote to support, and how long to wait. */
const EXPOSED_HEADERS = 'x-request-id, retry-after';

/**
 * Which browser origins are the portal's frontends (CORS_ORIGINS, FRONTEND_URL's origin and the
 * gateway's own), and what follows from that, in one place: CORS answers with credentials, whether
 * a WebSocket upgrade is let in and whether its session cookie is taken, and where a login may
 * send the browser back to.
 */
export class BrowserOrigins {
  private frontends: ReadonlySet<string> = new Set();
  private readonly listed: boolean;
  private publicUrl: string;
  private frontendUrl: string;

  constructor(private readonly settings: Config['browser'] & { isProduction: boolean; port: number }) {
    this.listed = settings.corsOrigins.length > 0;
    this.publicUrl = settings.publicUrl ?? `http://localhost:${settings.port}`;
    this.frontendUrl = settings.frontendUrl ?? this.publicUrl;
    this.allow();
  }

  /** Without PUBLIC_URL the gateway's address is where it listens (a port chosen at start). */
  listening(url: string): void {
    if (this.settings.publicUrl) return;
    this.publicUrl = url.replace(/\/+$/, '');
    if (!this.settings.frontendUrl) this.frontendUrl = this.publicUrl;
    this.allow();
  }

  private allow(): void {
    this.frontends = new Set([...this.settings.corsOrigins, new URL(this.frontendUrl).origin, new URL(this.publicUrl).origin]);
  }

  /** A portal frontend: CORS with credentials, cookies taken on the WebSocket upgrade, a place to land after login. */
  isFrontend(origin: string | undefined): origin is string {
    return origin !== undefined && this.frontends.has(origin);
  }

  /**
   * Whether a WebSocket upgrade from this Origin is let in at all. Apps and servers send none (their
   * sockets carry a token in connection_init); without CORS_ORIGINS, development lets any page in
   * with a token, but only a frontend's upgrade has its cookie taken (sessionCookieOf).
   */
  allowsSocket(origin: string | undefined): boolean {
    if (origin === undefined || this.isFrontend(origin)) return true;
    return !this.listed && !this.settings.isProduction;
  }

  /**
   * CORS for a route browsers call: an allowed frontend gets its origin back with credentials; a
   * preflight is answered here (true: nothing left to do). Others get no CORS headers, so their
   * page cannot read the answer (and a preflight for them fails).
   */
  cors(req: IncomingMessage, res: ServerResponse, methods: string): boolean {
    const origin = req.headers.origin;
    res.setHeader('vary', 'origin');
    if (this.isFrontend(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    }
    if (req.method !== 'OPTIONS') return false;
    if (this.isFrontend(origin)) {
      res.setHeader('access-control-allow-methods', `${methods}, OPTIONS`);
      res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
      res.setHeader('access-control-max-age', '600');
    }
    res.writeHead(204).end();
    return true;
  }

  /**
   * Where to send the browser after a login: a path on the frontend (FRONTEND_URL), or an absolute
   * URL on a frontend's origin; anything else (another site, `//host`, a backslash, control
   * characters, another scheme) is null, and the caller lands on the frontend's start page.
   */
  landing(returnTo: string | null | undefined): string | null {
    if (!returnTo) return null;
    // eslint-disable-next-line no-control-regex -- control characters or a backslash make browsers read a URL their own way
    if (returnTo.length > 2048 || /[\\\u0000-\u001f\u007f]/.test(returnTo)) return null;
    if (returnTo.startsWith('/')) {
      if (returnTo.startsWith('//')) return null;
      const target = new URL(returnTo, `${this.frontendUrl}/`);
      return target.origin === new URL(this.frontendUrl).origin ? target.href : null;
    }
    let target: URL;
    try {
      target = new URL(returnTo);
    } catch {
      return null;
    }
    if ((target.protocol !== 'https:' && target.protocol !== 'http:') || target.username || target.password) return null;
    return this.isFrontend(target.origin) ? target.href : null;
  }

  /** The frontend's start page: where a login lands without (or with a refused) returnTo. */
  get home(): string {
    return `${this.frontendUrl}/`;
  }

  /** An absolute URL on this gateway for a path it serves (a download link). */
  absolute(path: string): string {
    return `${this.publicUrl}${path}`;
  }

  /** An absolute URL of a page of the portal frontend (the links in mails: an invitation, a password reset). */
  page(path: string): string {
    return `${this.frontendUrl}${path}`;
  }
}
