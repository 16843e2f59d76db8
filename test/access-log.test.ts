import { randomUUID } from 'node:crypto';
import { AccessLogEntity } from '../src/audit/access-log.entity';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { DEMO_BSN } from '../adapters/demo/demo-data';
import { PARENT_ACCESS } from '../src/auth/access';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { parseExportArgs, runAccessLogExport } from '../src/audit/access-log-export';
import { clientIdOf, startTestApp, type TestApp } from './utils/app';

/** Lines of the past, written as the gateway writes them (inserting is what the log allows). */
const PAST: Pick<AccessLogEntity, 'at' | 'action' | 'eventType' | 'resource'>[] = [
  { at: new Date('2021-01-10T09:00:00.000Z'), action: 'R', eventType: 'dossier.medications.read', resource: 'Medicatie' },
  { at: new Date('2021-02-10T09:00:00.000Z'), action: 'C', eventType: 'journal.diary.create', resource: 'Dagboek: nieuw bericht' },
  { at: new Date('2021-03-10T09:00:00.000Z'), action: 'R', eventType: 'messages.read', resource: 'Berichten' },
  { at: new Date('2021-04-10T09:00:00.000Z'), action: 'U', eventType: 'consent.update', resource: 'Toestemming' },
];

const LOG = `query($c: ID!, $from: DateTime, $to: DateTime, $actions: [AccessLogAction!], $kinds: [String!]) {
  client(id: $c) {
    accessLog(first: 50, from: $from, to: $to, actions: $actions, dataKinds: $kinds) { at action resource eventType consentApplied }
    accessLogConnection(first: 2, from: $from, to: $to, actions: $actions, dataKinds: $kinds) { edges { node { resource } } pageInfo { hasNextPage endCursor } }
  }
}`;

describe('the client’s access log, filtered by period and kind', () => {
  let t: TestApp;
  let karen: string;
  let karenId: string;
  const demo = new DemoEhrAdapter();
  const record = (externalId: string) => demo.data.clients.find((c) => c.client.externalId === externalId)!;

  beforeAll(async () => {
    t = await startTestApp({ adapters: { demo }, env: { RETENTION_JOB: '0' } });
    karen = await t.login('client@demo.test');
    karenId = await clientIdOf(t, 'cl-karen');
    const repo = t.app.db.getRepository(AccessLogEntity);
    for (const line of PAST)
      await repo.insert({
        id: randomUUID(),
        clientId: karenId,
        accountId: null,
        actorName: 'Dr. Marieke de Groot',
        actorRole: 'SELF',
        ...line,
      } as AccessLogEntity);
    // Today's lines beside them: Karen reads her medication.
    await t.gql('query($c: ID!) { client(id: $c) { dossier { medications { name } } } }', { c: karenId }, karen);
  });
  afterAll(async () => t?.stop());

  const read = async (variables: Record<string, unknown>, token = karen) => t.gql(LOG, { c: karenId, ...variables }, token);
  const resources = (body: { data?: { client: { accessLog: { resource: string }[] } } }) => body.data?.client.accessLog.map((l) => l.resource);

  it('answers the lines of a period only, newest first (from inclusive, to exclusive)', async () => {
    const { body } = await read({ from: '2021-01-10T09:00:00.000Z', to: '2021-03-10T09:00:00.000Z' });
    expect(resources(body)).toEqual(['Dagboek: nieuw bericht', 'Medicatie']);
  });

  it('answers the lines of some actions only', async () => {
    const { body } = await read({ from: '2021-01-01T00:00:00Z', to: '2022-01-01T00:00:00Z', actions: ['READ', 'UPDATE'] });
    expect(body.data.client.accessLog.map((l: { action: string }) => l.action)).toEqual(['update', 'read', 'read']);
  });

  it('answers the lines of some kinds of data only: an event type or a whole first part of one', async () => {
    expect(resources((await read({ kinds: ['dossier'], to: '2022-01-01T00:00:00Z' })).body)).toEqual(['Medicatie']);
    expect(resources((await read({ kinds: ['dossier.medications', 'journal'], to: '2022-01-01T00:00:00Z' })).body)).toEqual([
      'Dagboek: nieuw bericht',
      'Medicatie',
    ]);
    expect(resources((await read({ kinds: ['dossie'] })).body)).toEqual([]);
    // Without a period: today's read of the medication too, with its kind.
    const today = (await read({ kinds: ['dossier.medications.read'], actions: ['READ'] })).body.data.client.accessLog;
    expect(today).toHaveLength(2);
    expect(today[0]).toMatchObject({ resource: 'Medicatie', eventType: 'dossier.medications.read', consentApplied: false });
  });

  it('pages the filtered lines in the connection', async () => {
    const first = (await read({ to: '2022-01-01T00:00:00Z' })).body.data.client.accessLogConnection;
    expect(first.edges.map((e: { node: { resource: string } }) => e.node.resource)).toEqual(['Toestemming', 'Berichten']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = await t.gql(
      'query($c: ID!, $after: String) { client(id: $c) { accessLogConnection(first: 5, after: $after, to: "2022-01-01T00:00:00Z") { edges { node { resource } } } } }',
      { c: karenId, after: first.pageInfo.endCursor },
      karen,
    );
    expect(next.body.data.client.accessLogConnection.edges.map((e: { node: { resource: string } }) => e.node.resource)).toEqual([
      'Dagboek: nieuw bericht',
      'Medicatie',
    ]);
  });

  it('keeps accessLog(first: 50) answering as before, every line, without arguments', async () => {
    const { body } = await t.gql('query($c: ID!) { client(id: $c) { accessLog { resource } } }', { c: karenId }, karen);
    expect(body.data.client.accessLog.length).toBeGreaterThanOrEqual(PAST.length + 1);
  });

  it('refuses a period that ends before it starts, and a kind that is not an event-type word, with BAD_USER_INPUT', async () => {
    const backwards = await read({ from: '2021-03-01T00:00:00Z', to: '2021-01-01T00:00:00Z' });
    expect(backwards.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'to' });
    const wild = await read({ kinds: ['dossier%'] });
    expect(wild.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'dataKinds' });
  });

  it('marks a parent’s access to a child of 16 or older as resting on the child’s consent, a younger child’s not', async () => {
    const yearsAgo = (years: number) => new Date(Date.now() - years * 365.25 * 86_400_000).toISOString().slice(0, 10);
    record('cl-sanne').client.birthDate = yearsAgo(17);
    record('cl-daan').client.birthDate = yearsAgo(13);
    const [sanneId, daanId] = [await clientIdOf(t, 'cl-sanne'), await clientIdOf(t, 'cl-daan')];
    await t.app.services.consents.set(sanneId, PARENT_ACCESS, true, 'test');
    const parent = await t.login('parent@demo.test');
    const lines = async (clientId: string) => {
      await t.gql('query($c: ID!) { client(id: $c) { dossier { medications { name } } } }', { c: clientId }, parent);
      return (await t.app.services.audit.list(clientId, 1, undefined, { dataKinds: ['dossier.medications'] }))[0];
    };
    expect(await lines(sanneId)).toMatchObject({ actorRole: 'PARENT', onBehalfOf: 'Sanne de Vries', consentApplied: true });
    expect(await lines(daanId)).toMatchObject({ actorRole: 'PARENT', consentApplied: false });

    // A download's line says the same as a read's: the file route asks the same rule.
    record('cl-sanne').documents.push({
      externalId: 'dc-s-1',
      name: 'Signaleringsplan.pdf',
      mediaType: 'application/pdf',
      uploadedBy: 'Dr. Marieke de Groot',
      uploadedAt: new Date().toISOString(),
      needsApproval: false,
      approvedAt: null,
      content: 'Signaleringsplan van Sanne.',
    });
    const docs = await t.gql('query($c: ID!) { client(id: $c) { dossier { documents { downloadUrl } } } }', { c: sanneId }, parent);
    expect((await fetch(t.local(docs.body.data.client.dossier.documents[0].downloadUrl))).status).toBe(200);
    const [download] = await t.app.services.audit.list(sanneId, 1, undefined, { dataKinds: ['dossier.document.download'] });
    expect(download).toMatchObject({ actorRole: 'PARENT', onBehalfOf: 'Sanne de Vries', consentApplied: true, resource: 'Document: Signaleringsplan.pdf' });
  });

  it('dates a line at the start of the access, not at the moment a slow EHR told who the client is (NEN 7513)', async () => {
    const parent = await t.login('parent@demo.test');
    const daanId = await clientIdOf(t, 'cl-daan');
    // A parent's read waits for the child's record (the portal rules need the birth date) before its line is made.
    const getClient = demo.getClient.bind(demo);
    demo.getClient = async (...args) => {
      await new Promise((r) => setTimeout(r, 1500));
      return getClient(...args);
    };
    try {
      const started = Date.now();
      const { body } = await t.gql('query($c: ID!) { client(id: $c) { dossier { medications { name } } } }', { c: daanId }, parent);
      expect(body.errors).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      const [line] = await t.app.services.audit.list(daanId, 1, undefined, { dataKinds: ['dossier.medications'] });
      expect(line).toMatchObject({ actorRole: 'PARENT' });
      // To the second, at the start: the request's arrival, not 1.5 s later.
      expect(Math.abs(line.at.getTime() - started)).toBeLessThan(500);
    } finally {
      demo.getClient = getClient;
    }
  });

  it('writes a portal opened by a DigiD login into the client’s log, once (a login after it changes nothing)', async () => {
    const sanneId = await clientIdOf(t, 'cl-sanne');
    const linked = async () =>
      (await t.app.services.audit.list(sanneId, 50, undefined, { dataKinds: ['portal.linked'] })).filter((l) => l.actorRole === 'SELF');
    expect(await linked()).toEqual([]);
    await t.login({ bsn: DEMO_BSN.sanne });
    expect(await linked()).toMatchObject([
      { action: 'C', resource: 'Toegang tot het portaal via DigiD (cliënt)', actorName: 'Sanne de Vries', treatmentRelationship: true },
    ]);
    await t.login({ bsn: DEMO_BSN.sanne });
    expect(await linked()).toHaveLength(1);

    // The parent's link to Daan gone (the seed made it), the next DigiD login makes it again: Daan's log says so, on his behalf.
    const daanId = await clientIdOf(t, 'cl-daan');
    const parent = (await t.app.services.accounts.findByEmail('parent@demo.test'))!;
    const link = (await t.app.services.accounts.linkedAccounts(daanId, PortalRelation.PARENT)).find((l) => l.account?.id === parent.id)!.link;
    await t.app.services.accounts.removeLink(link.id);
    await t.login({ bsn: DEMO_BSN.parent });
    const [line] = await t.app.services.audit.list(daanId, 1, undefined, { dataKinds: ['portal.linked'] });
    expect(line).toMatchObject({
      action: 'C',
      actorRole: 'PARENT',
      actorName: 'Peter de Vries',
      onBehalfOf: 'Daan de Vries',
      resource: 'Toegang tot het portaal via DigiD (ouder met gezag)',
    });
  });

  it('refuses the filtered log to a network member without VIEW_ACCESS_LOG and to a stranger', async () => {
    const account = await t.app.services.accounts.create({ email: 'agenda.member@demo.test', displayName: 'Agenda' });
    await t.app.services.accounts.link(account.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], false);
    const member = await t.login('agenda.member@demo.test');
    const refused = await read({ actions: ['READ'] }, member);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', action: 'VIEW_ACCESS_LOG' });
    expect(refused.body.data.client.accessLog).toBeNull();
    const stranger = await read({ from: '2021-01-01T00:00:00Z' }, await t.login('stranger@demo.test'));
    expect(stranger.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  describe('the privacy officer’s export (npm run access-log:export)', () => {
    const run = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runAccessLogExport(
        argv,
        { DATABASE_URL: t.config.DATABASE_URL },
        (l) => out.push(l),
        (l) => err.push(l),
      );
      return { code, lines: out.map((l) => JSON.parse(l) as Record<string, unknown>), err: err.join('\n') };
    };

    it('prints one JSON line per access-log line of the client in the period, oldest first, with every NEN 7513 field', async () => {
      const { code, lines, err } = await run([
        '--client',
        karenId,
        '--from',
        '2021-01-01',
        '--to',
        '2021-03-10',
        '--by',
        'Fatima (functionaris gegevensbescherming)',
      ]);
      expect(code).toBe(0);
      // A date alone as --to means through the end of that day.
      expect(lines.map((l) => l.data)).toEqual(['Medicatie', 'Dagboek: nieuw bericht', 'Berichten']);
      expect(lines[0]).toEqual({
        id: expect.any(String),
        time: '2021-01-10T09:00:00.000Z',
        action: 'R',
        eventType: 'dossier.medications.read',
        data: 'Medicatie',
        clientId: karenId,
        clientSources: [{ source: 'demo', externalId: 'cl-karen' }],
        userAccountId: null,
        userName: 'Dr. Marieke de Groot',
        userRole: 'SELF',
        responsibleUser: 'Dr. Marieke de Groot',
        accessPoint: null,
        requestId: null,
        authorisationApplied: true,
        treatmentRelationship: false,
        consentApplied: false,
        emergencyAccess: false,
      });
      expect(err).toContain('3 line(s)');
    });

    it('finds the client by the EHR’s id too (source:externalId), and names where today’s read came from', async () => {
      const { code, lines } = await run([
        '--client=demo:cl-karen',
        `--from=${new Date(Date.now() - 3_600_000).toISOString()}`,
        `--to=${new Date(Date.now() + 60_000).toISOString()}`,
      ]);
      expect(code).toBe(0);
      // The first export (above) is itself in the client's log: who exported which period, from where.
      expect(lines.find((l) => l.eventType === 'access-log.export')).toMatchObject({
        action: 'E',
        data: 'Toegangslog geëxporteerd: 2020-12-31T23:00:00.000Z tot 2021-03-10T23:00:00.000Z',
        userRole: 'PRIVACY_OFFICER',
        userName: 'Fatima (functionaris gegevensbescherming)',
        accessPoint: expect.stringMatching(/^access-log:export on /),
      });
      const read = lines.find((l) => l.eventType === 'dossier.medications.read');
      expect(read).toMatchObject({ clientId: karenId, userRole: 'SELF', userName: 'Karen Test', accessPoint: expect.stringMatching(/127\.0\.0\.1|::1/) });
      expect(read?.userAccountId).toEqual(expect.any(String));
    });

    it('answers exit code 2 and says what is wrong for bad arguments or an unknown client, printing no line', async () => {
      for (const [argv, reason] of [
        [['--client', karenId, '--from', '2021-01-01'], '--to is required'],
        [['--client', karenId, '--from', 'yesterday', '--to', '2021-02-01'], '--from must be a date'],
        [['--client', karenId, '--from', '2021-03-01', '--to', '2021-01-01'], '--to must be later than --from'],
        [['--client', karenId, '--from', '2021-01-01', '--to', '2021-02-01', '--format', 'csv'], "unknown argument '--format'"],
        [['--client', 'demo:nobody', '--from', '2021-01-01', '--to', '2021-02-01'], "no client 'demo:nobody'"],
      ] as const) {
        const { code, lines, err } = await run([...argv]);
        expect({ code, lines, reason: err.includes(reason) }).toEqual({ code: 2, lines: [], reason: true });
      }
      expect(() => parseExportArgs(['--client'])).toThrow('--client needs a value');
      // Dates are Dutch days: 1 March is from 00:00 Amsterdam (23:00 UTC the evening before) to 00:00 on 2 March.
      expect(parseExportArgs(['--client', karenId, '--from', '2026-03-01', '--to', '2026-03-01'])).toMatchObject({
        from: new Date('2026-02-28T23:00:00.000Z'),
        to: new Date('2026-03-01T23:00:00.000Z'),
      });
      expect(parseExportArgs(['--client', karenId, '--from', '2026-06-01', '--to', '2026-06-30'])).toMatchObject({
        from: new Date('2026-05-31T22:00:00.000Z'),
        to: new Date('2026-06-30T22:00:00.000Z'),
      });
    });
  });
});
