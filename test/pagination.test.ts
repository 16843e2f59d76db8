import { portalIds, startTestApp, type TestApp } from './utils/app';
import { describeWithMariaDb } from './utils/services';

const START = `mutation($c: ID!, $s: String!, $b: String!) {
  startConversation(clientId: $c, subject: $s, recipientIds: ["demo:pr-bakker"], body: $b) { id }
}`;
const POST = 'mutation($id: ID!, $b: String!) { postMessage(conversationId: $id, body: $b) { id } }';

interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}
const PAGE_INFO = 'pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';

function paginationSuite(database: 'sqlite' | 'mariadb') {
  let t: TestApp;
  let token: string;
  let karenId: string;
  let conversationId: string;
  beforeAll(async () => {
    t = await startTestApp({ database });
    token = await t.login('client@demo.test');
    [karenId] = await portalIds(t, token);
    for (let i = 1; i <= 4; i++) {
      const { body } = await t.gql(START, { c: karenId, s: `Gesprek ${i}`, b: `Bericht 1 van gesprek ${i}` }, token);
      expect(body.errors).toBeUndefined();
      conversationId = body.data.startConversation.id;
    }
    // The last conversation holds seven messages in all.
    for (let i = 2; i <= 7; i++) expect((await t.gql(POST, { id: conversationId, b: `Bericht ${i}` }, token)).body.errors).toBeUndefined();
  });
  afterAll(async () => t.stop());

  async function all<T>(fetchPage: (after: string | null) => Promise<Page<T>>): Promise<{ nodes: T[]; pages: Page<T>[] }> {
    const pages: Page<T>[] = [];
    let after: string | null = null;
    for (let i = 0; i < 50; i++) {
      const page: Page<T> = await fetchPage(after);
      pages.push(page);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    return { nodes: pages.flatMap((p) => p.edges.map((e) => e.node)), pages };
  }

  it('pages the conversations two at a time in the order of the plain list, each once, the last page saying there is no more', async () => {
    const list = (await t.gql('query($c: ID!) { client(id: $c) { conversations(folder: ALL) { id } } }', { c: karenId }, token)).body.data.client
      .conversations as { id: string }[];
    expect(list.length).toBeGreaterThanOrEqual(4);
    const { nodes, pages } = await all<{ id: string }>(async (after) => {
      const { body } = await t.gql(
        `query($c: ID!, $after: String) { client(id: $c) { conversationsConnection(folder: ALL, first: 2, after: $after) { edges { cursor node { id } } ${PAGE_INFO} } } }`,
        { c: karenId, after },
        token,
      );
      expect(body.errors).toBeUndefined();
      return body.data.client.conversationsConnection as Page<{ id: string }>;
    });
    expect(nodes.map((n) => n.id)).toEqual(list.map((c) => c.id));
    expect(pages[0].pageInfo.hasPreviousPage).toBe(false);
    expect(pages[1].pageInfo.hasPreviousPage).toBe(true);
    expect(pages.at(-1)!.pageInfo.hasNextPage).toBe(false);
  });

  it('shows the newest messages first on opening (last 20 by default, oldest first within the page) and scrolls back with before', async () => {
    const q = `query($c: ID!, $last: Int, $before: String) { client(id: $c) { conversations(folder: ALL) { id messagesConnection(last: $last, before: $before) { edges { node { body syncStatus } } ${PAGE_INFO} } } } }`;
    const open = async (vars: { last?: number; before?: string | null }) => {
      const { body } = await t.gql(q, { c: karenId, ...vars }, token);
      expect(body.errors).toBeUndefined();
      return (body.data.client.conversations as { id: string; messagesConnection: Page<{ body: string }> }[]).find((c) => c.id === conversationId)!
        .messagesConnection;
    };
    const whole = await open({});
    expect(whole.edges.map((e) => e.node.body)).toEqual([
      'Bericht 1 van gesprek 4',
      'Bericht 2',
      'Bericht 3',
      'Bericht 4',
      'Bericht 5',
      'Bericht 6',
      'Bericht 7',
    ]);
    expect(whole.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: false });
    const newest = await open({ last: 3 });
    expect(newest.edges.map((e) => e.node.body)).toEqual(['Bericht 5', 'Bericht 6', 'Bericht 7']);
    expect(newest.pageInfo.hasPreviousPage).toBe(true);
    const older = await open({ last: 3, before: newest.pageInfo.startCursor });
    expect(older.edges.map((e) => e.node.body)).toEqual(['Bericht 2', 'Bericht 3', 'Bericht 4']);
    const oldest = await open({ last: 3, before: older.pageInfo.startCursor });
    expect(oldest.edges.map((e) => e.node.body)).toEqual(['Bericht 1 van gesprek 4']);
    expect(oldest.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
  });

  it('pages forwards through messages with first and after, and refuses both directions at once', async () => {
    const q = `query($c: ID!, $first: Int, $after: String, $last: Int) { client(id: $c) { conversations(folder: ALL) { id messagesConnection(first: $first, after: $after, last: $last) { edges { node { body } } ${PAGE_INFO} } } } }`;
    const first = await t.gql(q, { c: karenId, first: 4 }, token);
    const page = (first.body.data.client.conversations as { id: string; messagesConnection: Page<{ body: string }> }[]).find(
      (c) => c.id === conversationId,
    )!.messagesConnection;
    expect(page.edges.map((e) => e.node.body)).toEqual(['Bericht 1 van gesprek 4', 'Bericht 2', 'Bericht 3', 'Bericht 4']);
    const next = await t.gql(q, { c: karenId, first: 4, after: page.pageInfo.endCursor }, token);
    const rest = (next.body.data.client.conversations as { id: string; messagesConnection: Page<{ body: string }> }[]).find(
      (c) => c.id === conversationId,
    )!.messagesConnection;
    expect(rest.edges.map((e) => e.node.body)).toEqual(['Bericht 5', 'Bericht 6', 'Bericht 7']);
    expect(rest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const both = await t.gql(q, { c: karenId, first: 2, last: 2 }, token);
    expect(both.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('pages the access log newest first as the plain list has it, with an id per line', async () => {
    const list = (await t.gql('query($c: ID!) { client(id: $c) { accessLog(first: 100) { id resource } } }', { c: karenId }, token)).body.data.client
      .accessLog as {
      id: string;
    }[];
    const { nodes } = await all<{ id: string }>(async (after) => {
      const { body } = await t.gql(
        `query($c: ID!, $after: String) { client(id: $c) { accessLogConnection(first: 7, after: $after) { edges { node { id } } ${PAGE_INFO} } } }`,
        { c: karenId, after },
        token,
      );
      return body.data.client.accessLogConnection as Page<{ id: string }>;
    });
    // Reading the log writes lines of its own (newer than the first page): the older lines page exactly as the list.
    const ids = nodes.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(ids.indexOf(list[0].id), ids.indexOf(list[0].id) + list.length)).toEqual(list.map((l) => l.id));
  });

  it('refuses a page over 100 and a cursor it did not hand out with BAD_USER_INPUT', async () => {
    const big = await t.gql('query($c: ID!) { client(id: $c) { accessLogConnection(first: 101) { edges { cursor } } } }', { c: karenId }, token);
    expect(big.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', limit: 100 }, path: ['client', 'accessLogConnection'] });
    const forged = await t.gql(
      'query($c: ID!) { client(id: $c) { conversationsConnection(after: "not-a-cursor") { edges { cursor } } } }',
      { c: karenId },
      token,
    );
    expect(forged.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
}

describe('cursor pagination (Relay connections) for conversations, messages and the access log (SQLite)', () => paginationSuite('sqlite'));
describeWithMariaDb('cursor pagination (Relay connections) on MariaDB', () => paginationSuite('mariadb'));
