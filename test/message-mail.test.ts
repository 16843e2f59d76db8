import { randomUUID } from 'node:crypto';
import { socketClient } from './utils/live';
import { MemoryMailer } from '../adapters/mail/mail';
import { portalIds, startTestApp, type TestApp } from './utils/app';

async function settle(ms = 150): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** A practitioner's message to the client, as a sync event hands it to the messages module. */
function practitionerMessage(t: TestApp, clientId: string, body: string, conversationId?: string) {
  return t.app.services.messages.receiveFromPractitioner({
    clientId,
    eventId: randomUUID(),
    conversationId,
    subject: 'Uw behandeling',
    practitionerId: 'demo:pr-bakker',
    body,
    at: new Date(),
  });
}

describe('new-message e-mail', () => {
  let t: TestApp;
  const mail = new MemoryMailer();
  let karenToken: string;
  let karenId: string;
  const toKaren = () => mail.sent.filter((m) => m.to === 'client@demo.test');
  const fromPractitioner = (body: string, conversationId?: string) => practitionerMessage(t, karenId, body, conversationId);

  beforeAll(async () => {
    t = await startTestApp({ mail, env: { LOG_LEVEL: 'warn' } });
    karenToken = await t.login('client@demo.test');
    [karenId] = await portalIds(t, karenToken);
  });
  afterAll(async () => t.stop());

  it('mails the client once per conversation per 15 minutes, without the message or its subject', async () => {
    const first = await fromPractitioner('Geheime inhoud');
    await fromPractitioner('Nog een bericht', first.conversationId);
    await settle();
    expect(toKaren()).toHaveLength(1);
    expect(toKaren()[0].subject).toBe('Nieuw bericht in uw cliëntportaal');
    expect(toKaren()[0].text).not.toMatch(/Geheime inhoud|Uw behandeling/);
    expect(toKaren()[0].text).toMatch(/niet bedoeld voor crisissituaties/);

    await fromPractitioner('Ander gesprek');
    await settle();
    expect(toKaren()).toHaveLength(2);
    // Nobody without the right to read it (the relative has only AGENDA_VIEW) is told.
    expect(mail.sent.filter((m) => m.to === 'relative@demo.test')).toEqual([]);
  });

  it('sends nothing to the author of a message, nor while the reader has a live subscription open', async () => {
    mail.sent.length = 0;
    const mine = await t.gql(
      'mutation($c: ID!) { startConversation(clientId: $c, subject: "Zelf", recipientIds: ["demo:pr-bakker"], body: "Van mij") { id } }',
      { c: karenId },
      karenToken,
    );
    expect(mine.body.errors).toBeUndefined();
    await settle();
    expect(toKaren()).toEqual([]);

    const ws = socketClient(t.base, karenToken);
    const got: unknown[] = [];
    const stop = ws.subscribe(
      { query: 'subscription($id: ID!) { messageAdded(clientId: $id) { message { id } } }', variables: { id: karenId } },
      { next: (m) => void got.push(m), error: () => undefined, complete: () => undefined },
    );
    try {
      await settle(200);
      await fromPractitioner('Live gezien');
      await settle();
      expect(got).toHaveLength(1);
      expect(toKaren()).toEqual([]);
    } finally {
      stop();
      await ws.dispose();
    }
  });

  it("counts every device: one closing its subscription does not end the other's, and mail resumes when both are gone", async () => {
    mail.sent.length = 0;
    const query = 'subscription($id: ID!) { messageAdded(clientId: $id) { message { id } } }';
    const device = () => socketClient(t.base, karenToken);
    const [phone, laptop] = [device(), device()];
    const gotOnLaptop: unknown[] = [];
    const stopPhone = phone.subscribe({ query, variables: { id: karenId } }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    const stopLaptop = laptop.subscribe(
      { query, variables: { id: karenId } },
      { next: (m) => void gotOnLaptop.push(m), error: () => undefined, complete: () => undefined },
    );
    try {
      await settle(200);
      stopPhone();
      await phone.dispose();
      await settle(200);
      await fromPractitioner('Op de laptop gezien');
      await settle();
      expect(gotOnLaptop).toHaveLength(1);
      expect(toKaren()).toEqual([]);
    } finally {
      stopLaptop();
      await laptop.dispose();
    }
    await settle(200);
    await fromPractitioner('Niemand kijkt');
    await settle();
    expect(toKaren()).toHaveLength(1);
  });

  it('sends nothing when the reader turned new-message notifications off', async () => {
    mail.sent.length = 0;
    const off = await t.gql('mutation { updateNotificationSettings(input: { newMessage: false }) { newMessage } }', undefined, karenToken);
    expect(off.body.errors).toBeUndefined();
    try {
      await fromPractitioner('Stil bericht');
      await settle();
      expect(toKaren()).toEqual([]);
    } finally {
      await t.gql('mutation { updateNotificationSettings(input: { newMessage: true }) { newMessage } }', undefined, karenToken);
    }
  });
});

describe('new-message e-mail when the mail server fails once', () => {
  /** Refuses its first mail, as a mail server that is briefly away would. */
  class FlakyMailer extends MemoryMailer {
    refused = 0;
    override async send(message: Parameters<MemoryMailer['send']>[0]): Promise<void> {
      if (this.refused++ === 0) throw new Error('421 service not available (simulated)');
      await super.send(message);
    }
  }

  it('mails about the next message in the conversation instead of none for 15 minutes', async () => {
    const mail = new FlakyMailer();
    const t = await startTestApp({ mail, env: { LOG_LEVEL: 'error' } });
    try {
      const [karenId] = await portalIds(t, await t.login('client@demo.test'));
      const fromPractitioner = (conversationId?: string) => practitionerMessage(t, karenId, 'Een bericht', conversationId);
      const first = await fromPractitioner();
      await settle();
      expect(mail.refused).toBe(1);
      await fromPractitioner(first.conversationId);
      await settle();
      expect(mail.sent.filter((m) => m.to === 'client@demo.test')).toHaveLength(1);
    } finally {
      await t.stop();
    }
  });
});
