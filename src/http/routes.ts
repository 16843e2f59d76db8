import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROUTES, type RouteAccess, type RouteName } from '../auth/operations';
import { ErrorCode } from '../errors';
import { sendError } from './io';
import type { BrowserOrigins } from './origins';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => unknown;
/** What a module serves over HTTP, by route name (src/auth/operations.ts ROUTES: path and what it asks). */
export type RouteHandlers = Partial<Record<RouteName, RouteHandler>>;

export interface MountedRoute {
  name: RouteName;
  path: string;
  /** The path is a prefix (`/files/<id>`). */
  prefix?: boolean;
  /** The methods frontends call it with cross-origin (CORS for the allowed origins). */
  browser?: string;
  access: RouteAccess;
  handle: RouteHandler;
}

/**
 * The HTTP routes of this instance from the modules' handlers, each at the path its row in ROUTES
 * gives (Medplum's app.ts mounts each feature's router the same way): answers the dispatcher and
 * what is mounted. A path no route serves is 404. A route frontends call (`browser`) answers CORS
 * for the allowed origins first, and its preflight without going further.
 */
export function mountRoutes(
  handlers: RouteHandlers,
  origins: BrowserOrigins,
): {
  routes: readonly MountedRoute[];
  dispatch: (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => Promise<string>;
} {
  const routes: MountedRoute[] = (Object.keys(ROUTES) as RouteName[]).flatMap((name) => {
    const handle = handlers[name];
    return handle ? [{ name, ...ROUTES[name], handle }] : [];
  });
  const byPath = new Map(routes.filter((r) => !r.prefix).map((r) => [r.path, r]));
  const prefixed = routes.filter((r) => r.prefix);
  return {
    routes,
    dispatch: async (req, res, url, requestId) => {
      const found = byPath.get(url.pathname) ?? prefixed.find((r) => url.pathname.startsWith(r.path));
      if (!found) {
        sendError(res, 404, ErrorCode.NOT_FOUND, `Nothing at ${url.pathname}.`);
        return 'not_found';
      }
      if (found.browser && origins.cors(req, res, found.browser)) return found.name;
      await found.handle(req, res, url, requestId);
      return found.name;
    },
  };
}
