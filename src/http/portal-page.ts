import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { ErrorCode } from '../errors';
import { sendError } from './io';

/** examples/portal-web, from src/http (ts-jest) or dist/src/http (the build); null where it is not (an image without examples/). */
function pageDir(): string | null {
  for (const up of ['../..', '../../..']) {
    const dir = join(__dirname, up, 'examples', 'portal-web');
    try {
      readdirSync(dir);
      return dir;
    } catch {
      // not at this depth
    }
  }
  return null;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The reference portal page (examples/portal-web) as static files: `/` is its index.html, every
 * other file of the folder by its name, and graphql-ws's browser build as `/vendor/graphql-ws.js`
 * (the page has no build step, so the library comes as the UMD bundle its package ships). Read
 * once, at start; nothing else is served, so no path from a request reaches the file system.
 *
 * `api` is where the page sends its calls: '' means its own origin (the gateway serves it in
 * development), an absolute URL a gateway elsewhere (`npm run portal-web`, the browser tests). It
 * is written into the page's `<meta name="portal-api">` and its Content-Security-Policy, which
 * lets the page talk to that API only. Null when the folder is not there.
 */
export function portalPage(api = ''): ((req: IncomingMessage, res: ServerResponse, url: URL) => void) | null {
  const dir = pageDir();
  if (!dir) return null;
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(`/${name}`, { body: readFileSync(join(dir, name)), type });
  }
  const index = files.get('/index.html');
  if (!index) throw new Error('examples/portal-web/index.html is missing');
  files.set('/', { body: Buffer.from(index.body.toString('utf8').replace('content="__PORTAL_API__"', `content="${api}"`)), type: index.type });
  files.delete('/index.html');
  files.set('/vendor/graphql-ws.js', {
    body: readFileSync(join(dirname(require.resolve('graphql-ws')), '..', 'umd', 'graphql-ws.min.js')),
    type: TYPES['.js'],
  });

  const connect = api ? `'self' ${api} ${api.replace(/^http/, 'ws')}` : `'self'`;
  const policy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

  return (req, res, url) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(url.pathname) : undefined;
    if (!file) {
      sendError(res, 404, ErrorCode.NOT_FOUND, `Nothing at ${url.pathname}.`);
      return;
    }
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'no-cache',
      'content-security-policy': policy,
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}
