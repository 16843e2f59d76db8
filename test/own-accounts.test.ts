import { MemoryMailer } from '../adapters/mail/mail';
import { MemorySms } from '../adapters/sms/sms';
import { LoginChallengeEntity } from '../src/modules/identity/credentials.entity';
import { DEMO_PASSWORD } from '../src/modules/portal/demo-seed';
import { portalIds, startTestApp, type TestApp } from './utils/app';

const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId channel maskedDestination expiresAt } }';
const VERIFY = 'mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { accessToken refreshToken mustChangePassword } }';

function codeIn(text: string | undefined): string {
  const m = /(\d{6})/.exec(text ?? '');
  if (!m) throw new Error(`no code in: ${text}`);
  return m[1];
}

describe('own accounts: password, a code by e-mail, sessions', () => {
  let t: TestApp;
  const mail = new MemoryMailer();
  const sms = new MemorySms();
  beforeAll(async () => {
    t = await startTestApp({ mail, sms });
  });
  afterAll(async () => t.stop());

  async function challenge(email: string, password: string) {
    const { body } = await t.gql(LOGIN, { e: email, p: password });
    expect(body.errors).toBeUndefined();
    return body.data.login as { challengeId: string; channel: string; maskedDestination: string; expiresAt: string };
  }

  it('logs in with password and the e-mailed 6-digit code', async () => {
    const c = await challenge('client@demo.test', DEMO_PASSWORD);
    expect(c).toMatchObject({ channel: 'EMAIL', maskedDestination: 'c***@demo.test' });
    expect(Date.parse(c.expiresAt) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    const code = codeIn(mail.last('client@demo.test')?.text);
    const { body } = await t.gql(VERIFY, { c: c.challengeId, code });
    expect(body.data.verifyLoginCode.mustChangePassword).toBe(false);
    const me = await t.gql('{ me { displayName } }', undefined, body.data.verifyLoginCode.accessToken);
    expect(me.body.data.me.displayName).toBe('Karen Test');
  });

  it('answers a wrong password and an unknown e-mail exactly like a right one, and sends nothing', async () => {
    const before = mail.sent.length;
    const wrong = await challenge('client@demo.test', 'Niet-Het-Goede-1!');
    const unknown = await challenge('nobody@demo.test', DEMO_PASSWORD);
    expect(Object.keys(wrong)).toEqual(Object.keys(unknown));
    expect(wrong.channel).toBe('EMAIL');
    expect(unknown.maskedDestination).toBe('n***@demo.test');
    expect(mail.sent.length).toBe(before);
    for (const c of [wrong, unknown]) {
      const { body } = await t.gql(VERIFY, { c: c.challengeId, code: '123456' });
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('allows at most 5 tries per code, then refuses even the right one', async () => {
    const c = await challenge('parent@demo.test', DEMO_PASSWORD);
    const code = codeIn(mail.last('parent@demo.test')?.text);
    const wrongCode = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const { body } = await t.gql(VERIFY, { c: c.challengeId, code: wrongCode });
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const { body } = await t.gql(VERIFY, { c: c.challengeId, code });
    expect(body.errors?.[0]?.message).toMatch(/Too many/);
  });

  it('refuses an expired code', async () => {
    const c = await challenge('relative@demo.test', DEMO_PASSWORD);
    const code = codeIn(mail.last('relative@demo.test')?.text);
    await t.app.db.getRepository(LoginChallengeEntity).update({ id: c.challengeId }, { expiresAt: new Date(Date.now() - 1000) });
    const { body } = await t.gql(VERIFY, { c: c.challengeId, code });
    expect(body.errors?.[0]?.message).toMatch(/expired/);
  });

  it('sends a new code only after the cool-down, and the old code stops working', async () => {
    const c = await challenge('stranger@demo.test', DEMO_PASSWORD);
    const first = codeIn(mail.last('stranger@demo.test')?.text);
    const tooSoon = await t.gql('mutation($c: ID!) { resendLoginCode(challengeId: $c) }', { c: c.challengeId });
    expect(tooSoon.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(tooSoon.body.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
    await t.app.db.getRepository(LoginChallengeEntity).update({ id: c.challengeId }, { lastSentAt: new Date(Date.now() - 60_000) });
    expect((await t.gql('mutation($c: ID!) { resendLoginCode(challengeId: $c) }', { c: c.challengeId })).body.data.resendLoginCode).toBe(true);
    const second = codeIn(mail.last('stranger@demo.test')?.text);
    if (first !== second) expect((await t.gql(VERIFY, { c: c.challengeId, code: first })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.gql(VERIFY, { c: c.challengeId, code: second })).body.data.verifyLoginCode.accessToken).toBeTruthy();
  });

  it('sends one new code for two resends asked at the same moment (a double tap), and that code works', async () => {
    const c = await challenge('relative@demo.test', DEMO_PASSWORD);
    await t.app.db.getRepository(LoginChallengeEntity).update({ id: c.challengeId }, { lastSentAt: new Date(Date.now() - 60_000) });
    const before = mail.sent.filter((m) => m.to === 'relative@demo.test').length;
    // Both under way at once, as two requests on two instances would be.
    const resend = () =>
      t.app.services.ownAccounts.resendLoginCode(c.challengeId).then(
        (sent) => sent,
        (err: Error) => err.constructor.name,
      );
    expect((await Promise.all([resend(), resend()])).sort()).toEqual(['RateLimitedError', true]);
    const sent = mail.sent.filter((m) => m.to === 'relative@demo.test');
    expect(sent.length - before).toBe(1);
    expect((await t.gql(VERIFY, { c: c.challengeId, code: codeIn(sent.at(-1)?.text) })).body.data.verifyLoginCode.accessToken).toBeTruthy();
  });

  it('rate-limits password attempts per account with RATE_LIMITED and a retry-after', async () => {
    let last: Awaited<ReturnType<TestApp['gql']>> | undefined;
    for (let i = 0; i < 11; i++) last = await t.gql(LOGIN, { e: 'limited@demo.test', p: 'Whatever-123!' });
    expect(last!.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(last!.body.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
  });

  it('resets a password with a single-use link, enforces the policy, and ends the other sessions', async () => {
    const c = await challenge('client@demo.test', DEMO_PASSWORD);
    const s = (await t.gql(VERIFY, { c: c.challengeId, code: codeIn(mail.last('client@demo.test')?.text) })).body.data.verifyLoginCode;
    expect((await t.gql('mutation { requestPasswordReset(email: "client@demo.test") }')).body.data.requestPasswordReset).toBe(true);
    expect((await t.gql('mutation { requestPasswordReset(email: "nobody@demo.test") }')).body.data.requestPasswordReset).toBe(true);
    const token = /token=([\w-]+)/.exec(mail.last('client@demo.test')!.text)![1];
    for (const weak of ['kort1!A', 'alleenkleineletters1!', 'Wachtwoord123!', 'GeenCijfersHier!']) {
      const { body } = await t.gql('mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }', { t: token, p: weak });
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const next = 'Zonnig-Weer-2027#';
    expect(
      (await t.gql('mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }', { t: token, p: next })).body.data.resetPassword,
    ).toBe(true);
    expect(
      (await t.gql('mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }', { t: token, p: next })).body.errors?.[0]?.extensions
        ?.code,
    ).toBe('BAD_USER_INPUT');
    expect((await t.gql('{ me { id } }', undefined, s.accessToken)).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const again = await challenge('client@demo.test', next);
    const fresh = (await t.gql(VERIFY, { c: again.challengeId, code: codeIn(mail.last('client@demo.test')?.text) })).body.data.verifyLoginCode;
    expect(fresh.accessToken).toBeTruthy();
    // Back to the demo password, through changePassword.
    const changed = await t.gql(
      'mutation($a: String!, $b: String!) { changePassword(currentPassword: $a, newPassword: $b) { accessToken } }',
      { a: next, b: DEMO_PASSWORD },
      fresh.accessToken,
    );
    expect(changed.body.data.changePassword.accessToken).toBeTruthy();
  });

  it('forces a new password first when one was set for the person (invitation or reset by staff)', async () => {
    const account = await t.app.services.accounts.findByEmail('relative@demo.test');
    await t.app.services.ownAccounts.setPassword(account!.id, 'Tijdelijk-Toegang-9!', true);
    const c = await challenge('relative@demo.test', 'Tijdelijk-Toegang-9!');
    const s = (await t.gql(VERIFY, { c: c.challengeId, code: codeIn(mail.last('relative@demo.test')?.text) })).body.data.verifyLoginCode;
    expect(s.mustChangePassword).toBe(true);
    const karen = (await portalIds(t, await t.login('client@demo.test')))[0];
    const blocked = await t.gql('query($id: ID!) { client(id: $id) { appointments { id } } }', { id: karen }, s.accessToken);
    expect(blocked.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PASSWORD_CHANGE_REQUIRED' });
    const refreshed = await t.gql('mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }', { r: s.refreshToken });
    expect(refreshed.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const changed = await t.gql(
      'mutation($a: String!, $b: String!) { changePassword(currentPassword: $a, newPassword: $b) { accessToken mustChangePassword } }',
      { a: 'Tijdelijk-Toegang-9!', b: DEMO_PASSWORD },
      s.accessToken,
    );
    expect(changed.body.data.changePassword.mustChangePassword).toBe(false);
    const ok = await t.gql('query($id: ID!) { client(id: $id) { appointments { id } } }', { id: karen }, changed.body.data.changePassword.accessToken);
    expect(ok.body.errors).toBeUndefined();
  });

  it('activates a portal with the letter’s code and birth date, and refuses wrong birth dates and reuse', async () => {
    const karenClient = (await portalIds(t, await t.login('client@demo.test')))[0];
    const code = await t.app.services.ownAccounts.createActivationCode(karenClient, '1988-04-12');
    const stranger = await t.login('stranger@demo.test');
    const ACTIVATE = 'mutation($c: String!, $d: Date!) { activatePortal(activationCode: $c, birthDate: $d) { relation client { name } } }';
    const wrong = await t.gql(ACTIVATE, { c: code, d: '1988-04-13' }, stranger);
    expect(wrong.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const ok = await t.gql(ACTIVATE, { c: code.toLowerCase(), d: '1988-04-12' }, stranger);
    expect(ok.body.data.activatePortal).toEqual({ relation: 'SELF', client: { name: 'Karen Test' } });
    const reuse = await t.gql(ACTIVATE, { c: code, d: '1988-04-12' }, await t.login('parent@demo.test'));
    expect(reuse.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const anon = await t.gql(ACTIVATE, { c: code, d: '1988-04-12' });
    expect(anon.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('locks an activation code after 5 wrong birth dates', async () => {
    const karenClient = (await portalIds(t, await t.login('client@demo.test')))[0];
    const code = await t.app.services.ownAccounts.createActivationCode(karenClient, '1988-04-12');
    const token = await t.login('parent@demo.test');
    const ACTIVATE = 'mutation($c: String!, $d: Date!) { activatePortal(activationCode: $c, birthDate: $d) { relation } }';
    for (let i = 0; i < 5; i++) await t.gql(ACTIVATE, { c: code, d: `1990-01-0${i + 1}` }, token);
    expect((await t.gql(ACTIVATE, { c: code, d: '1988-04-12' }, token)).body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('counts every try of an activation code before comparing: wrong birth dates sent at once do not buy more than 5 tries', async () => {
    const karenClient = (await portalIds(t, await t.login('client@demo.test')))[0];
    const code = await t.app.services.ownAccounts.createActivationCode(karenClient, '1988-04-12');
    const token = await t.login('relative@demo.test');
    const accountId = (await t.gql('{ me { id } }', undefined, token)).body.data.me.id as string;
    const tries = [...Array.from({ length: 8 }, (_, i) => `1990-02-0${i + 1}`), '1988-04-12'].map((date) =>
      t.app.services.ownAccounts.activatePortal(accountId, code, date).then(
        () => 'activated',
        (err: Error) => err.constructor.name,
      ),
    );
    // The right birth date, after eight wrong ones that were under way at the same time, is the ninth try.
    expect(await Promise.all(tries)).toEqual(Array(9).fill('BadUserInputError'));
  });

  it('sends login codes by SMS once a phone number is confirmed by an SMS code, ending the other sessions', async () => {
    const login = async () => {
      const c = await challenge('parent@demo.test', DEMO_PASSWORD);
      return { c, code: () => (c.channel === 'SMS' ? codeIn(sms.last('+31612345678')?.text) : codeIn(mail.last('parent@demo.test')?.text)) };
    };
    const first = await login();
    const s1 = (await t.gql(VERIFY, { c: first.c.challengeId, code: first.code() })).body.data.verifyLoginCode;
    const other = await t.login('parent@demo.test');
    const early = await t.gql('mutation { setLoginCodeChannel(channel: SMS) }', undefined, s1.accessToken);
    expect(early.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.gql('mutation { requestPhoneNumberChange(phone: "06 123") }', undefined, s1.accessToken)).body.errors?.[0]?.extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await t.gql('mutation { requestPhoneNumberChange(phone: "+31 6 12345678") }', undefined, s1.accessToken)).body.data.requestPhoneNumberChange).toBe(
      true,
    );
    expect((await t.gql('mutation { confirmPhoneNumber(code: "000000x") }', undefined, s1.accessToken)).body.errors?.[0]?.extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    const smsCode = codeIn(sms.last('+31612345678')?.text);
    expect((await t.gql('mutation($c: String!) { confirmPhoneNumber(code: $c) }', { c: smsCode }, s1.accessToken)).body.data.confirmPhoneNumber).toBe(true);
    expect((await t.gql('{ me { id } }', undefined, other)).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.gql('mutation { setLoginCodeChannel(channel: SMS) }', undefined, s1.accessToken)).body.data.setLoginCodeChannel).toBe(true);
    const second = await login();
    expect(second.c).toMatchObject({ channel: 'SMS', maskedDestination: '+31*****78' });
    expect((await t.gql(VERIFY, { c: second.c.challengeId, code: second.code() })).body.data.verifyLoginCode.accessToken).toBeTruthy();
  });
});

describe('a password reset while the mail server refuses', () => {
  it('answers exactly as for an address without an account (no error that tells which addresses have one)', async () => {
    const mail = Object.assign(new MemoryMailer(), {
      send: async () => {
        throw new Error('421 service not available (simulated)');
      },
    });
    const t = await startTestApp({ mail, env: { LOG_LEVEL: 'fatal' } });
    try {
      const ask = async (email: string) => (await t.gql('mutation($e: String!) { requestPasswordReset(email: $e) }', { e: email })).body;
      expect(await ask('client@demo.test')).toEqual(await ask('nobody@demo.test'));
      expect(await ask('client@demo.test')).toEqual({ data: { requestPasswordReset: true } });
    } finally {
      await t.stop();
    }
  });
});
