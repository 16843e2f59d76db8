import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { AppError, ErrorCode } from '../../errors';
import { readBody, sendError, sendJson } from '../../http/io';
import type { Services } from '../../services';

// `cookie: true`: the session goes into the browser's httpOnly cookies, as after a DigiD login.
const asCookie = { cookie: z.boolean().optional() };
const body = z.union([
  z.object({ accountId: z.string().min(1).max(64), ...asCookie }),
  z.object({ email: z.email(), ...asCookie }),
  z.object({ bsn: z.string().regex(/^\d{9}$/, 'a BSN has 9 digits'), ...asCookie }),
]);

/**
 * POST /auth/dev/login: development only (never registered in production). With a BSN it logs in
 * exactly as a DigiD login with that BSN would: the account is found or created and linked. With
 * `"cookie": true` it sets the same cookies as the OIDC callback and answers only `{ expiresAt }`,
 * so a frontend on its own origin (CORS_ORIGINS) develops in browser mode without a proxy.
 */
export function devLoginRoute(services: Services) {
  return async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    if (req.method !== 'POST') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use POST with { accountId } or { email } or { bsn }.', { allow: 'POST' });
    let input: z.infer<typeof body>;
    try {
      input = body.parse(JSON.parse((await readBody(req, 4096)).toString('utf8') || '{}'));
    } catch {
      return sendError(
        res,
        400,
        ErrorCode.BAD_USER_INPUT,
        'Send JSON with one of { "accountId" }, { "email" } or { "bsn" } (and "cookie": true for browser mode).',
      );
    }
    try {
      const account =
        'bsn' in input
          ? await services.accounts.loginWithBsn(input.bsn, { requestId })
          : 'email' in input
            ? await services.accounts.findByEmail(input.email)
            : await services.accounts.findById(input.accountId);
      if (!account) return sendError(res, 404, ErrorCode.NOT_FOUND, 'No such account.');
      await services.accounts.recordLogin(account.id);
      const session = await services.sessions.create(account.id, 'dev');
      if (input.cookie) {
        return sendJson(res, 200, { expiresAt: session.expiresAt.toISOString(), accountId: account.id }, { 'set-cookie': services.cookies.issue(session) });
      }
      sendJson(res, 200, {
        accessToken: session.accessToken,
        refreshToken: session.refreshToken,
        expiresAt: session.expiresAt.toISOString(),
        accountId: account.id,
      });
    } catch (err) {
      if (err instanceof AppError) return sendError(res, err.code === ErrorCode.BAD_USER_INPUT ? 400 : 502, err.code, err.message);
      throw err;
    }
  };
}
