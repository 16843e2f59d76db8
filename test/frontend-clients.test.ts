import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { Client as UrqlClient, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { firstValueFrom, filter } from 'rxjs';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { Jar } from './utils/cookie-jar';
import { postSignedSync, until } from './utils/live';

/**
 * The clients portal frontends are written with, as a page on its own origin uses them in browser
 * mode: Apollo Client 4 (HttpLink, GraphQLWsLink, the persisted-query link, InMemoryCache) and urql
 * (queries as GET, its subscription exchange over graphql-ws), with the session in cookies the dev
 * login set and the socket authenticated by the upgrade's cookie. Node stands in for the browser:
 * the jar sends the Origin and the cookies a browser would (test/utils/cookie-jar.ts).
 */
const FRONTEND = 'http://localhost:5173';

const DASHBOARD_COUNTS = gql`
  query DashboardCounts($id: ID!) {
    client(id: $id) {
      id
      dashboard {
        id
        upcomingAppointmentCount
      }
      dossier {
        id
        overview {
          dossierNumber
        }
      }
      videoCall {
        id
        ready
        joinUrl
      }
    }
  }
`;
const DASHBOARD_PARTS = gql`
  query DashboardParts($id: ID!) {
    client(id: $id) {
      id
      dashboard {
        id
        dossierPartCount
      }
      dossier {
        id
        medications {
          id
          name
        }
      }
    }
  }
`;
const VIDEO = gql`
  subscription Video($id: ID!) {
    videoCallStatusChanged(clientId: $id) {
      id
      ready
      joinUrl
    }
  }
`;
const MESSAGES = `subscription Messages($id: ID!) { messageAdded(clientId: $id) { kind message { id body author { name } } conversation { id subject } } }`;

describe('frontend clients in browser mode: Apollo Client 4 and urql with a cookie session', () => {
  let t: TestApp;
  let karenId: string;
  const syncSecret = randomBytes(24).toString('hex');
  const sockets: WsClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: FRONTEND, SYNC_SECRET: syncSecret, WS_SESSION_CHECK_MS: '200' } });
    [karenId] = await portalIds(t, await t.login('client@demo.test'));
  });
  afterAll(async () => {
    for (const socket of sockets) await socket.dispose();
    await t.stop();
  });

  /** A page's cookie login (dev login with "cookie": true), as examples/portal-web does it. */
  const cookieLogin = async (email = 'client@demo.test') => {
    const jar = new Jar();
    const res = await jar.fetchAs(FRONTEND)(`${t.base}/auth/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, cookie: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    return jar;
  };
  const socketFor = (jar: Jar) => {
    const ws = createWsClient({ url: `${t.base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: jar.socketAs(FRONTEND), retryAttempts: 0, lazy: true });
    sockets.push(ws);
    return ws;
  };
  const directAnswers = async () => {
    const text = await (await fetch(`${t.base}/metrics`)).text();
    return [...text.matchAll(/^gateway_graphql_direct_total(?:\{[^}]*\})? (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  const videoReady = (joinUrl: string) =>
    postSignedSync(t.base, syncSecret, {
      id: randomUUID(),
      type: 'videocall.ready',
      source: 'demo',
      clientId: karenId,
      data: { practitionerId: 'pr-elamrani', joinUrl },
    });

  it('Apollo Client 4: queries by cookie, normalises Dashboard, Dossier and VideoCallStatus without warnings, and a push over GraphQLWsLink updates Client.videoCall in the cache', async () => {
    const jar = await cookieLogin();
    const sent: { accept: string | null; body: Record<string, unknown> }[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      sent.push({ accept: new Headers(init?.headers).get('accept'), body: JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown> });
      return jar.fetchAs(FRONTEND)(input, init);
    };
    const http = new HttpLink({ uri: `${t.base}/graphql`, fetch: recordingFetch, credentials: 'include' });
    const link = ApolloLink.split((op) => isSubscriptionOperation(op.query), new GraphQLWsLink(socketFor(jar)), http);
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    const warnings: unknown[][] = [];
    const warn = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args));
    const error = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void warnings.push(args));
    const directBefore = await directAnswers();
    try {
      const counts = await client.query({ query: DASHBOARD_COUNTS, variables: { id: karenId } });
      expect(counts.error).toBeUndefined();
      const parts = await client.query({ query: DASHBOARD_PARTS, variables: { id: karenId } });
      expect(parts.error).toBeUndefined();
      // Both selections of the same Dashboard and Dossier live on as one object each.
      const cached = client.cache.extract() as Record<string, Record<string, unknown>>;
      expect(cached[`Dashboard:${karenId}`]).toMatchObject({ upcomingAppointmentCount: expect.any(Number), dossierPartCount: expect.any(Number) });
      expect(Object.keys(cached[`Dossier:${karenId}`])).toEqual(expect.arrayContaining(['overview', 'medications']));
      const read = client.readQuery({ query: DASHBOARD_COUNTS, variables: { id: karenId } }) as { client: { dashboard: { upcomingAppointmentCount: number } } };
      expect(read.client.dashboard.upcomingAppointmentCount).toBeGreaterThan(0);

      const pushes = client.subscribe({ query: VIDEO, variables: { id: karenId } });
      const ready = firstValueFrom(
        pushes.pipe(filter((r) => Boolean((r.data as { videoCallStatusChanged?: { ready: boolean } })?.videoCallStatusChanged?.ready))),
      );
      await new Promise((resolve) => setTimeout(resolve, 400)); // the socket connects and subscribes
      const joinUrl = `https://video.ggz-demo.test/room/${randomUUID()}`;
      expect((await videoReady(joinUrl)).status).toBe(202);
      await ready;
      // The pushed VideoCallStatus has the client's id: the cached Client.videoCall is the same object, now ready.
      const after = client.readQuery({ query: DASHBOARD_COUNTS, variables: { id: karenId } }) as { client: { videoCall: { ready: boolean; joinUrl: string } } };
      expect(after.client.videoCall).toMatchObject({ ready: true, joinUrl });
      // The screen asked again (a refetch): a document the gateway has answered before takes the direct path.
      for (let i = 0; i < 3; i++)
        expect((await client.query({ query: DASHBOARD_PARTS, variables: { id: karenId }, fetchPolicy: 'network-only' })).error).toBeUndefined();
      expect(warnings).toEqual([]);
    } finally {
      warn.mockRestore();
      error.mockRestore();
      client.stop();
    }
    // As Apollo Client 4 asks: its Accept header and clientLibrary extension, and they took the direct path.
    expect(sent[0].accept).toMatch(/application\/graphql-response\+json/);
    expect(sent[0].body.extensions).toMatchObject({ clientLibrary: { name: '@apollo/client' } });
    expect(await directAnswers()).toBeGreaterThan(directBefore);
  });

  it('Apollo Client 4 with the persisted-query link (APQ): a hash first, the text once when unknown, then the hash alone', async () => {
    const jar = await cookieLogin();
    const bodies: Record<string, unknown>[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      bodies.push(JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown>);
      return jar.fetchAs(FRONTEND)(input, init);
    };
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const link = new PersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: `${t.base}/graphql`, fetch: recordingFetch }));
    const query = gql`
      query Mine${randomUUID().replace(/-/g, '')} {
        me {
          id
          displayName
        }
      }
    `;
    const first = new ApolloClient({ link, cache: new InMemoryCache() });
    expect((await first.query({ query })).data).toMatchObject({ me: { displayName: 'Karen Test' } });
    // Another page load (a new cache): only the hash goes, and the shared APQ cache knows it; the direct path answers it.
    const directBefore = await directAnswers();
    const second = new ApolloClient({ link, cache: new InMemoryCache() });
    expect((await second.query({ query })).data).toMatchObject({ me: { displayName: 'Karen Test' } });
    expect(bodies.map((b) => ('query' in b ? 'text' : 'hash'))).toEqual(['hash', 'text', 'hash']);
    expect(await directAnswers()).toBe(directBefore + 1);
    first.stop();
    second.stop();
  });

  it('urql: queries as GET need the header the CSRF prevention asks for; with it they run by cookie, and its subscription exchange gets a pushed message over the cookie socket', async () => {
    const jar = await cookieLogin();
    const ws = socketFor(jar);
    const urql = (headers: Record<string, string>) =>
      new UrqlClient({
        url: `${t.base}/graphql`,
        fetch: jar.fetchAs(FRONTEND),
        fetchOptions: { credentials: 'include', headers },
        preferGetMethod: 'force',
        exchanges: [
          cacheExchange,
          fetchExchange,
          subscriptionExchange({
            forwardSubscription: (request) => ({
              subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
            }),
          }),
        ],
      });
    const ME = 'query UrqlMe { me { id displayName } }';
    const plain = await urql({}).query(ME, {}).toPromise();
    expect((plain.error?.response as Response | undefined)?.status).toBe(400);
    expect(plain.error?.graphQLErrors[0]).toMatchObject({
      message: expect.stringMatching(/Cross-Site Request Forgery/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(plain.data).toBeUndefined();
    const client = urql({ 'apollo-require-preflight': 'true' });
    const me = await client.query(ME, {}).toPromise();
    expect(me.error).toBeUndefined();
    expect(me.data).toMatchObject({ me: { id: expect.any(String), displayName: 'Karen Test' } });
    // Asked again (a refetch): urql's GET of a text Apollo has answered takes the direct path, with the same data.
    const directBefore = await directAnswers();
    const again = await client.query(ME, {}, { requestPolicy: 'network-only' }).toPromise();
    expect(again.error).toBeUndefined();
    expect(again.data).toEqual(me.data);
    expect(await directAnswers()).toBe(directBefore + 1);

    const received: { message: { body: string } }[] = [];
    const { unsubscribe } = client.subscription(MESSAGES, { id: karenId }).subscribe((result) => {
      const event = (result.data as { messageAdded?: { message: { body: string } } } | undefined)?.messageAdded;
      if (event) received.push(event);
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const body = `Via urql ${randomUUID()}`;
    const event = {
      id: randomUUID(),
      type: 'message.created',
      source: 'demo',
      clientId: karenId,
      data: { practitionerId: 'pr-elamrani', subject: 'Vraag', body },
    };
    expect((await postSignedSync(t.base, syncSecret, event)).status).toBe(202);
    await until(() => (received.some((e) => e.message.body === body) ? true : undefined), 5000, 'the pushed message');
    unsubscribe();
  });
});
