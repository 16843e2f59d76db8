import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROUTES, type RouteAccess, type RouteName } from '../auth/operations';
import { ErrorCode } from '../errors';
import { sendError } from './io';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => unknown;
/** What a module serves over HTTP, by route name (src/auth/operations.ts ROUTES: path and what it asks). */
export type RouteHandlers = Partial<Record<RouteName, RouteHandler>>;

export interface MountedRoute {
  name: RouteName;
  path: string;
  /** The path is a prefix (`/files/<id>`). */
  prefix?: boolean;
  access: RouteAccess;
  handle: RouteHandler;
}

/**
 * The HTTP routes of this instance from the modules' handlers, each at the path its row in ROUTES
 * gives (Medplum's app.ts mounts each feature's router the same way): answers the dispatcher and
 * what is mounted. A path no route serves is 404.
 */
export function mountRoutes(handlers: RouteHandlers): {
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
      await found.handle(req, res, url, requestId);
      return found.name;
    },
  };
}
