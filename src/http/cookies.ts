import type { IncomingMessage } from 'node:http';
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

export const SESSION_COOKIE = 'portal_session';
export const REFRESH_COOKIE = 'portal_refresh';
