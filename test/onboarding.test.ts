import { randomBytes, randomUUID } from 'node:crypto';
import { buildDemoData } from '../adapters/demo/demo-data';
import { MemoryMailer } from '../adapters/mail/mail';
import type { MailMessage } from '../adapters/ports';
import { MemorySms } from '../adapters/sms/sms';
import { AccountCredentialsEntity } from '../src/modules/identity/credentials.entity';
import { SyncEventEntity } from '../src/events/sync-event.entity';
import { startSmtpInbox, type ReceivedMail, type SmtpInbox } from './utils/smtp-server';
import { postSignedSync, until } from './utils/live';
import { startTestApp, type TestApp } from './utils/app';
import { MARIADB_URL } from './utils/services';

const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId channel maskedDestination } }';
const VERIFY = 'mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { accessToken mustChangePassword } }';
const ACTIVATE = 'mutation($c: String!, $d: Date!) { activatePortal(activationCode: $c, birthDate: $d) { relation client { id name } } }';
const CHANGE = 'mutation($a: String!, $b: String!) { changePassword(currentPassword: $a, newPassword: $b) { accessToken mustChangePassword } }';
const PORTALS = '{ me { portals { relation client { id name } } } }';
const APPOINTMENTS = 'query($id: ID!) { client(id: $id) { name appointments { id } } }';

/** A BSN that passes the 11-proef and that the demo EHR does not know: a DigiD login with no portal of its own. */
const UNKNOWN_BSN = '999990111';

/** The embedded database, and MariaDB where the suite has one. */
const databases: { database: 'sqlite' | 'mariadb' }[] = [{ database: 'sqlite' }, ...(MARIADB_URL ? [{ database: 'mariadb' as const }] : [])];

describe.each(databases)(
  'onboarding that the organisation drives (portal.invited), with mail over SMTP to a real SMTP server, on $database',
  ({ database }) => {
    const syncSecret = randomBytes(24).toString('hex');
    const sms = new MemorySms();
    let inbox: SmtpInbox;
    let t: TestApp;

    beforeAll(async () => {
      inbox = await startSmtpInbox();
      t = await startTestApp({
        sms,
        database,
        env: {
          SYNC_SECRET: syncSecret,
          SMTP_URL: inbox.url,
          SMTP_FROM: 'GGZ Demo Amstelland <noreply@ggz-demo.test>',
          ORGANISATION_NAME: 'GGZ Demo Amstelland',
          FRONTEND_URL: 'https://portaal.ggz-demo.test',
          // A refused mail fails the event's handling; it is tried again at once here (production: seconds to an hour).
          SYNC_RETRY_BASE_MS: '50',
          SYNC_RETRY_MAX_MS: '200',
        },
      });
    });
    afterAll(async () => {
      await t.stop();
      await inbox.stop();
    });

    const invited = (clientId: string, data: Record<string, unknown>) => ({ id: randomUUID(), type: 'portal.invited', source: 'demo', clientId, data });
    const post = async (event: Record<string, unknown>) => {
      const res = await postSignedSync(t.base, syncSecret, event);
      return { status: res.status, body: (await res.json()) as { status?: string; error?: { message: string } } };
    };
    const mailTo = (address: string, after = 0): Promise<ReceivedMail> => inbox.next(address, after);
    const codeIn = (text: string) => /activatiecode: ([0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4})/.exec(text)![1];
    const passwordIn = (text: string) => /Tijdelijk wachtwoord: (\S+)/.exec(text)![1];
    const loginCode = (text: string | undefined) => /(\d{6})/.exec(text ?? '')![1];

    async function passwordLogin(email: string, password: string): Promise<{ accessToken: string; mustChangePassword: boolean; channel: string }> {
      const before = inbox.received.length;
      const c = (await t.gql(LOGIN, { e: email, p: password })).body.data.login;
      const text = c.channel === 'SMS' ? sms.sent.at(-1)?.text : (await mailTo(email, before)).text;
      const s = (await t.gql(VERIFY, { c: c.challengeId, code: loginCode(text) })).body.data.verifyLoginCode;
      return { ...s, channel: c.channel };
    }

    it('activation code: a representative gets a mail naming the organisation and no client, logs in with DigiD, activates with the birth date, and the portal opens', async () => {
      const res = await post(invited('cl-daan', { relation: 'REPRESENTATIVE', email: 'mentor@voorbeeld.test', name: 'M. Mentor' }));
      expect(res).toMatchObject({ status: 202, body: { status: 'accepted' } });
      const letter = await mailTo('mentor@voorbeeld.test');
      expect(letter.subject).toBe('Uw activatiecode voor het cliëntenportaal van GGZ Demo Amstelland');
      expect(letter).toMatchObject({ from: 'noreply@ggz-demo.test', user: 'portal' });
      expect(letter.headers.from).toBe('GGZ Demo Amstelland <noreply@ggz-demo.test>');
      expect(letter.text).toContain('GGZ Demo Amstelland heeft u aangemeld');
      expect(letter.text).toContain('https://portaal.ggz-demo.test/');
      expect(letter.text).toContain('de geboortedatum van de cliënt');
      expect(letter.text).not.toMatch(/Daan|de Vries|diagnos|behandelplan/i);

      const token = await t.login({ bsn: UNKNOWN_BSN });
      expect((await t.gql(PORTALS, undefined, token)).body.data.me.portals).toEqual([]);
      // The representative knows the client's birth date (the demo EHR's, relative to today).
      const daan = buildDemoData().clients.find((c) => c.client.externalId === 'cl-daan')!.client;
      const activated = await t.gql(ACTIVATE, { c: codeIn(letter.text), d: daan.birthDate }, token);
      expect(activated.body.errors).toBeUndefined();
      expect(activated.body.data.activatePortal).toMatchObject({ relation: 'REPRESENTATIVE', client: { name: 'Daan de Vries' } });
      const opened = await t.gql(APPOINTMENTS, { id: activated.body.data.activatePortal.client.id }, token);
      expect(opened.body.errors).toBeUndefined();
      expect(opened.body.data.client.name).toBe('Daan de Vries');
      // The access log says the practitioner system created the access.
      const log = await t.gql(
        'query($id: ID!) { client(id: $id) { accessLog { action actor actorRole resource } } }',
        { id: activated.body.data.activatePortal.client.id },
        token,
      );
      expect(log.body.data.client.accessLog).toContainEqual({
        action: 'create',
        actor: 'demo',
        actorRole: 'PRACTITIONER_SYSTEM',
        resource: 'Portaaltoegang: activatiecode verstuurd (REPRESENTATIVE)',
      });
    });

    it('a redelivered event is answered duplicate and sends no second code; the code works once', async () => {
      const event = invited('cl-karen', { email: 'karen.nieuw@voorbeeld.test' });
      expect((await post(event)).body.status).toBe('accepted');
      const letter = await mailTo('karen.nieuw@voorbeeld.test');
      expect((await post(event)).body.status).toBe('duplicate');
      await new Promise((r) => setTimeout(r, 200));
      expect(inbox.received.filter((m) => m.to.includes('karen.nieuw@voorbeeld.test'))).toHaveLength(1);
      const token = await t.login({ bsn: '999990093' });
      expect((await t.gql(ACTIVATE, { c: codeIn(letter.text), d: '1988-04-12' }, token)).body.data.activatePortal.relation).toBe('SELF');
      const again = await t.gql(ACTIVATE, { c: codeIn(letter.text), d: '1988-04-12' }, await t.login({ bsn: '999990081' }));
      expect(again.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('a mail the SMTP server refused goes out again when the event is retried, and the code in it works', async () => {
      inbox.refuseNext('karen.later@voorbeeld.test');
      expect((await post(invited('cl-karen', { email: 'karen.later@voorbeeld.test' }))).status).toBe(202);
      const letter = await mailTo('karen.later@voorbeeld.test');
      expect(inbox.refused()).toBeGreaterThanOrEqual(1);
      expect(inbox.received.filter((m) => m.to.includes('karen.later@voorbeeld.test'))).toHaveLength(1);
      const token = await t.login({ bsn: '999990056' });
      expect((await t.gql(ACTIVATE, { c: codeIn(letter.text), d: '1988-04-12' }, token)).body.data.activatePortal.relation).toBe('SELF');
    });

    it('refuses a wrong birth date, and after five wrong ones the right one too', async () => {
      await post(invited('cl-karen', { email: 'karen.derde@voorbeeld.test' }));
      const code = codeIn((await mailTo('karen.derde@voorbeeld.test')).text);
      const token = await t.login({ bsn: '999990068' });
      for (let i = 1; i <= 5; i++) {
        const wrong = await t.gql(ACTIVATE, { c: code, d: `1990-01-0${i}` }, token);
        expect(wrong.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
      const locked = await t.gql(ACTIVATE, { c: code, d: '1988-04-12' }, token);
      expect(locked.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect((await t.gql(PORTALS, undefined, token)).body.data.me.portals).toEqual([]);
    });

    it('one-time password: an own account whose first login must set a new password before any client data opens', async () => {
      expect((await post(invited('cl-karen', { delivery: 'oneTimePassword', email: 'k.test@voorbeeld.test' }))).status).toBe(202);
      const welcome = await mailTo('k.test@voorbeeld.test');
      expect(welcome.text).toContain('Inlognaam: k.test@voorbeeld.test');
      expect(welcome.text).not.toMatch(/Karen|diagnos/i);
      const temporary = passwordIn(welcome.text);
      const first = await passwordLogin('k.test@voorbeeld.test', temporary);
      expect(first.mustChangePassword).toBe(true);
      const blocked = await t.gql(PORTALS, undefined, first.accessToken);
      expect(blocked.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PASSWORD_CHANGE_REQUIRED' });
      const change = await t.gql(CHANGE, { a: temporary, b: 'Blauwe-Tulp-Zomer-48!' }, first.accessToken);
      expect(change.body.errors).toBeUndefined();
      const changed = change.body.data.changePassword;
      expect(changed.mustChangePassword).toBe(false);
      const [portal] = (await t.gql(PORTALS, undefined, changed.accessToken)).body.data.me.portals;
      expect(portal.relation).toBe('SELF');
      const opened = await t.gql(APPOINTMENTS, { id: portal.client.id }, changed.accessToken);
      expect(opened.body.errors).toBeUndefined();
      expect(opened.body.data.client.name).toBe('Karen Test');
    });

    it('a one-time password left unused for 30 days no longer logs in, and a new invitation sends a fresh one', async () => {
      await post(invited('cl-karen', { delivery: 'oneTimePassword', email: 'k.laat@voorbeeld.test' }));
      const stale = passwordIn((await mailTo('k.laat@voorbeeld.test')).text);
      const account = await t.app.services.accounts.findByEmail('k.laat@voorbeeld.test');
      // The clock moved on: the password was set 31 days ago.
      await t.app.db.getRepository(AccountCredentialsEntity).update({ accountId: account!.id }, { updatedAt: new Date(Date.now() - 31 * 86_400_000) });
      const before = inbox.received.length;
      const c = (await t.gql(LOGIN, { e: 'k.laat@voorbeeld.test', p: stale })).body.data.login;
      expect(c.channel).toBe('EMAIL');
      await new Promise((r) => setTimeout(r, 200));
      expect(inbox.received.slice(before).filter((m) => m.to.includes('k.laat@voorbeeld.test'))).toHaveLength(0);
      await post(invited('cl-karen', { delivery: 'oneTimePassword', email: 'k.laat@voorbeeld.test' }));
      const fresh = passwordIn((await mailTo('k.laat@voorbeeld.test', before)).text);
      expect(fresh).not.toBe(stale);
      expect((await passwordLogin('k.laat@voorbeeld.test', fresh)).mustChangePassword).toBe(true);
    });

    it('refuses an invitation without an address, with an unknown relation or delivery, with 400 and nothing stored', async () => {
      for (const data of [
        {},
        { email: 'x@voorbeeld.test', relation: 'NETWORK_MEMBER' },
        { email: 'x@voorbeeld.test', delivery: 'post' },
        { phone: '+31612345678', delivery: 'oneTimePassword' },
      ]) {
        const res = await post(invited('cl-karen', data));
        expect(res.status).toBe(400);
      }
      expect((await post({ id: randomUUID(), type: 'portal.invited', source: 'demo', data: { email: 'x@voorbeeld.test' } })).status).toBe(400);
    });
  },
);

describe('a DigiD-only portal (OWN_ACCOUNTS=0)', () => {
  const syncSecret = randomBytes(24).toString('hex');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SYNC_SECRET: syncSecret, OWN_ACCOUNTS: '0' } });
  });
  afterAll(async () => t.stop());

  it('offers no password login or reset', async () => {
    const login = await t.gql(LOGIN, { e: 'client@demo.test', p: 'Demo-Portaal-2026!' });
    expect(login.body.errors?.[0]).toMatchObject({ message: 'This portal has no password login; log in with DigiD.', extensions: { code: 'NOT_FOUND' } });
    const reset = await t.gql('mutation { requestPasswordReset(email: "client@demo.test") }');
    expect(reset.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('makes no own account for a one-time-password invitation, says why in the event’s error, and does not try it again', async () => {
    const event = {
      id: randomUUID(),
      type: 'portal.invited',
      source: 'demo',
      clientId: 'cl-karen',
      data: { delivery: 'oneTimePassword', email: 'otp@voorbeeld.test' },
    };
    expect((await postSignedSync(t.base, syncSecret, event)).status).toBe(202);
    const deadline = Date.now() + 5000;
    let rows: { error: string | null; attempts: number; next_attempt_at: unknown }[] = [];
    while (Date.now() < deadline && !rows[0]?.error) {
      rows = await t.app.db.query('SELECT error, attempts, next_attempt_at FROM sync_events WHERE event_id = ?', [event.id]);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(rows[0]?.error).toMatch(/needs own accounts \(OWN_ACCOUNTS=1\)/);
    // It cannot succeed as sent: failed at once, not scheduled again (the sender sends a new event).
    expect(rows[0]).toMatchObject({ attempts: 1, next_attempt_at: null });
    expect(await t.app.services.accounts.findByEmail('otp@voorbeeld.test')).toBeNull();
  });
});

describe('an invitation whose handler outlasts its claim (a slow mail server), on SQLite', () => {
  /** Takes each mail only after a while, as a slow SMTP server would. */
  class SlowMailer extends MemoryMailer {
    override async send(message: MailMessage): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 1200));
      await super.send(message);
    }
  }
  const syncSecret = randomBytes(24).toString('hex');
  const mail = new SlowMailer();
  let t: TestApp;

  beforeAll(async () => {
    // A claim of 300 ms, and a retry pass every 100 ms that would take any row whose claim lapsed.
    t = await startTestApp({ mail, env: { SYNC_SECRET: syncSecret, SYNC_CLAIM_MS: '300', SYNC_RETRY_BASE_MS: '100', LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => t.stop());

  it('sends one letter with one code: no retry pass takes the event while its first handler still sends', async () => {
    const event = {
      id: randomUUID(),
      type: 'portal.invited',
      source: 'demo',
      clientId: 'cl-daan',
      data: { relation: 'REPRESENTATIVE', email: 'traag@voorbeeld.test', name: 'T. Raag' },
    };
    expect((await postSignedSync(t.base, syncSecret, event)).status).toBe(202);
    const processed = async () =>
      ((await t.app.db.query('SELECT processed_at FROM sync_events WHERE event_id = ?', [event.id])) as { processed_at: unknown }[])[0]?.processed_at ??
      undefined;
    await until(processed, 10_000, 'the processed invitation');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(mail.sent.filter((m) => m.to === 'traag@voorbeeld.test')).toHaveLength(1);
  });

  it('leaves alone at start an event another instance holds (a rolling deploy), and takes one whose claim lapsed', async () => {
    const row = (email: string, claimedUntil: Date) => {
      const event = {
        id: randomUUID(),
        type: 'portal.invited',
        source: 'demo',
        clientId: 'cl-daan',
        data: { relation: 'REPRESENTATIVE', email, name: 'N. Ieuw' },
      };
      return t.app.db.getRepository(SyncEventEntity).insert({
        id: randomUUID(),
        eventId: event.id,
        type: event.type,
        source: event.source,
        clientRef: event.clientId,
        occurredAt: null,
        payload: JSON.stringify(event),
        receivedAt: new Date(),
        processedAt: null,
        error: null,
        attempts: 0,
        nextAttemptAt: claimedUntil,
      });
    };
    await row('bezet@voorbeeld.test', new Date(Date.now() + 60_000));
    await row('verlopen@voorbeeld.test', new Date(Date.now() - 1_000));
    const fresh = new MemoryMailer();
    const second = await startTestApp({ mail: fresh, databaseUrl: t.config.DATABASE_URL, env: { SYNC_SECRET: syncSecret, LOG_LEVEL: 'warn' } });
    try {
      // The lapsed one goes out once, from whichever instance claimed it first (the running one's retry pass, or the new one at start).
      const sent = () => [...mail.sent, ...fresh.sent];
      await until(() => (sent().some((m) => m.to === 'verlopen@voorbeeld.test') ? true : undefined), 5000, 'the lapsed invitation');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sent().filter((m) => m.to === 'verlopen@voorbeeld.test')).toHaveLength(1);
      expect(sent().filter((m) => m.to === 'bezet@voorbeeld.test')).toHaveLength(0);
    } finally {
      await second.stop();
    }
  });
});
