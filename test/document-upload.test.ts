import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { until } from './utils/live';
import { ehrAway, OUTAGE_ENV } from './utils/outage';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';

const PDF = Buffer.from('%PDF-1.4\n%ingevuld formulier van de cliënt\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
const ADD = 'mutation($c: ID!, $u: ID!, $t: String!) { addDocument(clientId: $c, uploadId: $u, title: $t) { id name mediaType uploadedBy downloadUrl } }';

/** The client's own documents in the dossier (Tromp): POST /files, then addDocument with a title, to the EHR. */
describe('adding a document to the dossier', () => {
  let t: TestApp;
  let token: string;
  let karenId: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '300' } });
    token = await t.login('client@demo.test');
    [karenId] = await portalIds(t, token);
  });
  afterAll(async () => t.stop());

  const upload = async (as = token, app = t) => {
    const form = new FormData();
    form.append('file', new Blob([PDF]), 'formulier.pdf');
    const res = await fetch(`${app.base}/files`, { method: 'POST', headers: { authorization: `Bearer ${as}` }, body: form });
    expect(res.status).toBe(200);
    return ((await res.json()) as { id: string }).id;
  };

  it('files the upload in the dossier with its title, shown with the client as uploader, downloadable as it came, once', async () => {
    const id = await upload();
    const { body } = await t.gql(ADD, { c: karenId, u: id, t: '  Ingevuld aanmeldformulier  ' }, token);
    expect(body.errors).toBeUndefined();
    expect(body.data.addDocument).toMatchObject({ name: 'Ingevuld aanmeldformulier', mediaType: 'application/pdf', uploadedBy: 'Karen Test' });
    const documents = (await t.gql('query($c: ID!) { client(id: $c) { dossier { documents { id name uploadedBy } } } }', { c: karenId }, token)).body.data
      .client.dossier.documents as { id: string; name: string }[];
    expect(documents.map((d) => d.id)).toContain(body.data.addDocument.id);
    const download = await fetch(t.local(body.data.addDocument.downloadUrl));
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(PDF)).toBe(true);
    expect((await t.app.services.audit.list(karenId, 50)).find((e) => e.eventType === 'dossier.document.upload')).toMatchObject({
      action: 'C',
      resource: 'Document toegevoegd: Ingevuld aanmeldformulier',
    });
    // Used once: not a second document, not an attachment.
    expect((await t.gql(ADD, { c: karenId, u: id, t: 'Nog een keer' }, token)).body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'uploadId',
    });
  });

  it('refuses a network member, an empty title, and someone else’s upload', async () => {
    const id = await upload();
    expect((await t.gql(ADD, { c: karenId, u: id, t: '   ' }, token)).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.DOSSIER_VIEW], false);
    const ellen = await t.login('relative@demo.test');
    expect((await t.gql(ADD, { c: karenId, u: id, t: 'Van Ellen' }, ellen)).body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'NO_PERMISSION',
    });
    const parent = await t.login('parent@demo.test');
    const [sanne] = await portalIds(t, parent);
    expect((await t.gql(ADD, { c: sanne, u: id, t: 'Niet van mij' }, parent)).body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'uploadId',
    });
  });

  it('gives the upload back when the care organisation’s system cannot take it, so nothing is lost', async () => {
    const other = await startTestApp({ adapters: { demo: Object.assign(new DemoEhrAdapter(), { uploadDocument: undefined }) } });
    try {
      const as = await other.login('client@demo.test');
      const [id] = await portalIds(other, as);
      const up = await upload(as, other);
      expect((await other.gql(ADD, { c: id, u: up, t: 'Formulier' }, as)).body.errors?.[0]?.extensions).toMatchObject({
        code: 'NOT_FOUND',
        reason: 'NOT_IMPLEMENTED',
      });
      expect((await other.app.services.attachments.find(up))?.messageId).toBeNull();
    } finally {
      await other.stop();
    }
  });
});

describe('a document added while the EHR is away (the EHR write outbox)', () => {
  it('is listed at once with syncStatus PENDING and reaches the EHR once, with its bytes, when it is back', async () => {
    const ehr = ehrAway('uploadDocument');
    const t = await startTestApp({
      env: { ...OUTAGE_ENV, CACHE_TTL_SECONDS: '300' },
      adapters: { demo: ehr },
    });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const form = new FormData();
      form.append('file', new Blob([PDF]), 'formulier.pdf');
      const up = (await (await fetch(`${t.base}/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })).json()) as {
        id: string;
      };
      const added = await t.gql(ADD.replace('downloadUrl }', 'downloadUrl syncStatus }'), { c: karenId, u: up.id, t: 'Formulier' }, token);
      expect(added.body.errors).toBeUndefined();
      expect(added.body.data.addDocument).toMatchObject({ name: 'Formulier', uploadedBy: 'Karen Test', syncStatus: 'PENDING' });
      const listed = async () =>
        (
          (await t.gql('query($c: ID!) { client(id: $c) { dossier { documents { id name syncStatus } } } }', { c: karenId }, token)).body.data.client.dossier
            .documents as {
            name: string;
            syncStatus: string | null;
          }[]
        ).filter((d) => d.name === 'Formulier');
      expect(await listed()).toEqual([expect.objectContaining({ syncStatus: 'PENDING' })]);
      ehr.down = false;
      await until(async () => ((await listed())[0]?.syncStatus === null ? true : undefined), 5000, 'the delivery');
      expect(await listed()).toHaveLength(1);
      const record = ehr.data.clients.find((c) => c.client.externalId === 'cl-karen')!;
      const filed = record.documents.filter((d) => d.name === 'Formulier');
      expect(filed).toHaveLength(1);
      expect(filed[0].bytes?.equals(PDF)).toBe(true);
      expect(await t.app.services.attachments.find(up.id)).toBeNull(); // the portal keeps no copy
    } finally {
      await t.stop();
    }
  });
});
