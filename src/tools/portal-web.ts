import { createServer } from 'node:http';
import { portalPage } from '../http/portal-page';

/**
 * `npm run portal-web`: the reference portal page on its own origin (PORTAL_WEB_PORT, default
 * 5173, as a Vite dev server would be), calling the gateway at GATEWAY_URL (default
 * http://localhost:4000) in cookie mode. Start the gateway with that origin allowed:
 * `CORS_ORIGINS=http://localhost:5173 npm start`. What a frontend team runs locally, without a proxy.
 */
const port = Number(process.env.PORTAL_WEB_PORT ?? 5173);
const api = (process.env.GATEWAY_URL ?? 'http://localhost:4000').replace(/\/+$/, '');
const page = portalPage(api);
if (!page) {
  console.error('examples/portal-web is not here; run this from the repository');
  process.exit(1);
}
createServer((req, res) => page(req, res, new URL(req.url ?? '/', 'http://page'))).listen(port, 'localhost', () => {
  console.log(`The reference portal page: http://localhost:${port}/ (calls ${api}; start it with CORS_ORIGINS=http://localhost:${port})`);
});
