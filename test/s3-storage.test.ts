import { Readable } from 'node:stream';
import { parseS3Url, S3Storage } from '../adapters/storage/s3.storage';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { startTestS3, type TestS3 } from './utils/s3-server';

const read = async (stream: NodeJS.ReadableStream): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
};

describe('attachments in an S3-compatible store (s3rver over HTTP)', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3();
  });
  afterAll(async () => s3.stop());

  it("stores, reads back from another instance's client, answers null for a missing key, and deletes", async () => {
    const a = new S3Storage(parseS3Url(s3.url(), s3.credentials));
    const b = new S3Storage(parseS3Url(s3.url(), s3.credentials));
    try {
      const bytes = Buffer.alloc(6 * 1024 * 1024, 7); // over one 5 MiB part: a multipart upload
      expect(await a.put('k-big', Readable.from([bytes.subarray(0, 3_000_000), bytes.subarray(3_000_000)]))).toBe(bytes.length);
      expect((await read((await b.get('k-big'))!)).equals(bytes)).toBe(true);
      expect(await b.get('k-missing')).toBeNull();
      await b.delete('k-big');
      expect(await a.get('k-big')).toBeNull();
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('leaves nothing readable when the upload stream fails half-way', async () => {
    const storage = new S3Storage(parseS3Url(s3.url(), s3.credentials));
    try {
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(1000, 1));
          this.destroy(new Error('client went away'));
        },
      });
      await expect(storage.put('k-broken', failing)).rejects.toThrow();
      expect(await storage.get('k-broken')).toBeNull();
    } finally {
      storage.destroy();
    }
  });

  describe('through the gateway', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({
        env: {
          FILE_STORAGE_URL: s3.url('gateway'),
          S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
          LOG_LEVEL: 'warn',
        },
      });
    });
    afterAll(async () => t?.stop());

    it('uploads to the store, serves the attachment through its signed link, and removes it when the message is deleted', async () => {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]),
        Buffer.alloc(500, 3),
      ]);
      const form = new FormData();
      form.append('file', new Blob([png]), 'foto.png');
      const up = (await (await fetch(`${t.base}/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } })).json()) as {
        id: string;
      };
      const started = await t.gql(
        'mutation($c: ID!, $a: [ID!]) { startConversation(clientId: $c, subject: "Foto", recipientIds: ["demo:pr-bakker"], body: "Zie bijlage", attachmentIds: $a) { messages { id attachments { downloadUrl } } } }',
        { c: karenId, a: [up.id] },
        token,
      );
      expect(started.body.errors).toBeUndefined();
      const message = started.body.data.startConversation.messages[0];
      const download = await fetch(t.local(message.attachments[0].downloadUrl));
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer()).equals(png)).toBe(true);

      await t.gql('mutation($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: message.id }, token);
      expect((await fetch(t.local(message.attachments[0].downloadUrl))).status).toBe(404);
    });
  });
});
