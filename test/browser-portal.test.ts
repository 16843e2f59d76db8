import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { MemoryMailer } from '../adapters/mail/mail';
import { portalPage } from '../src/http/portal-page';
import { DEMO_PASSWORD } from '../src/modules/portal/demo-seed';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { postSignedSync } from './utils/live';

/**
 * The reference portal page (examples/portal-web) in Debian's Chromium, on its own origin as a
 * frontend's dev server would be, against a gateway that lists that origin in CORS_ORIGINS: cookie
 * login, the dashboard, a practitioner's message pushed over the cookie-authenticated socket, the
 * video button, an access cookie that lapsed, logout; and the same page on an origin that is not
 * listed, which gets nothing. A screenshot of every step goes to test/artifacts/ (not in git).
 *
 * .ci/run installs chromium when it is missing and sets REQUIRE_BROWSER=1, so there the suite
 * cannot skip; on a machine without it, `npm test` says so and skips this file.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.REQUIRE_BROWSER === '1') throw new Error(`REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}`);
if (!haveBrowser) console.warn(`test/browser-portal.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
const describeWithBrowser = haveBrowser ? describe : describe.skip;

const ARTIFACTS = join(__dirname, 'artifacts');

/** A static server for the page on its own port of localhost, calling the gateway at `api`. */
async function servePage(api: string, port = 0): Promise<{ origin: string; server: Server }> {
  const page = portalPage(api);
  if (!page) throw new Error('examples/portal-web is missing');
  const server = createServer((req, res) => page(req, res, new URL(req.url ?? '/', 'http://page')));
  await new Promise<void>((resolve) => server.listen(port, 'localhost', resolve));
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

async function freeLocalPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeWithBrowser('the reference portal page in Chromium, in cookie mode from its own origin', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };
  let karenId: string;
  const syncSecret = randomBytes(24).toString('hex');
  const mail = new MemoryMailer();
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // The page's origin must be known before the gateway starts (CORS_ORIGINS), and the page must know the gateway.
    const pagePort = await freeLocalPort();
    t = await startTestApp({ mail, env: { CORS_ORIGINS: `http://localhost:${pagePort}`, SYNC_SECRET: syncSecret, WS_SESSION_CHECK_MS: '200' } });
    expect(new URL(t.base).hostname).toBe('localhost'); // same site as the pages, as a portal and its API are
    allowed = await servePage(t.base, pagePort);
    other = await servePage(t.base);
    [karenId] = await portalIds(t, await t.login('client@demo.test'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
    });
    context = await browser.newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam' });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const served of [allowed, other]) if (served) await new Promise((resolve) => served.server.close(resolve));
    await t?.stop();
  });

  const shot = (name: string, on: Page = page) => on.screenshot({ path: join(ARTIFACTS, `portal-web-${name}.png`), fullPage: true });
  const gatewayCookies = async () => Object.fromEntries((await context.cookies()).filter((c) => c.domain === 'localhost').map((c) => [c.name, c]));
  const loginAs = async (email: string) => {
    await page.goto(`${allowed.origin}/`);
    await page.locator('#dev-login select').selectOption(email);
    await page.locator('#dev-login button').click();
    await page.locator('#portal').waitFor({ state: 'visible' });
  };

  it('logs in by cookie and shows the dashboard, the appointments and the dossier parts', async () => {
    await page.goto(`${allowed.origin}/`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await shot('1-login');
    await loginAs('client@demo.test');
    await expect(page.locator('#display-name').textContent()).resolves.toBe('Karen Test');
    // The session is in httpOnly cookies the page's scripts cannot read.
    const cookies = await gatewayCookies();
    expect(cookies.portal_session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookies.portal_refresh).toMatchObject({ httpOnly: true, path: '/auth/session' });
    expect(await page.evaluate('document.cookie')).toBe('');
    await expect(page.locator('#activity li[data-count="messages"]').textContent()).resolves.toMatch(/^\d+ nieuwe berichten$/);
    expect(await page.locator('#upcoming li').count()).toBeGreaterThan(0);
    await expect(page.locator('#next-appointment').textContent()).resolves.toMatch(/^Uw volgende afspraak: /);
    for (const part of ['overview', 'treatmentTeam', 'medications', 'documents'])
      await expect(page.locator(`#dossier-parts [data-part="${part}"]`).textContent()).resolves.not.toMatch(/geen toegang|niet beschikbaar/);
    // A document link is absolute, on the gateway: it downloads from the page's origin too.
    const href = await page.locator('#dossier-parts [data-part="documents"] a').first().getAttribute('href');
    expect(href?.startsWith(`${t.base}/files/`)).toBe(true);
    await shot('2-dashboard');
  });

  it('receives a practitioner’s message pushed over the cookie-authenticated socket, and sees the video button appear', async () => {
    await page.waitForFunction('document.body.dataset.live === "connected"');
    await page.waitForTimeout(300); // the subscriptions are sent right after connection_ack
    const subject = `Uw afspraak van volgende week ${randomUUID().slice(0, 8)}`;
    const message = {
      id: randomUUID(),
      type: 'message.created',
      source: 'demo',
      clientId: karenId,
      occurredAt: new Date().toISOString(),
      data: { practitionerId: 'pr-elamrani', subject, body: 'Hallo Karen, zullen we de afspraak een uur later maken?' },
    };
    expect((await postSignedSync(t.base, syncSecret, message)).status).toBe(202);
    await page.locator('#status', { hasText: `Nieuw bericht van` }).waitFor();
    const conversation = page.locator('#conversations li', { hasText: subject });
    await conversation.locator('button').click();
    await page.locator('#conversation-messages li', { hasText: 'een uur later' }).waitFor();
    await expect(page.locator('#conversation-notice').textContent()).resolves.toMatch(/werkdagen|crisis/i);
    await shot('3-message');

    expect(await page.locator('#video').isVisible()).toBe(false);
    const joinUrl = `https://video.ggz-demo.test/room/${randomUUID()}`;
    const ready = {
      id: randomUUID(),
      type: 'videocall.ready',
      source: 'demo',
      clientId: karenId,
      occurredAt: new Date().toISOString(),
      data: { practitionerId: 'pr-bakker', joinUrl },
    };
    expect((await postSignedSync(t.base, syncSecret, ready)).status).toBe(202);
    await page.locator('#video-join').waitFor({ state: 'visible' });
    expect(await page.locator('#video-join').getAttribute('href')).toBe(joinUrl);
    await shot('4-video');
    const ended = { id: randomUUID(), type: 'videocall.ended', source: 'demo', clientId: karenId, occurredAt: new Date().toISOString(), data: {} };
    expect((await postSignedSync(t.base, syncSecret, ended)).status).toBe(202);
    await page.locator('#video').waitFor({ state: 'hidden' });
  });

  it('stays logged in when the access cookie has lapsed, through the refresh cookie', async () => {
    const before = (await gatewayCookies()).portal_refresh.value;
    // What the browser does after Max-Age (900 s): the access cookie is gone, the refresh cookie stays.
    await context.clearCookies({ name: 'portal_session' });
    await page.reload();
    await page.locator('#portal').waitFor({ state: 'visible' });
    await expect(page.locator('#display-name').textContent()).resolves.toBe('Karen Test');
    const after = await gatewayCookies();
    expect(after.portal_session).toBeDefined();
    expect(after.portal_refresh.value).not.toBe(before); // rotated
    await page.waitForFunction('document.body.dataset.live === "connected"');
    await shot('5-after-refresh');
  });

  it('logs out: the cookies are gone, the socket is closed, and a reload shows the login', async () => {
    const token = (await gatewayCookies()).portal_session.value;
    await page.locator('#logout').click();
    await page.locator('#login').waitFor({ state: 'visible' });
    await expect(page.locator('#status').textContent()).resolves.toBe('U bent uitgelogd.');
    expect(await gatewayCookies()).toEqual({});
    expect((await t.gql('{ me { id } }', undefined, token)).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await page.reload();
    await page.locator('#login').waitFor({ state: 'visible' });
    await shot('6-logged-out');
  });

  it('logs an own account in with e-mail, password and the code it was sent, into the same cookies', async () => {
    await page.locator('#own-login [name="email"]').fill('client@demo.test');
    await page.locator('#own-login [name="password"]').fill(DEMO_PASSWORD);
    await page.locator('#own-login button').click();
    await page.locator('#own-code').waitFor({ state: 'visible' });
    await expect(page.locator('#code-sent').textContent()).resolves.toMatch(/^We hebben een code gestuurd naar /);
    const code = /(\d{6})/.exec(mail.last('client@demo.test')!.text)![1];
    await page.locator('#own-code [name="code"]').fill(code);
    await page.locator('#own-code button').click();
    await page.locator('#portal').waitFor({ state: 'visible' });
    await expect(page.locator('#display-name').textContent()).resolves.toBe('Karen Test');
    expect((await gatewayCookies()).portal_session).toMatchObject({ httpOnly: true });
    await page.locator('#logout').click();
    await page.locator('#login').waitFor({ state: 'visible' });
  });

  it('gives a page on an origin that is not listed nothing, while the browser holds a session: no data, the socket refused', async () => {
    await loginAs('client@demo.test');
    const elsewhere = await context.newPage();
    await elsewhere.goto(`${other.origin}/`);
    await elsewhere.locator('#status', { hasText: 'niet bereikbaar' }).waitFor();
    expect(await elsewhere.locator('#portal').isVisible()).toBe(false);
    expect(await elsewhere.locator('#display-name').textContent()).toBe('');
    // The same calls by hand: the cookies would go along (same site), but the answer is not the page's to read, and the upgrade is refused.
    const probe = await elsewhere.evaluate(async (api) => {
      const read = await fetch(`${api}/graphql`, {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ me { displayName } }' }),
      }).then(
        async (res) => `read: ${await res.text()}`,
        () => 'blocked',
      );
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`${api.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
        ws.onopen = () => resolve('opened');
        ws.onerror = () => resolve('refused');
      });
      return { read, socket };
    }, t.base);
    expect(probe).toEqual({ read: 'blocked', socket: 'refused' });
    await shot('7-other-origin', elsewhere);
    await elsewhere.close();
    // The allowed page was not disturbed.
    await expect(page.locator('#display-name').textContent()).resolves.toBe('Karen Test');
  });

  it('is served by the gateway itself at / in development, and works there on the gateway’s own origin', async () => {
    const index = await fetch(`${t.base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toMatch(/connect-src 'self'(;|$)/);
    expect(await index.text()).toContain('<meta name="portal-api" content="" />');
    expect((await fetch(`${t.base}/vendor/graphql-ws.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    const missing = await fetch(`${t.base}/../package.json`);
    expect(missing.status).toBe(404);
    const own = await context.newPage();
    own.on('pageerror', (err) => pageErrors.push(err.message));
    // The browser still holds Karen's session (cookies belong to the host, whatever the port): the page opens her portal.
    await own.goto(`${t.base}/`);
    await own.locator('#portal').waitFor({ state: 'visible' });
    await expect(own.locator('#display-name').textContent()).resolves.toBe('Karen Test');
    await own.locator('#logout').click();
    await own.locator('#dev-login select').selectOption('parent@demo.test');
    await own.locator('#dev-login button').click();
    await own.locator('#portal').waitFor({ state: 'visible' });
    // A parent of two chooses whose portal to open.
    expect(await own.locator('#portal-select option').count()).toBe(2);
    await own.waitForFunction('document.body.dataset.live === "connected"');
    await shot('8-same-origin-parent', own);
    await own.locator('#logout').click();
    await own.locator('#login').waitFor({ state: 'visible' });
    await own.close();
  });

  it('threw no script error on any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
