import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../../errors';
import { cookie, readCookie } from '../../http/cookies';
import { clientIp, sendError, sendJson } from '../../http/io';
import type { Logger } from '../../observability/logger';
import type { Services } from '../../services';
import { EIDAS_SUBSTANTIAL, OidcLoginError, OidcService } from './oidc.service';

/** Binds a login's `state` to the browser that started it; only sent back to the callback. */
const STATE_COOKIE = 'oidc_state';
const CALLBACK_PATH_COOKIE_SCOPE = '/auth/oidc';

/**
 * GET /auth/oidc/login?returnTo=/path and GET /auth/oidc/callback (contract/http.md). Built only
 * when OIDC_ISSUER is configured. Browser mode: the session travels in httpOnly cookies, and the
 * callback sends the browser to the frontend page it came from (a path or a frontend's URL).
 */
export function oidcRoutes(services: Services, logger: Logger) {
  const { config } = services;
  const oidc = new OidcService(
    {
      issuer: config.OIDC_ISSUER!,
      clientId: config.OIDC_CLIENT_ID!,
      clientSecret: config.OIDC_CLIENT_SECRET,
      clientPrivateKey: config.OIDC_CLIENT_PRIVATE_KEY,
      clientKeyId: config.OIDC_CLIENT_KEY_ID,
      redirectUri: config.OIDC_REDIRECT_URI!,
      subjectClaim: config.OIDC_SUBJECT_CLAIM,
      subjectType: config.OIDC_SUBJECT_TYPE,
      requiredAcr: config.OIDC_REQUIRED_ACR ?? (config.isProduction ? EIDAS_SUBSTANTIAL : null),
      allowInsecureIssuer: !config.isProduction,
    },
    services.kv,
    services.accounts,
    services.sessions,
    logger,
  );
  // Plain http only for a local gateway outside production; a browser drops Secure cookies there.
  const secure = config.browser.secureCookies;

  const refuse = (req: IncomingMessage, res: ServerResponse, err: OidcLoginError, requestId: string, clearState: boolean) => {
    services.metrics.securityEvents.inc({ event: 'login_failed' });
    logger.warn({ event: 'login_failed', method: 'oidc', reason: err.reason, requestId, ip: clientIp(req, config.TRUST_PROXY) }, 'OIDC login refused');
    const headers: Record<string, string> = {};
    if (clearState) headers['set-cookie'] = cookie(STATE_COOKIE, '', { maxAge: 0, path: CALLBACK_PATH_COOKIE_SCOPE, sameSite: 'Lax', secure });
    const code = err.status === 502 ? ErrorCode.UPSTREAM_UNAVAILABLE : err.status === 400 ? ErrorCode.BAD_USER_INPUT : ErrorCode.UNAUTHENTICATED;
    sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code, reason: err.reason } }] }, headers);
  };

  return {
    async login(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> {
      if (req.method !== 'GET') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use GET /auth/oidc/login?returnTo=/path.', { allow: 'GET' });
      try {
        const asked = url.searchParams.get('returnTo');
        const landing = services.origins.landing(asked);
        // Another site, or a URL browsers read their own way: the login goes on and lands on the portal's start page.
        if (asked && !landing)
          logger.warn({ event: 'return_to_refused', requestId, returnTo: asked.slice(0, 200) }, 'OIDC login: returnTo is not a frontend page');
        const { url: target, state } = await oidc.begin(landing ?? services.origins.home);
        res.writeHead(302, {
          location: target.href,
          'cache-control': 'no-store',
          // Lax, not Strict: the provider's redirect back is a cross-site navigation.
          'set-cookie': cookie(STATE_COOKIE, state, { maxAge: 600, path: CALLBACK_PATH_COOKIE_SCOPE, sameSite: 'Lax', secure }),
        });
        res.end();
      } catch (err) {
        if (err instanceof OidcLoginError) return refuse(req, res, err, requestId, false);
        throw err;
      }
    },

    async callback(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> {
      if (req.method !== 'GET') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'The login callback takes GET only.', { allow: 'GET' });
      try {
        const { session, returnTo, accountId } = await oidc.complete(url.searchParams, readCookie(req, STATE_COOKIE), requestId);
        logger.info({ event: 'login', method: 'oidc', accountId, sessionId: session.sessionId, requestId }, 'OIDC login');
        res.writeHead(302, {
          location: returnTo,
          'cache-control': 'no-store',
          'set-cookie': [
            cookie(STATE_COOKIE, '', { maxAge: 0, path: CALLBACK_PATH_COOKIE_SCOPE, sameSite: 'Lax', secure }),
            ...services.cookies.issue(session),
          ],
        });
        res.end();
      } catch (err) {
        if (err instanceof OidcLoginError) return refuse(req, res, err, requestId, true);
        throw err;
      }
    },
  };
}
