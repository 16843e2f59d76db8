import { MemoryMailer } from '../adapters/mail/mail';
import { InvitationEntity } from '../src/modules/network/invitation.entity';
import { portalIds, startTestApp, type TestApp } from './utils/app';

const INVITE = `mutation($c: ID!, $i: InvitationInput!) { inviteNetworkMember(clientId: $c, input: $i) { id email expiresAt member { id status permissions } } }`;
const NETWORK = 'query($id: ID!) { client(id: $id) { network { id name email admin permissions status } } }';
const MEDS = 'query($id: ID!) { client(id: $id) { dossier { medications { name } } } }';
const tokenIn = (text: string | undefined) => /token=([\w-]+)/.exec(text ?? '')![1];

describe('the personal network: invitations, registration by invitation, rights', () => {
  let t: TestApp;
  let karen: string;
  let karenId: string;
  const mail = new MemoryMailer();
  beforeAll(async () => {
    t = await startTestApp({ mail });
    karen = await t.login('client@demo.test');
    [karenId] = await portalIds(t, karen);
  });
  afterAll(async () => t.stop());

  const invite = (email: string, permissions: string[], token = karen) =>
    t.gql(INVITE, { c: karenId, i: { name: 'Mark de Boer', email, language: 'nl', permissions, message: 'Wil jij mijn afspraken kunnen zien?' } }, token);

  it('lets the client invite by e-mail with chosen rights (3 days), and shows the network', async () => {
    const { body } = await invite('mark@demo.test', ['AGENDA_VIEW', 'DOSSIER_VIEW']);
    const inv = body.data.inviteNetworkMember;
    expect(inv.member.status).toBe('INVITED');
    expect(Date.parse(inv.expiresAt) - Date.now()).toBeGreaterThan(2.9 * 86_400_000);
    expect(mail.last('mark@demo.test')?.text).toContain('Wil jij mijn afspraken kunnen zien?');
    const network = (await t.gql(NETWORK, { id: karenId }, karen)).body.data.client.network;
    expect(network.map((m: { email: string; status: string }) => [m.email, m.status])).toEqual(
      expect.arrayContaining([
        ['relative@demo.test', 'ACTIVE'],
        ['mark@demo.test', 'INVITED'],
      ]),
    );
  });

  it('refuses a network member who is not admin, and rights that do not fit together', async () => {
    const relative = await t.login('relative@demo.test');
    expect((await t.gql(NETWORK, { id: karenId }, relative)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await invite('x@demo.test', ['AGENDA_VIEW'], relative)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await invite('y@demo.test', ['PLANS_APPROVE'])).body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await invite('not-an-email', ['AGENDA_VIEW'])).body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('registers a new account with the invitation link, once, under the password policy', async () => {
    await invite('sanne.b@demo.test', ['AGENDA_VIEW', 'DOSSIER_VIEW']);
    const token = tokenIn(mail.last('sanne.b@demo.test')?.text);
    const REGISTER = 'mutation($t: String!, $n: String!, $p: String!) { registerWithInvitation(token: $t, displayName: $n, password: $p) { accessToken } }';
    expect((await t.gql(REGISTER, { t: token, n: 'Sanne Boer', p: 'kort' })).body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const ok = await t.gql(REGISTER, { t: token, n: 'Sanne Boer', p: 'Zorg-Netwerk-2026!' });
    const session = ok.body.data.registerWithInvitation.accessToken;
    const me = await t.gql('{ me { displayName email portals { relation permissions client { id } } } }', undefined, session);
    expect(me.body.data.me).toMatchObject({ displayName: 'Sanne Boer', email: 'sanne.b@demo.test' });
    expect(me.body.data.me.portals[0]).toMatchObject({ relation: 'NETWORK_MEMBER', client: { id: karenId } });
    expect((await t.gql(MEDS, { id: karenId }, session)).body.data.client.dossier.medications.length).toBeGreaterThan(0);
    expect((await t.gql(REGISTER, { t: token, n: 'Iemand', p: 'Zorg-Netwerk-2026!' })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('lets a logged-in person accept, and changes or removes their rights at once', async () => {
    await invite('stranger@demo.test', ['AGENDA_VIEW', 'DOSSIER_VIEW']);
    const stranger = await t.login('stranger@demo.test');
    const accepted = await t.gql(
      'mutation($t: String!) { acceptInvitation(token: $t) { relation permissions client { id } } }',
      { t: tokenIn(mail.last('stranger@demo.test')?.text) },
      stranger,
    );
    expect(accepted.body.data.acceptInvitation).toMatchObject({ relation: 'NETWORK_MEMBER', client: { id: karenId } });
    expect((await t.gql(MEDS, { id: karenId }, stranger)).body.errors).toBeUndefined();

    const member = (await t.gql(NETWORK, { id: karenId }, karen)).body.data.client.network.find(
      (m: { email: string; status: string }) => m.email === 'stranger@demo.test' && m.status === 'ACTIVE',
    );
    const SET = 'mutation($m: ID!, $p: [Permission!]!, $a: Boolean) { setNetworkPermissions(memberId: $m, permissions: $p, admin: $a) { permissions admin } }';
    expect((await t.gql(SET, { m: member.id, p: ['AGENDA_VIEW'], a: true }, karen)).body.data.setNetworkPermissions).toEqual({
      permissions: ['AGENDA_VIEW'],
      admin: true,
    });
    expect((await t.gql(MEDS, { id: karenId }, stranger)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Now admin: may see and manage the network, but not act for the client.
    expect((await t.gql(NETWORK, { id: karenId }, stranger)).body.errors).toBeUndefined();

    expect((await t.gql('mutation($m: ID!) { removeNetworkMember(memberId: $m) }', { m: member.id }, karen)).body.data.removeNetworkMember).toBe(true);
    expect((await t.gql('query($id: ID!) { client(id: $id) { name } }', { id: karenId }, stranger)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('shows an invitation as EXPIRED after 3 days and refuses it', async () => {
    const { body } = await invite('late@demo.test', ['AGENDA_VIEW']);
    await t.app.db.getRepository(InvitationEntity).update({ id: body.data.inviteNetworkMember.id }, { expiresAt: new Date(Date.now() - 1000) });
    const network = (await t.gql(NETWORK, { id: karenId }, karen)).body.data.client.network;
    expect(network.find((m: { email: string }) => m.email === 'late@demo.test').status).toBe('EXPIRED');
    const parent = await t.login('parent@demo.test');
    const late = await t.gql('mutation($t: String!) { acceptInvitation(token: $t) { relation } }', { t: tokenIn(mail.last('late@demo.test')?.text) }, parent);
    expect(late.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('gives an accepted invitation the rights its inviter last saved: narrowed while it is being accepted, the change counts or is refused', async () => {
    const { network, accounts } = t.app.services;
    const inviter = (await accounts.findByEmail('client@demo.test'))!;
    const outcomes: string[] = [];
    for (let wait = 0; wait < 10; wait++) {
      const email = `gelijktijdig-${wait}-${Date.now()}@demo.test`;
      const account = await accounts.create({ email, displayName: 'Gelijk Tijdig' });
      const { invitation } = await network.invite(karenId, inviter.id, {
        name: 'Gelijk Tijdig',
        email,
        language: 'nl',
        permissions: ['AGENDA_VIEW', 'DOSSIER_VIEW'] as never,
      });
      const ref = await network.find(`inv:${invitation.id}`);
      const accepting = network.accept(tokenIn(mail.last(email)?.text), account.id);
      for (let i = 0; i < wait; i++) await new Promise((resolve) => setImmediate(resolve));
      const narrowing = network.setPermissions(ref, ['AGENDA_VIEW'] as never, false).then(
        () => 'saved',
        (err: Error) => err.constructor.name,
      );
      const [accepted, outcome] = await Promise.all([accepting, narrowing]);
      outcomes.push(outcome);
      // What the inviter was told is what the member got.
      if (outcome === 'saved') expect(accepted.permissions).toEqual(['AGENDA_VIEW']);
      else expect([outcome, accepted.permissions]).toEqual(['ConflictError', ['AGENDA_VIEW', 'DOSSIER_VIEW']]);
      const member = (await network.members(karenId)).find((m) => m.email === email)!;
      expect(member.permissions).toEqual(accepted.permissions);
    }
    expect(outcomes).toContain('saved');
  });
});

describe('an invitation whose mail cannot be sent', () => {
  it('answers UPSTREAM_UNAVAILABLE and lists no invitation nobody received', async () => {
    const mail = Object.assign(new MemoryMailer(), {
      send: async () => {
        throw new Error('421 service not available (simulated)');
      },
    });
    const t = await startTestApp({ mail, env: { LOG_LEVEL: 'fatal' } });
    try {
      const karen = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, karen);
      const { body } = await t.gql(
        INVITE,
        { c: karenId, i: { name: 'Mark de Boer', email: 'mark.b@demo.test', language: 'nl', permissions: ['AGENDA_VIEW'] } },
        karen,
      );
      expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      const network = (await t.gql(NETWORK, { id: karenId }, karen)).body.data.client.network as { email: string }[];
      expect(network.map((m) => m.email)).not.toContain('mark.b@demo.test');
    } finally {
      await t.stop();
    }
  });
});
