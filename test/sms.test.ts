import { randomBytes, randomUUID } from 'node:crypto';
import { CmSms } from '../adapters/sms/cm.sms';
import { startCmGateway, type CmGateway } from './utils/cm-gateway';
import { postSignedSync } from './utils/live';
import { startSmtpInbox, type SmtpInbox } from './utils/smtp-server';
import { startTestApp, type TestApp } from './utils/app';

const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId channel maskedDestination } }';
const VERIFY = 'mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { accessToken mustChangePassword } }';
const CHANGE = 'mutation($a: String!, $b: String!) { changePassword(currentPassword: $a, newPassword: $b) { accessToken } }';
const sixDigits = (text: string) => /(\d{6})/.exec(text)![1];

describe('the SMS port for CM.com’s messages API, against a local gateway that speaks it', () => {
  let gateway: CmGateway;
  beforeAll(async () => {
    gateway = await startCmGateway();
  });
  afterAll(async () => gateway.stop());

  const port = (overrides: Partial<ConstructorParameters<typeof CmSms>[0]> = {}) =>
    new CmSms({ url: gateway.url, productToken: gateway.productToken, sender: 'GGZDemo', ...overrides });

  it('sends the text to the number in 00-international form, from the configured sender', async () => {
    await port().send({ to: '+31612345678', text: 'Uw inlogcode is 123456.' });
    expect(gateway.accepted.at(-1)).toMatchObject({ to: '0031612345678', from: 'GGZDemo', text: 'Uw inlogcode is 123456.' });
    await port().send({ to: '0687654321', text: 'x' });
    expect(gateway.accepted.at(-1)?.to).toBe('0031687654321');
  });

  it('throws a clear error when the gateway refuses the product token', async () => {
    await expect(port({ productToken: 'not-the-token' }).send({ to: '+31612345678', text: 'x' })).rejects.toThrow(
      /^SMS not sent: CM\.com refused it \(HTTP 400, errorCode 101\): No account found for the given authentication$/,
    );
  });

  it('throws a clear error when the gateway rejects the message (a number it cannot reach)', async () => {
    await expect(port().send({ to: '12', text: 'x' })).rejects.toThrow(/errorCode 201\): Gsm '12' is not a number/);
  });

  it('throws a clear error when the gateway does not answer', async () => {
    await expect(port({ url: 'http://127.0.0.1:9/v1.0/message', timeoutMs: 1000 }).send({ to: '+31612345678', text: 'x' })).rejects.toThrow(
      /^SMS not sent: the gateway did not answer/,
    );
  });
});

describe('login codes by SMS to the number the organisation has on file (Extenzo), through the CM.com port', () => {
  const syncSecret = randomBytes(24).toString('hex');
  let gateway: CmGateway;
  let inbox: SmtpInbox;
  let t: TestApp;

  beforeAll(async () => {
    [gateway, inbox] = await Promise.all([startCmGateway(), startSmtpInbox()]);
    t = await startTestApp({
      env: {
        SYNC_SECRET: syncSecret,
        SMTP_URL: inbox.url,
        SMTP_FROM: 'GGZ Demo Amstelland <noreply@ggz-demo.test>',
        SMS_GATEWAY_URL: gateway.url,
        SMS_PRODUCT_TOKEN: gateway.productToken,
        SMS_SENDER: 'GGZDemo',
        ORGANISATION_NAME: 'GGZ Demo Amstelland',
      },
    });
  });
  afterAll(async () => {
    await t.stop();
    await Promise.all([gateway.stop(), inbox.stop()]);
  });

  async function login(email: string, password: string) {
    const sent = gateway.accepted.length;
    const c = (await t.gql(LOGIN, { e: email, p: password })).body.data.login as { challengeId: string; channel: string; maskedDestination: string };
    return { c, sms: (number: string) => gateway.next(number, sent) };
  }

  it('an invited client of 14 gets her login code by SMS at the number on file; a number she confirmed herself wins after that', async () => {
    const res = await postSignedSync(t.base, syncSecret, {
      id: randomUUID(),
      type: 'portal.invited',
      source: 'demo',
      clientId: 'cl-sanne',
      data: { relation: 'SELF', delivery: 'oneTimePassword', email: 'sanne@voorbeeld.test' },
    });
    expect(res.status).toBe(202);
    const temporary = /Tijdelijk wachtwoord: (\S+)/.exec((await inbox.next('sanne@voorbeeld.test')).text)![1];

    const first = await login('sanne@voorbeeld.test', temporary);
    expect(first.c).toMatchObject({ channel: 'SMS', maskedDestination: '+31*****14' });
    const code = sixDigits((await first.sms('0031612340014')).text);
    const session = (await t.gql(VERIFY, { c: first.c.challengeId, code })).body.data.verifyLoginCode;
    expect(session.mustChangePassword).toBe(true);
    const changed = (await t.gql(CHANGE, { a: temporary, b: 'Groene-Appel-Boom-73!' }, session.accessToken)).body.data.changePassword;
    const portals = await t.gql('{ me { portals { relation client { id name } } } }', undefined, changed.accessToken);
    expect(portals.body.data.me.portals).toEqual([{ relation: 'SELF', client: { id: expect.any(String), name: 'Sanne de Vries' } }]);
    // Her access log shows that the portal read her number from the organisation's record, and why.
    const log = await t.gql(
      'query($c: ID!) { client(id: $c) { accessLog(first: 10, dataKinds: ["identity"]) { action resource actor actorRole } } }',
      { c: portals.body.data.me.portals[0].client.id },
      changed.accessToken,
    );
    expect(log.body.data.client.accessLog).toEqual([
      { action: 'read', resource: 'Mobiel nummer (voor de inlogcode)', actor: 'Portaal (inloggen)', actorRole: 'SYSTEM' },
    ]);

    // She confirms a number of her own and chooses SMS: that one wins over the number on file.
    const before = gateway.accepted.length;
    expect((await t.gql('mutation { requestPhoneNumberChange(phone: "+31 6 55544433") }', undefined, changed.accessToken)).body.data).toBeTruthy();
    const confirm = sixDigits((await gateway.next('0031655544433', before)).text);
    await t.gql('mutation($c: String!) { confirmPhoneNumber(code: $c) }', { c: confirm }, changed.accessToken);
    expect((await t.gql('mutation { setLoginCodeChannel(channel: SMS) }', undefined, changed.accessToken)).body.data.setLoginCodeChannel).toBe(true);
    const second = await login('sanne@voorbeeld.test', 'Groene-Appel-Boom-73!');
    expect(second.c).toMatchObject({ channel: 'SMS', maskedDestination: '+31*****33' });
    const again = (await t.gql(VERIFY, { c: second.c.challengeId, code: sixDigits((await second.sms('0031655544433')).text) })).body.data.verifyLoginCode;
    expect(again.accessToken).toBeTruthy();
  });

  it('a parent gets no code at the child’s number on file: codes go by mail to the parent', async () => {
    const { c } = await login('parent@demo.test', 'Demo-Portaal-2026!');
    expect(c.channel).toBe('EMAIL');
  });
});
