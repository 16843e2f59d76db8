import type { IncomingMessage } from 'node:http';

export function readCookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
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

export const SESSION_COOKIE = 'portal_session';
export const REFRESH_COOKIE = 'portal_refresh';
