import type { IncomingMessage } from 'node:http';
import type { Config } from '../config';
import { safeDecode } from './io';

/** A cookie's value; a value that is not valid percent-encoding counts as no cookie (no token to try). */
export function readCookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return safeDecode(rest.join('='));
  }
  return null;
}

/** An httpOnly cookie; `maxAge: 0` clears it. */
export function cookie(name: string, value: string, options: { maxAge: number; path: string; sameSite: 'Strict' | 'Lax'; secure: boolean }): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path}`,
    `Max-Age=${options.maxAge}`,
    'HttpOnly',
    `SameSite=${options.sameSite}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/** The refresh cookie goes only to the session routes (refresh and logout), never with a GraphQL call. */
export const REFRESH_COOKIE_PATH = '/auth/session';

/**
 * The browser session's two httpOnly cookies, as every login route sets them (OIDC callback, dev
 * login, own-account code) and the session routes read and rotate them. Over https they are Secure
 * and carry the `__Host-` prefix (the access cookie: Path=/, no Domain, so no sibling host can set
 * or shadow it) and `__Secure-` (the refresh cookie, which lives on its own path). On plain http
 * (a local gateway outside production) a browser refuses those prefixes, so they are left off.
 */
export class SessionCookies {
  readonly sessionName: string;
  readonly refreshName: string;
  private readonly secure: boolean;

  constructor(private readonly settings: Pick<Config['browser'], 'secureCookies' | 'accessTokenTtlSeconds' | 'sessionMaxSeconds'>) {
    this.secure = settings.secureCookies;
    this.sessionName = this.secure ? '__Host-portal_session' : 'portal_session';
    this.refreshName = this.secure ? '__Secure-portal_refresh' : 'portal_refresh';
  }

  /** Set-Cookie lines for a new or rotated session. */
  issue(session: { accessToken: string; refreshToken: string }): string[] {
    return [
      cookie(this.sessionName, session.accessToken, { maxAge: this.settings.accessTokenTtlSeconds, path: '/', sameSite: 'Strict', secure: this.secure }),
      cookie(this.refreshName, session.refreshToken, {
        maxAge: this.settings.sessionMaxSeconds,
        path: REFRESH_COOKIE_PATH,
        sameSite: 'Strict',
        secure: this.secure,
      }),
    ];
  }

  /** Set-Cookie lines that remove both, whatever state they were in. */
  clear(): string[] {
    return [
      cookie(this.sessionName, '', { maxAge: 0, path: '/', sameSite: 'Strict', secure: this.secure }),
      cookie(this.refreshName, '', { maxAge: 0, path: REFRESH_COOKIE_PATH, sameSite: 'Strict', secure: this.secure }),
    ];
  }

  /** The access token a browser sent, if any. */
  session(req: IncomingMessage): string | null {
    return readCookie(req, this.sessionName);
  }

  refresh(req: IncomingMessage): string | null {
    return readCookie(req, this.refreshName);
  }
}
