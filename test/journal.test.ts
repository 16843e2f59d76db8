import { DEMO_BSN } from '../adapters/demo/demo-data';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { until } from './utils/live';
import { ehrAway, OUTAGE_ENV } from './utils/outage';
import { clientIdOf, portalIds, startTestApp, type TestApp } from './utils/app';
import { MARIADB_URL } from './utils/services';

/** The diary (dagboek) and the client story (Mijn Verhaal), kept by the portal, on SQLite and on MariaDB. */
const configurations = [{ name: 'SQLite', database: 'sqlite' as const }, ...(MARIADB_URL ? [{ name: 'MariaDB', database: 'mariadb' as const }] : [])];

describe.each(configurations)('the diary and the client story ($name)', ({ database }) => {
  let t: TestApp;
  let karenToken: string;
  let karenId: string;
  beforeAll(async () => {
    t = await startTestApp({ database });
    karenToken = await t.login('client@demo.test');
    [karenId] = await portalIds(t, karenToken);
  });
  afterAll(async () => t.stop());

  const ADD = 'mutation($c: ID!, $text: String!) { addDiaryEntry(clientId: $c, text: $text) { id text author createdAt } }';
  const DIARY = 'query($c: ID!) { client(id: $c) { diary { id text author createdAt } } }';
  const STORY = 'query($c: ID!) { client(id: $c) { story { text sharedWithOrganisation updatedAt } } }';
  const SAVE =
    'mutation($c: ID!, $text: String!, $share: Boolean!) { saveClientStory(clientId: $c, text: $text, shareWithOrganisation: $share) { text sharedWithOrganisation updatedAt } }';
  const accessLog = async (token: string, clientId: string) =>
    (await t.gql('query($c: ID!) { client(id: $c) { accessLog(first: 50) { action resource } } }', { c: clientId }, token)).body.data.client.accessLog as {
      action: string;
      resource: string;
    }[];

  it('keeps what the client writes, newest first with the author, logs each write, and refuses an empty or too long entry without storing or logging it', async () => {
    const first = await t.gql(ADD, { c: karenId, text: '  Vandaag lukte het om met de trein naar Amsterdam te gaan.  ' }, karenToken);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.addDiaryEntry).toMatchObject({ text: 'Vandaag lukte het om met de trein naar Amsterdam te gaan.', author: 'Karen Test' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await t.gql(ADD, { c: karenId, text: 'Slecht geslapen, wel gewandeld.' }, karenToken)).body.errors).toBeUndefined();
    const creates = (await accessLog(karenToken, karenId)).filter((e) => e.resource === 'Dagboek: nieuw bericht').length;
    expect(creates).toBe(2);

    for (const text of ['   ', 'x'.repeat(10_001)]) {
      const refused = await t.gql(ADD, { c: karenId, text }, karenToken);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
    }
    const diary = (await t.gql(DIARY, { c: karenId }, karenToken)).body.data.client.diary as { text: string; createdAt: string }[];
    expect(diary.map((e) => e.text).slice(0, 2)).toEqual(['Slecht geslapen, wel gewandeld.', 'Vandaag lukte het om met de trein naar Amsterdam te gaan.']);
    expect(diary).toHaveLength(2);
    const log = await accessLog(karenToken, karenId);
    expect(log.filter((e) => e.resource === 'Dagboek: nieuw bericht')).toHaveLength(creates);
    expect(log.some((e) => e.resource === 'Dagboek')).toBe(true);
  });

  it('lets a parent with authority write in the diary of a child under 12, counts it as new for a child of 14 who logs in, and keeps network members out', async () => {
    const parentToken = await t.login('parent@demo.test');
    const daan = await clientIdOf(t, 'cl-daan');
    const sanne = await clientIdOf(t, 'cl-sanne');
    expect((await t.gql(ADD, { c: daan, text: 'Daan was vandaag vrolijk op school.' }, parentToken)).body.data.addDiaryEntry.author).toBe('Peter de Vries');
    expect((await t.gql(ADD, { c: sanne, text: 'Afspraak met mentor besproken.' }, parentToken)).body.errors).toBeUndefined();
    const sanneToken = await t.login({ bsn: DEMO_BSN.sanne });
    const activity = await t.gql('query($c: ID!) { client(id: $c) { dashboard { activity { newDiaryEntries } } } }', { c: sanne }, sanneToken);
    expect(activity.body.data.client.dashboard.activity.newDiaryEntries).toBe(1);
    // Her own entries are not news to her.
    expect((await t.gql(ADD, { c: sanne, text: 'Zelf geschreven.' }, sanneToken)).body.errors).toBeUndefined();
    const again = await t.gql('query($c: ID!) { client(id: $c) { dashboard { activity { newDiaryEntries } } } }', { c: sanne }, sanneToken);
    expect(again.body.data.client.dashboard.activity.newDiaryEntries).toBe(1);

    const relativeToken = await t.login('relative@demo.test');
    const read = await t.gql(DIARY, { c: karenId }, relativeToken);
    expect(read.body.data?.client?.diary ?? null).toBeNull();
    expect(read.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(ADD, { c: karenId, text: 'Mag ik dit?' }, relativeToken)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('keeps one story per client, replaced on save, shared with the organisation only while the client says so (a copy in its EHR, withdrawn again)', async () => {
    const demo = t.app.services.registry.adapter('demo') as DemoEhrAdapter;
    expect((await t.gql(STORY, { c: karenId }, karenToken)).body.data.client.story).toBeNull();
    const saved = await t.gql(SAVE, { c: karenId, text: 'Ik ben Karen. Wat mij helpt: wandelen en structuur.', share: false }, karenToken);
    expect(saved.body.errors).toBeUndefined();
    expect(saved.body.data.saveClientStory).toMatchObject({ text: 'Ik ben Karen. Wat mij helpt: wandelen en structuur.', sharedWithOrganisation: false });
    expect(demo.stories.get('cl-karen')).toBeUndefined(); // never before the client said so

    const shared = await t.gql(SAVE, { c: karenId, text: 'Gedeelde versie.', share: true }, karenToken);
    expect(shared.body.errors).toBeUndefined();
    expect(shared.body.data.saveClientStory).toMatchObject({ text: 'Gedeelde versie.', sharedWithOrganisation: true });
    expect(demo.stories.get('cl-karen')).toMatchObject({ shared: true, text: 'Gedeelde versie.', by: { name: 'Karen Test', kind: 'CLIENT' } });

    const withdrawn = await t.gql(SAVE, { c: karenId, text: 'Weer alleen voor mij.', share: false }, karenToken);
    expect(withdrawn.body.data.saveClientStory).toMatchObject({ sharedWithOrganisation: false });
    expect(demo.stories.get('cl-karen')).toMatchObject({ shared: false, text: '' });
    expect((await t.gql(STORY, { c: karenId }, karenToken)).body.data.client.story).toMatchObject({
      text: 'Weer alleen voor mij.',
      sharedWithOrganisation: false,
    });
    const lines = (await t.app.services.audit.list(karenId, 100)).filter((e) => e.eventType === 'journal.story.share').map((e) => e.resource);
    expect(lines).toEqual(['Delen van Mijn verhaal ingetrokken', 'Mijn verhaal gedeeld met de zorgaanbieder']);
    expect((await t.gql(SAVE, { c: karenId, text: 'x'.repeat(50_001), share: false }, karenToken)).body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses to share with a care organisation whose system cannot take the story (NOT_IMPLEMENTED), storing nothing', async () => {
    const other = await startTestApp({ database, adapters: { demo: Object.assign(new DemoEhrAdapter(), { shareClientStory: undefined }) } });
    try {
      const token = await other.login('client@demo.test');
      const [id] = await portalIds(other, token);
      const refused = await other.gql(SAVE, { c: id, text: 'Gedeeld?', share: true }, token);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'NOT_IMPLEMENTED' });
      expect((await other.gql(STORY, { c: id }, token)).body.data.client.story).toBeNull();
    } finally {
      await other.stop();
    }
  });
});

describe('the story shared while the EHR is away (the EHR write outbox)', () => {
  it('is shared in the portal at once with syncStatus PENDING, and the EHR gets the last version once it is back', async () => {
    const ehr = ehrAway('shareClientStory');
    const t = await startTestApp({
      env: OUTAGE_ENV,
      adapters: { demo: ehr },
    });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const save = (text: string) =>
        t.gql(
          'mutation($c: ID!, $t: String!) { saveClientStory(clientId: $c, text: $t, shareWithOrganisation: true) { text sharedWithOrganisation syncStatus } }',
          { c: karenId, t: text },
          token,
        );
      expect((await save('Eerste versie.')).body.data.saveClientStory).toEqual({ text: 'Eerste versie.', sharedWithOrganisation: true, syncStatus: 'PENDING' });
      expect((await save('Tweede versie.')).body.data.saveClientStory.syncStatus).toBe('PENDING');
      const read = async () =>
        (await t.gql('query($c: ID!) { client(id: $c) { story { text syncStatus } } }', { c: karenId }, token)).body.data.client.story as {
          syncStatus: string | null;
        };
      expect(await read()).toEqual({ text: 'Tweede versie.', syncStatus: 'PENDING' });
      ehr.down = false;
      await until(async () => ((await read()).syncStatus === null ? true : undefined), 5000, 'the delivery');
      expect(ehr.stories.get('cl-karen')).toMatchObject({ shared: true, text: 'Tweede versie.' });
    } finally {
      await t.stop();
    }
  });
});
