import type { Logger } from '../../observability/logger';
import type { RouteHandlers } from '../../http/routes';
import type { Services } from '../../services';
import { browserSessionRoutes } from './browser-session.route';
import { devLoginRoute } from './dev-login.route';
import { oidcRoutes } from './oidc.route';

/** The identity module's HTTP routes: the browser session, the DigiD login (with OIDC_ISSUER) and the development login (never in production). */
export function identityRoutes(services: Services, logger: Logger): RouteHandlers {
  const { config } = services;
  const browser = browserSessionRoutes(services);
  const devLogin = config.DEV_LOGIN && !config.isProduction ? devLoginRoute(services) : null;
  const oidc = config.OIDC_ISSUER ? oidcRoutes(services, logger) : null;
  return {
    session_refresh: (req, res) => browser.refresh(req, res),
    session_logout: (req, res) => browser.logout(req, res),
    session_code: (req, res) => browser.loginCode(req, res),
    ...(devLogin ? { dev_login: (req, res, _url, id) => devLogin(req, res, id) } : {}),
    ...(oidc
      ? { oidc_login: (req, res, url, id) => oidc.login(req, res, url, id), oidc_callback: (req, res, url, id) => oidc.callback(req, res, url, id) }
      : {}),
  } satisfies RouteHandlers;
}
