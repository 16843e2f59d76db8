import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { AppError, ErrorCode, HTTP_STATUS, RateLimitedError, UnauthenticatedError } from '../../errors';
import { clientIp, readBody, sendError, sendJson } from '../../http/io';
import type { Services } from '../../services';

const codeBody = z.object({ challengeId: z.string().min(1).max(64), code: z.string().min(1).max(16) });

/**
 * Browser mode: the tokens live in httpOnly cookies that page scripts cannot read, so refresh,
 * logout and the own-account login's second step are HTTP routes that read and set those cookies.
 * POST only, SameSite=Strict cookies, and a JSON content type (which a cross-site form cannot send
 * without a CORS preflight, and the preflight is answered only for the portal's frontends).
 */
export function browserSessionRoutes(services: Services) {
  const { cookies } = services;
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
      const token = cookies.refresh(req);
      if (!token) return sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'No session to refresh; log in again.');
      try {
        const next = await services.sessions.refresh(token);
        sendJson(res, 200, { expiresAt: next.expiresAt.toISOString() }, { 'set-cookie': cookies.issue(next) });
      } catch (err) {
        if (!(err instanceof UnauthenticatedError)) throw err;
        sendError(res, 401, ErrorCode.UNAUTHENTICATED, err.message, { 'set-cookie': cookies.clear() });
      }
    },

    /** POST /auth/session/logout: ends the session either cookie names and clears both, whatever state they were in. */
    async logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
      if (!guard(req, res)) return;
      const access = cookies.session(req);
      const viewer = access ? await services.sessions.authenticate(access).catch(() => null) : null;
      // An access cookie past its 15 minutes is gone from the browser; the refresh cookie still names the session.
      const refresh = viewer ? null : cookies.refresh(req);
      const sessionId = viewer?.sessionId ?? (refresh ? await services.sessions.sessionOfRefreshToken(refresh) : null);
      if (sessionId) await services.sessions.revoke(sessionId, 'logout');
      sendJson(res, 200, { loggedOut: true }, { 'set-cookie': cookies.clear() });
    },

    /**
     * POST /auth/session/code `{ challengeId, code }`: the second step of an own-account login
     * (the mutation `login` is the first) for a browser: the same checks as `verifyLoginCode`, but
     * the session goes into the cookies and the answer is only `{ expiresAt, mustChangePassword }`.
     */
    async loginCode(req: IncomingMessage, res: ServerResponse): Promise<void> {
      if (!guard(req, res)) return;
      let input: z.infer<typeof codeBody>;
      try {
        input = codeBody.parse(JSON.parse((await readBody(req, 4096)).toString('utf8') || '{}'));
      } catch {
        return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'Send JSON { "challengeId", "code" } (the challenge from the mutation login).');
      }
      try {
        const session = await services.ownAccounts.verifyLoginCode(input.challengeId, input.code.trim(), clientIp(req, services.config.TRUST_PROXY));
        sendJson(
          res,
          200,
          { expiresAt: session.expiresAt.toISOString(), mustChangePassword: session.mustChangePassword },
          { 'set-cookie': cookies.issue(session) },
        );
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const headers: Record<string, string> = err instanceof RateLimitedError ? { 'retry-after': String(err.retryAfterSeconds) } : {};
        sendError(res, HTTP_STATUS[err.code], err.code, err.message, headers);
      }
    },
  };
}
