import { randomUUID } from 'node:crypto';
import { MemoryMailer } from '../adapters/mail/mail';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { DEMO_BSN } from '../adapters/demo/demo-data';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { PARENT_ACCESS } from '../src/auth/access';
import { SyncEventEntity } from '../src/events/sync-event.entity';
import { ConversationEntity } from '../src/modules/messages/message.entity';
import { clientIdOf, portalIds, startTestApp, type TestApp } from './utils/app';
import { postSignedSync, until } from './utils/live';

const DAY = 86_400_000;
const yearsAgo = (years: number) => new Date(Date.now() - years * 365.25 * DAY).toISOString().slice(0, 10);
const tokenIn = (text: string | undefined) => /token=([\w-]+)/.exec(text ?? '')![1];
const INVITE = `mutation($c: ID!, $i: InvitationInput!) { inviteNetworkMember(clientId: $c, input: $i) { id member { id } } }`;
const ACCEPT = 'mutation($t: String!) { acceptInvitation(token: $t) { relation client { id } } }';

/** Each privacy leak found by trying the gateway as a new user would, with the rule that closes it. */
describe('the access gate closes the leaks that were found', () => {
  let t: TestApp;
  const mail = new MemoryMailer();
  const demo = new DemoEhrAdapter();
  const record = (externalId: string) => demo.data.clients.find((c) => c.client.externalId === externalId)!;
  let karen: string;
  let karenId: string;

  beforeAll(async () => {
    t = await startTestApp({ mail, adapters: { demo }, env: { TREATMENT_END_GRACE_DAYS: '0', TREATMENT_END_READ_ONLY_DAYS: '30' } });
    karen = await t.login('client@demo.test');
    [karenId] = await portalIds(t, karen);
  });
  afterAll(async () => t.stop());

  /** A network member of Karen's portal with exactly these rights, logged in. */
  async function member(email: string, permissions: Permission[], admin = false): Promise<{ token: string; accountId: string }> {
    const account = (await t.app.services.accounts.findByEmail(email)) ?? (await t.app.services.accounts.create({ email, displayName: email.split('@')[0] }));
    await t.app.services.accounts.link(account.id, karenId, PortalRelation.NETWORK_MEMBER, permissions, admin);
    return { token: await t.login(email), accountId: account.id };
  }

  it('opens an invitation only for the e-mail address it was sent to; the link stays usable for that person', async () => {
    await t.gql(INVITE, { c: karenId, i: { name: 'Ellen', email: 'relative@demo.test', language: 'nl', permissions: ['AGENDA_VIEW'] } }, karen);
    const token = tokenIn(mail.last('relative@demo.test')?.text);
    const stranger = await t.login('stranger@demo.test');
    const refused = await t.gql(ACCEPT, { t: token }, stranger);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'INVITATION_FOR_ANOTHER_ADDRESS' });
    expect((await t.gql('{ me { portals { client { id } } } }', undefined, stranger)).body.data.me.portals).toEqual([]);
    const accepted = await t.gql(ACCEPT, { t: token }, await t.login('relative@demo.test'));
    expect(accepted.body.data.acceptInvitation).toMatchObject({ relation: 'NETWORK_MEMBER', client: { id: karenId } });
  });

  it('gives a child under 12 no portal of their own: the DigiD login opens nothing, a SELF link opens nothing; the parents keep access', async () => {
    record('cl-daan').client.birthDate = yearsAgo(9);
    const daan = await t.login({ bsn: DEMO_BSN.daan });
    expect((await t.gql('{ me { portals { relation } } }', undefined, daan)).body.data.me.portals).toEqual([]);
    const daanId = await clientIdOf(t, 'cl-daan');
    // Even a SELF link made some other way (an activation letter) opens nothing before 12.
    const account = (await t.app.services.accounts.findById((await t.gql('{ me { id } }', undefined, daan)).body.data.me.id))!;
    await t.app.services.accounts.link(account.id, daanId, PortalRelation.SELF, [], true);
    const own = await t.gql('query($id: ID!) { client(id: $id) { name appointments { id } } }', { id: daanId }, daan);
    expect(own.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OWN_LOGIN_FROM_12' });
    expect(own.body.data).toEqual({ client: null });
    const parent = await t.gql('query($id: ID!) { client(id: $id) { name } }', { id: daanId }, await t.login('parent@demo.test'));
    expect(parent.body.data.client.name).toBe('Daan de Vries');
    // From 12 the same login opens the child's own portal (Sanne, 14).
    const sanne = await t.login({ bsn: DEMO_BSN.sanne });
    expect((await t.gql('{ me { portals { relation } } }', undefined, sanne)).body.data.me.portals).toEqual([{ relation: 'SELF' }]);
  });

  it('keeps the trust group for network members with dossier access: MESSAGES_TRUST_GROUP alone reads nothing, and cannot be granted alone', async () => {
    const trust = await t.gql(
      'mutation($c: ID!) { startConversation(clientId: $c, subject: "Vertrouwensgroep", recipientIds: [], body: "Hallo allemaal", kind: TRUST_GROUP) { id } }',
      { c: karenId },
      karen,
    );
    expect(trust.body.errors).toBeUndefined();
    const conversations = 'query($id: ID!) { client(id: $id) { conversations(folder: ALL) { id } } }';
    const alone = await member('trust.alone@demo.test', [Permission.MESSAGES_TRUST_GROUP]);
    const refused = await t.gql(conversations, { id: karenId }, alone.token);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION', action: 'READ_MESSAGES' });
    const read = await t.gql(
      'mutation($id: ID!) { markConversationRead(conversationId: $id) { id } }',
      { id: trust.body.data.startConversation.id },
      alone.token,
    );
    expect(read.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const withDossier = await member('trust.dossier@demo.test', [Permission.MESSAGES_TRUST_GROUP, Permission.DOSSIER_VIEW]);
    const seen = (await t.gql(conversations, { id: karenId }, withDossier.token)).body.data.client.conversations.map((c: { id: string }) => c.id);
    expect(seen).toContain(trust.body.data.startConversation.id);

    const invite = await t.gql(
      INVITE,
      { c: karenId, i: { name: 'Iemand', email: 'trust.new@demo.test', language: 'nl', permissions: ['MESSAGES_TRUST_GROUP'] } },
      karen,
    );
    expect(invite.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(invite.body.errors?.[0]?.message).toMatch(/MESSAGES_TRUST_GROUP needs DOSSIER_VIEW/);
  });

  it('refuses a network member with only AGENDA_VIEW the consents, and answers the rest of the screen (nullable parts)', async () => {
    const agenda = await member('agenda.only@demo.test', [Permission.AGENDA_VIEW]);
    const { body } = await t.gql(
      'query($id: ID!) { client(id: $id) { name consents { id } dashboard { upcomingAppointmentCount } dossier { medications { name } } } }',
      { id: karenId },
      agenda.token,
    );
    expect(body.data.client.name).toBe('Karen Test');
    expect(body.data.client.dashboard.upcomingAppointmentCount).toBeGreaterThan(0);
    expect(body.data.client.consents).toBeNull();
    expect(body.data.client.dossier).toBeNull();
    const at = (path: string[]) => body.errors?.find((e) => JSON.stringify(e.path) === JSON.stringify(path))?.extensions;
    expect(at(['client', 'consents'])).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION', action: 'VIEW_CONSENTS' });
    expect(at(['client', 'dossier'])).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION', action: 'VIEW_DOSSIER' });
  });

  it('writes no access-log line for a refused invitation (a bad address, a right without its dependency), one for a made one', async () => {
    const lines = async () => (await t.app.services.audit.list(karenId, 100)).filter((e) => e.eventType === 'network.invite').length;
    const before = await lines();
    const bad = await t.gql(INVITE, { c: karenId, i: { name: 'X', email: 'not-an-address', language: 'nl', permissions: ['AGENDA_VIEW'] } }, karen);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unfit = await t.gql(INVITE, { c: karenId, i: { name: 'X', email: 'x@demo.test', language: 'nl', permissions: ['PLANS_APPROVE'] } }, karen);
    expect(unfit.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await lines()).toBe(before);
    await t.gql(INVITE, { c: karenId, i: { name: 'X', email: 'x@demo.test', language: 'nl', permissions: ['AGENDA_VIEW'] } }, karen);
    expect(await lines()).toBe(before + 1);
  });

  it('names the client, not an id, as the one on whose behalf a parent acted', async () => {
    record('cl-sanne').client.birthDate = yearsAgo(14);
    const parent = await t.login('parent@demo.test');
    const sanneId = await clientIdOf(t, 'cl-sanne');
    await t.gql('query($id: ID!) { client(id: $id) { dossier { medications { name } } } }', { id: sanneId }, parent);
    const { body } = await t.gql('query($id: ID!) { client(id: $id) { accessLog(first: 5) { actorRole onBehalfOf resource } } }', { id: sanneId }, parent);
    expect(body.data.client.accessLog[0]).toMatchObject({ actorRole: 'PARENT', onBehalfOf: 'Sanne de Vries', resource: 'Medicatie' });
    expect(body.data.client.accessLog.some((e: { onBehalfOf: string | null }) => e.onBehalfOf?.startsWith('client:'))).toBe(false);
  });

  describe('downloads ask the gate again, with today’s rules', () => {
    const documentsQuery = 'query($id: ID!) { client(id: $id) { dossier { documents { name downloadUrl } } } }';

    it('refuses a link issued before a child of 16 withdrew the parents’ access', async () => {
      const sanne = record('cl-sanne');
      sanne.client.birthDate = yearsAgo(16.5);
      sanne.documents.push({
        externalId: 'dc-s-1',
        name: 'Verwijsbrief.pdf',
        mediaType: 'application/pdf',
        uploadedBy: 'A. Yilmaz',
        uploadedAt: new Date().toISOString(),
        needsApproval: false,
        approvedAt: null,
        content: '%PDF-1.4 demo',
      });
      const sanneId = await clientIdOf(t, 'cl-sanne');
      await t.app.services.consents.set(sanneId, PARENT_ACCESS, true, 'test');
      const parent = await t.login('parent@demo.test');
      const docs = (await t.gql(documentsQuery, { id: sanneId }, parent)).body.data.client.dossier.documents;
      expect(docs.length).toBeGreaterThan(0);
      expect((await fetch(t.local(docs[0].downloadUrl))).status).toBe(200);
      await t.app.services.consents.set(sanneId, PARENT_ACCESS, false, 'test');
      const refused = await fetch(t.local(docs[0].downloadUrl));
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { errors: { extensions: { reason: string } }[] }).errors[0].extensions.reason).toBe('CHILD_DECIDES');
      sanne.client.birthDate = yearsAgo(14);
    });

    it('refuses a link issued before the treatment ended and the portal closed', async () => {
      const karenRecord = record('cl-karen').client;
      const docs = (await t.gql(documentsQuery, { id: karenId }, karen)).body.data.client.dossier.documents;
      try {
        karenRecord.inTreatment = false;
        karenRecord.treatmentEndedAt = new Date(Date.now() - 40 * DAY).toISOString();
        const refused = await fetch(t.local(docs[0].downloadUrl));
        expect(refused.status).toBe(403);
        expect(((await refused.json()) as { errors: { extensions: { reason: string } }[] }).errors[0].extensions.reason).toBe('TREATMENT_ENDED');
      } finally {
        karenRecord.inTreatment = true;
        karenRecord.treatmentEndedAt = null;
      }
    });

    it('refuses a link while the account has a password set for it that must be replaced first', async () => {
      const docs = (await t.gql(documentsQuery, { id: karenId }, karen)).body.data.client.dossier.documents;
      const account = (await t.app.services.accounts.findByEmail('client@demo.test'))!;
      await t.app.services.ownAccounts.setPassword(account.id, 'Blauwe-Fiets-Regen-81!', true);
      try {
        const refused = await fetch(t.local(docs[0].downloadUrl));
        expect(refused.status).toBe(403);
        expect(((await refused.json()) as { errors: { extensions: { reason: string } }[] }).errors[0].extensions.reason).toBe('PASSWORD_CHANGE_REQUIRED');
      } finally {
        await t.app.services.ownAccounts.setPassword(account.id, 'Demo-Portaal-2026!', false);
      }
      expect((await fetch(t.local(docs[0].downloadUrl))).status).toBe(200);
    });

    it('refuses an attachment link of a parent once the child of 16 withdrew access', async () => {
      const sanne = record('cl-sanne');
      sanne.client.birthDate = yearsAgo(16.5);
      const sanneId = await clientIdOf(t, 'cl-sanne');
      await t.app.services.consents.set(sanneId, PARENT_ACCESS, true, 'test');
      const parent = await t.login('parent@demo.test');
      const form = new FormData();
      form.append('file', new Blob(['%PDF-1.4\n%demo\n'], { type: 'application/pdf' }), 'brief.pdf');
      const upload = (await (await fetch(`${t.base}/files`, { method: 'POST', headers: { authorization: `Bearer ${parent}` }, body: form })).json()) as {
        id: string;
      };
      const started = await t.gql(
        'mutation($c: ID!, $a: [ID!]) { startConversation(clientId: $c, subject: "Brief", recipientIds: [], body: "Zie bijlage", attachmentIds: $a, kind: PERSONAL_NETWORK) { messages { attachments { downloadUrl } } } }',
        { c: sanneId, a: [upload.id] },
        parent,
      );
      const url = started.body.data.startConversation.messages[0].attachments[0].downloadUrl as string;
      expect((await fetch(t.local(url))).status).toBe(200);
      await t.app.services.consents.set(sanneId, PARENT_ACCESS, false, 'test');
      expect((await fetch(t.local(url))).status).toBe(403);
      sanne.client.birthDate = yearsAgo(14);
    });
  });

  it('sends no new-message mail to a parent whom a child of 16 has not given access', async () => {
    const sanne = record('cl-sanne');
    sanne.client.birthDate = yearsAgo(16.5);
    const sanneId = await clientIdOf(t, 'cl-sanne');
    await t.app.services.consents.set(sanneId, PARENT_ACCESS, false, 'test');
    mail.sent.length = 0;
    await t.app.services.messages.receiveFromPractitioner({
      clientId: sanneId,
      eventId: randomUUID(),
      subject: 'Afspraak',
      practitionerId: 'demo:pr-jansen',
      body: 'Tot dinsdag',
      at: new Date(),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mail.sent.filter((m) => m.to === 'parent@demo.test')).toEqual([]);
    await t.app.services.consents.set(sanneId, PARENT_ACCESS, true, 'test');
    await t.app.services.messages.receiveFromPractitioner({
      clientId: sanneId,
      eventId: randomUUID(),
      subject: 'Afspraak 2',
      practitionerId: 'demo:pr-jansen',
      body: 'Tot woensdag',
      at: new Date(),
    });
    await until(() => (mail.sent.some((m) => m.to === 'parent@demo.test') ? true : undefined), 2000, 'the mail to the parent');
    sanne.client.birthDate = yearsAgo(14);
  });

  it('parks a signed message.created from a practitioner the EHR does not know: nothing is shown, the event waits with its reason', async () => {
    const conversationsBefore = await t.app.db.getRepository(ConversationEntity).countBy({ clientId: karenId });
    const event = {
      id: `evt-unknown-pr-${Date.now()}`,
      type: 'message.created',
      source: 'demo',
      clientId: karenId,
      data: { practitionerId: 'pr-nobody', subject: 'Hallo', body: 'Ik ben uw behandelaar' },
    };
    const res = await postSignedSync(t.base, t.config.syncSecret, event);
    expect(res.status).toBe(202);
    const row = await until(
      async () => {
        const r = await t.app.db.getRepository(SyncEventEntity).findOneBy({ eventId: event.id });
        return r?.error ? r : undefined;
      },
      3000,
      'the event to be parked',
    );
    expect(row.processedAt).toBeNull();
    expect(row.error).toMatch(/unknown practitioner/);
    expect(await t.app.db.getRepository(ConversationEntity).countBy({ clientId: karenId })).toBe(conversationsBefore);
  });
});
