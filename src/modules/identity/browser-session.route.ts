import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, UnauthenticatedError } from '../../errors';
import { cookie, readCookie, REFRESH_COOKIE, SESSION_COOKIE } from '../../http/cookies';
import { sendError, sendJson } from '../../http/io';
import type { Services } from '../../services';

/**
 * Browser mode: the tokens live in httpOnly cookies that page scripts cannot read, so refresh and
 * logout are HTTP routes that read and set those cookies. POST only, SameSite=Strict cookies, and a
 * JSON content type (which a cross-site form cannot send without a CORS preflight).
 */
export function browserSessionRoutes(services: Services) {
  const { config } = services;
  const secure = config.isProduction || !(config.OIDC_REDIRECT_URI ?? config.PUBLIC_URL ?? 'http://').startsWith('http://');
  const sessionCookies = (access: string, refresh: string, accessAge: number, refreshAge: number) => [
    cookie(SESSION_COOKIE, access, { maxAge: accessAge, path: '/', sameSite: 'Strict', secure }),
    cookie(REFRESH_COOKIE, refresh, { maxAge: refreshAge, path: '/', sameSite: 'Strict', secure }),
  ];
  const guard = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST') {
      sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use POST.', { allow: 'POST' });
      return false;
    }
    if (!(req.headers['content-type'] ?? '').includes('application/json')) {
      sendError(res, 415, ErrorCode.BAD_USER_INPUT, 'Send content-type: application/json.');
      return false;
    }
    return true;
  };

  return {
    /** POST /auth/session/refresh: trades the refresh cookie for new cookies (rotation and reuse detection apply). */
    async refresh(req: IncomingMessage, res: ServerResponse): Promise<void> {
      if (!guard(req, res)) return;
      const token = readCookie(req, REFRESH_COOKIE);
      if (!token) return sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'No session to refresh; log in again.');
      try {
        const next = await services.sessions.refresh(token);
        sendJson(
          res,
          200,
          { expiresAt: next.expiresAt.toISOString() },
          {
            'set-cookie': sessionCookies(next.accessToken, next.refreshToken, config.ACCESS_TOKEN_TTL_SECONDS, config.SESSION_MAX_HOURS * 3600),
          },
        );
      } catch (err) {
        if (!(err instanceof UnauthenticatedError)) throw err;
        sendError(res, 401, ErrorCode.UNAUTHENTICATED, err.message, { 'set-cookie': sessionCookies('', '', 0, 0) });
      }
    },
    /** POST /auth/session/logout: ends the session and clears the cookies, whatever state they were in. */
    async logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
      if (!guard(req, res)) return;
      const token = readCookie(req, SESSION_COOKIE);
      const viewer = token ? await services.sessions.authenticate(token).catch(() => null) : null;
      if (viewer) await services.sessions.revoke(viewer.sessionId, 'logout');
      sendJson(res, 200, { loggedOut: true }, { 'set-cookie': sessionCookies('', '', 0, 0) });
    },
  };
}
