import { randomBytes, randomUUID } from 'node:crypto';
import { MemoryMailer } from '../adapters/mail/mail';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { postSignedSync, until } from './utils/live';

/** The notification settings besides new messages: a mail for a published document, a changed appointment, an assigned questionnaire. */
describe('notification mails for documents, appointments and questionnaires', () => {
  let t: TestApp;
  let karenId: string;
  let karenToken: string;
  const mail = new MemoryMailer();
  const secret = randomBytes(24).toString('hex');
  beforeAll(async () => {
    t = await startTestApp({ mail, env: { SYNC_SECRET: secret } });
    karenToken = await t.login('client@demo.test');
    [karenId] = await portalIds(t, karenToken);
  });
  afterAll(async () => t.stop());

  const announce = async (type: string) =>
    expect(
      (await postSignedSync(t.base, secret, { id: randomUUID(), type, source: 'demo', clientId: karenId, occurredAt: new Date().toISOString(), data: {} }))
        .status,
    ).toBe(202);
  const to = (email: string, subject: RegExp) => mail.sent.filter((m) => m.to === email && subject.test(m.subject));
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  it('mails the client once per kind per 15 minutes, never with content, and as the settings say', async () => {
    await announce('document.published');
    await until(() => (to('client@demo.test', /document/).length ? true : undefined), 3000, 'the document mail');
    const first = to('client@demo.test', /document/)[0];
    expect(first.subject).toBe('Nieuw document in uw cliëntportaal');
    expect(first.text).toMatch(/^Beste Karen Test,/);
    expect(first.text).toContain('meldingsinstellingen');
    // Again within 15 minutes: no second mail.
    await announce('document.published');
    await settle();
    expect(to('client@demo.test', /document/)).toHaveLength(1);

    await announce('questionnaire.assigned');
    await until(() => (to('client@demo.test', /vragenlijst/).length ? true : undefined), 3000, 'the questionnaire mail');

    // Appointments off: nothing for that kind.
    const off = await t.gql('mutation { updateNotificationSettings(input: { newAppointment: false }) { newAppointment } }', {}, karenToken);
    expect(off.body.errors).toBeUndefined();
    await announce('appointment.upserted');
    await settle();
    expect(to('client@demo.test', /Afspraak/)).toHaveLength(0);
  });

  it('mails a network member only about what they may see: the agenda with AGENDA_VIEW, no documents without DOSSIER_VIEW', async () => {
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], false);
    await announce('appointment.upserted');
    await until(() => (to('relative@demo.test', /Afspraak/).length ? true : undefined), 3000, 'the appointment mail to the relative');
    await announce('document.published');
    await settle();
    expect(to('relative@demo.test', /document/)).toHaveLength(0);
  });
});
