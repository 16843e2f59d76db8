import { Permission, PortalRelation } from '../src/auth/permissions';
import type { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { portalIds, startTestApp, type TestApp } from './utils/app';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]),
  Buffer.alloc(200, 7),
]);
const ZIP = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00]), Buffer.alloc(100, 1)]);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(300, 0x90)]);

const START = `mutation($c: ID!, $a: [ID!]) {
  startConversation(clientId: $c, subject: "Foto", recipientIds: ["demo:pr-bakker"], body: "Zie bijlage", attachmentIds: $a) {
    id messages { id attachments { id name mediaType size downloadUrl } }
  }
}`;
const code = (body: { errors?: { extensions?: { code?: string } }[] }): string | undefined => body.errors?.[0]?.extensions?.code;

describe('attachments: POST /files, use once by the uploader, signed downloads for readers of the message', () => {
  let t: TestApp;
  let karenToken: string;
  let karenId: string;

  const upload = async (
    bytes: Buffer,
    name: string,
    token?: string,
  ): Promise<{ status: number; body: { id?: string; name?: string; mediaType?: string; size?: number; errors?: { message: string }[] } }> => {
    const form = new FormData();
    form.append('file', new Blob([bytes]), name);
    const res = await fetch(`${t.base}/files`, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as never };
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { UPLOAD_MAX_BYTES: '4096', LOG_LEVEL: 'warn' } });
    karenToken = await t.login('client@demo.test');
    [karenId] = await portalIds(t, karenToken);
  });
  afterAll(async () => t.stop());

  it('stores an upload and answers its id, name, media type (by content) and size', async () => {
    const res = await upload(PNG, 'C:\\Users\\karen\\foto.png', karenToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.any(String), name: 'foto.png', mediaType: 'image/png', size: PNG.length });
  });

  it('answers 503 with UPSTREAM_UNAVAILABLE, not a bad-input 400, when file storage does not take an upload', async () => {
    const storage = (t.app.services.attachments as unknown as { storage: { put: (key: string, stream: NodeJS.ReadableStream) => Promise<number> } }).storage;
    const put = storage.put;
    storage.put = async (_key, stream) => {
      for await (const chunk of stream as AsyncIterable<Buffer>) void chunk;
      throw new Error('connect ECONNREFUSED (simulated storage outage)');
    };
    try {
      const res = await upload(PNG, 'foto.png', karenToken);
      expect({ status: res.status, code: code(res.body as never) }).toEqual({ status: 503, code: 'UPSTREAM_UNAVAILABLE' });
    } finally {
      storage.put = put;
    }
    expect((await upload(PNG, 'foto.png', karenToken)).status).toBe(200);
  });

  it('refuses archives and executables by content, whatever the name says (415), a file over the limit (413), and no session (401)', async () => {
    expect((await upload(ZIP, 'vakantie.png', karenToken)).status).toBe(415);
    const exe = await upload(EXE, 'rapport.pdf', karenToken);
    expect(exe.status).toBe(415);
    expect(exe.body.errors![0].message).toMatch(/application\/x-msdownload/);
    const big = await upload(Buffer.concat([PNG, Buffer.alloc(5000, 1)]), 'groot.png', karenToken);
    expect(big.status).toBe(413);
    expect((await upload(PNG, 'foto.png')).status).toBe(401);
  });

  it('attaches an upload to a message once, streams it to a reader through a signed link, and refuses others', async () => {
    const { body: up } = await upload(PNG, 'scan.png', karenToken);
    const started = await t.gql(START, { c: karenId, a: [up.id] }, karenToken);
    expect(started.body.errors).toBeUndefined();
    const [attachment] = started.body.data.startConversation.messages[0].attachments;
    expect(attachment).toMatchObject({
      id: up.id,
      name: 'scan.png',
      mediaType: 'image/png',
      size: PNG.length,
      downloadUrl: expect.stringMatching(new RegExp(`^${t.base}/files/`)),
    });

    const download = await fetch(t.local(attachment.downloadUrl));
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PNG);

    // Only once: the same id again is refused.
    expect(code((await t.gql(START, { c: karenId, a: [up.id] }, karenToken)).body)).toBe('BAD_USER_INPUT');

    // A link made for someone else does not open with another session, and a relative without message rights gets none.
    const strangerToken = await t.login('stranger@demo.test');
    expect((await fetch(t.local(attachment.downloadUrl), { headers: { authorization: `Bearer ${strangerToken}` } })).status).toBe(403);
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    const forRelative = t.app.services.fileUrls.sign(`att:${up.id}`, relative.id);
    expect((await fetch(t.local(forRelative))).status).toBe(403);

    // Deleting the message removes its files for everyone.
    await t.gql('mutation($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: started.body.data.startConversation.messages[0].id }, karenToken);
    expect((await fetch(t.local(attachment.downloadUrl))).status).toBe(404);
  });

  it("hands the attachment's bytes to the EHR with its message", async () => {
    const { body: up } = await upload(PNG, 'verwijsbrief.png', karenToken);
    const started = await t.gql(START, { c: karenId, a: [up.id] }, karenToken);
    const messageId = started.body.data.startConversation.messages[0].id as string;
    const demo = t.app.services.registry.adapter('demo') as DemoEhrAdapter;
    const deadline = Date.now() + 5000;
    let copy = demo.sentMessages.find((m) => m.message.messageId === messageId);
    while (!copy && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      copy = demo.sentMessages.find((m) => m.message.messageId === messageId);
    }
    expect(copy?.files).toEqual([{ name: 'verwijsbrief.png', mediaType: 'image/png', bytes: PNG }]);
  });

  it("refuses someone else's attachment with BAD_USER_INPUT", async () => {
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(
      relative.id,
      karenId,
      PortalRelation.NETWORK_MEMBER,
      [Permission.AGENDA_VIEW, Permission.MESSAGES_PERSONAL_NETWORK],
      false,
    );
    try {
      const relativeToken = await t.login('relative@demo.test');
      const { body: theirs } = await upload(PNG, 'van-familie.png', relativeToken);
      const fotos = async () =>
        (
          await t.gql('query($id: ID!) { client(id: $id) { conversations(folder: ALL) { subject } } }', { id: karenId }, karenToken)
        ).body.data.client.conversations.filter((c: { subject: string }) => c.subject === 'Foto').length as number;
      const before = await fotos();
      const res = await t.gql(START, { c: karenId, a: [theirs.id] }, karenToken);
      expect(code(res.body)).toBe('BAD_USER_INPUT');
      expect(res.body.errors![0].message).toMatch(/someone else/);
      // Nothing of the refused message was stored.
      expect(await fotos()).toBe(before);
    } finally {
      await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], false);
    }
  });

  it('answers 429 with Retry-After once an account uploads more than 60 files in an hour', async () => {
    const token = await t.login('parent@demo.test');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 61 && !retryAfter; i++) {
      const form = new FormData();
      form.append('file', new Blob([PNG]), `foto-${i}.png`);
      const res = await fetch(`${t.base}/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('RATE_LIMITED');
      } else await res.arrayBuffer();
    }
    expect(statuses.slice(0, 60).every((s) => s === 200)).toBe(true);
    expect(statuses[60]).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
