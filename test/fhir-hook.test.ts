import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { fhirNotificationToEvent } from '../adapters/fhir/fhir-notification';
import { MemoryMailer } from '../adapters/mail/mail';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { until } from './utils/live';

const SECRET = 'fhir-subscription-secret-123';
const MEDS = 'query($id: ID!) { client(id: $id) { dossier { medications { name } } } }';

describe('FHIR Subscription rest-hook → sync events', () => {
  let t: TestApp;
  const mail = new MemoryMailer();
  // A FHIR-speaking organisation stands in as the demo adapter registered under the name 'fhir',
  // reading its rest-hooks as the FHIR adapter does.
  const fhir = Object.assign(new DemoEhrAdapter({}, 'fhir'), { notificationToEvent: (n: unknown) => fhirNotificationToEvent('fhir', n) });
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        EHR_ADAPTERS: 'fhir',
        FHIR_BASE_URL: 'http://127.0.0.1:9/fhir',
        FHIR_SUBSCRIPTION_SECRET: SECRET,
        CACHE_TTL_SECONDS: '60',
        DEMO_SEED: '0',
        // A notification that cannot be processed yet is tried again quickly here (production: seconds to an hour).
        SYNC_RETRY_BASE_MS: '100',
        SYNC_RETRY_MAX_MS: '300',
      },
      adapters: { fhir },
      mail,
    });
  });
  afterAll(async () => t.stop());

  const notify = (body: unknown, auth = `Bearer ${SECRET}`) =>
    fetch(`${t.base}/sync/fhir/fhir`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: auth },
      body: JSON.stringify(body),
    });

  it('publishes no launch key and takes no Koppeltaal notification on a gateway without a Koppeltaal domain (this one: a FHIR EHR only)', async () => {
    expect((await fetch(`${t.base}/.well-known/jwks.json`)).status).toBe(404);
    expect((await fetch(`${t.base}/koppeltaal/notify`, { method: 'POST', body: '' })).status).toBe(404);
  });

  it('drops the cached dossier when the FHIR server reports a change about the patient, once per version', async () => {
    const token = await t.login({ bsn: '999990019' });
    const [id] = await portalIds(t, token);
    await t.gql(MEDS, { id }, token);
    fhir.data.clients[0].medications.push({
      externalId: 'md-x',
      name: 'Quetiapine 25 mg tablet',
      dosage: '1 tablet voor de nacht',
      prescriberId: 'pr-degroot',
    });
    const change = { resourceType: 'MedicationStatement', id: 'md-x', meta: { versionId: '1' }, subject: { reference: 'Patient/cl-karen' } };
    const first = await notify(change);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ status: 'accepted' });
    expect(await (await notify(change)).json()).toMatchObject({ status: 'duplicate' });
    let names: string[] = [];
    for (let i = 0; i < 20 && !names.includes('Quetiapine 25 mg tablet'); i++) {
      names = (await t.gql(MEDS, { id }, token)).body.data.client.dossier.medications.map((m: { name: string }) => m.name);
      if (!names.includes('Quetiapine 25 mg tablet')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(names).toContain('Quetiapine 25 mg tablet');
  });

  it('mails the client (no content) when the FHIR server reports a questionnaire assigned to them as a Task, once per version', async () => {
    const token = await t.login({ bsn: '999990019' });
    await portalIds(t, token);
    // A DigiD login has no address of its own: the client gave one for notifications.
    const { id } = (await t.gql('query { me { id } }', {}, token)).body.data.me as { id: string };
    await t.app.db.query("UPDATE accounts SET email = 'karen@example.test' WHERE id = ?", [id]);
    const task = {
      resourceType: 'Task',
      id: 'task-phq',
      meta: { versionId: '1' },
      status: 'requested',
      intent: 'order',
      for: { reference: 'Patient/cl-karen' },
      focus: { reference: 'Questionnaire/phq-9' },
    };
    expect((await notify(task)).status).toBe(202);
    expect((await notify(task)).status).toBe(202);
    const rows = (await t.app.db.query("SELECT type FROM sync_events WHERE event_id = 'fhir:Task/task-phq/_history/1'")) as { type: string }[];
    expect(rows.map((r) => r.type)).toEqual(['questionnaire.assigned']);
    const mails = await until(
      () => {
        const sent = mail.sent.filter((m) => m.to === 'karen@example.test' && /vragenlijst/i.test(m.subject));
        return sent.length ? sent : undefined;
      },
      3000,
      'the questionnaire mail',
    );
    expect(mails).toHaveLength(1);
    expect(mails[0].text).not.toContain('phq');
  });

  it('stores a practitioner’s Communication as message.created', async () => {
    const res = await notify({
      resourceType: 'Communication',
      id: 'com-1',
      meta: { versionId: '1' },
      subject: { reference: 'Patient/cl-karen' },
      sender: { reference: 'Practitioner/pr-bakker' },
      payload: [{ contentString: 'Goedemorgen Karen, hoe gaat het met de oefeningen?' }],
    });
    expect(res.status).toBe(202);
    const rows = (await t.app.db.query("SELECT type FROM sync_events WHERE event_id = 'fhir:Communication/com-1/_history/1'")) as { type: string }[];
    expect(rows.map((r) => r.type)).toEqual(['message.created']);
  });

  it("puts a practitioner's reply in the portal conversation it answers (the conversation named in its topic, as the portal's own Communication carries it)", async () => {
    const token = await t.login({ bsn: '999990019' });
    const [id] = await portalIds(t, token);
    const started = await t.gql(
      'mutation($c: ID!) { startConversation(clientId: $c, subject: "Slaapproblemen", recipientIds: ["fhir:pr-bakker"], body: "Ik slaap slecht sinds de nieuwe medicatie.") { id } }',
      { c: id },
      token,
    );
    expect(started.body.errors).toBeUndefined();
    const conversationId = started.body.data.startConversation.id as string;
    const reply = await notify({
      resourceType: 'Communication',
      id: 'com-reply-1',
      meta: { versionId: '1' },
      subject: { reference: 'Patient/cl-karen' },
      sender: { reference: 'Practitioner/pr-bakker' },
      inResponseTo: [{ reference: 'Communication/com-from-portal-1' }],
      topic: { coding: [{ system: 'urn:ggz-portal:conversation', code: conversationId }], text: 'Slaapproblemen' },
      payload: [{ contentString: 'Dank voor uw bericht; we bespreken het donderdag.' }],
    });
    expect(reply.status).toBe(202);
    const bodies = async () =>
      (
        (await t.gql('query($id: ID!) { client(id: $id) { conversations(folder: ALL) { id messages { body } } } }', { id }, token)).body.data.client
          .conversations as { id: string; messages: { body: string }[] }[]
      )
        .find((c) => c.id === conversationId)
        ?.messages.map((m) => m.body);
    expect(await until(async () => ((await bodies())?.length === 2 ? await bodies() : undefined), 5000, 'the reply in the conversation')).toEqual([
      'Ik slaap slecht sinds de nieuwe medicatie.',
      'Dank voor uw bericht; we bespreken het donderdag.',
    ]);
  });

  it('processes a notification that failed at first once it can be, from what was stored (a practitioner the EHR did not list yet)', async () => {
    const res = await notify({
      resourceType: 'Communication',
      id: 'com-later-1',
      meta: { versionId: '1' },
      subject: { reference: 'Patient/cl-karen' },
      sender: { reference: 'Practitioner/pr-nieuw' },
      payload: [{ contentString: 'Welkom, ik ben uw nieuwe behandelaar.' }],
    });
    expect(res.status).toBe(202);
    const stored = async () =>
      (
        (await t.app.db.query("SELECT attempts, error, processed_at FROM sync_events WHERE event_id = 'fhir:Communication/com-later-1/_history/1'")) as {
          attempts: number;
          error: string | null;
          processed_at: unknown;
        }[]
      )[0];
    await until(async () => ((await stored()).attempts >= 1 ? true : undefined), 5000, 'the first attempt');
    fhir.data.practitioners.push({ externalId: 'pr-nieuw', name: 'Noor Nieuw', profession: 'GZ-psycholoog', phone: null, email: null });
    await until(async () => ((await stored()).processed_at ? true : undefined), 5000, 'the retried attempt');
    const rows = (await t.app.db.query("SELECT body FROM messages WHERE source_event_id = 'fhir:Communication/com-later-1/_history/1'")) as { body: string }[];
    expect(rows.map((r) => r.body)).toEqual(['Welkom, ik ben uw nieuwe behandelaar.']);
  });

  it('refuses a wrong secret (401), a body that is not a patient resource (400), and an unknown adapter (404)', async () => {
    expect((await notify({ resourceType: 'Patient', id: 'cl-karen' }, 'Bearer wrong-secret-xxxxxxxxxx')).status).toBe(401);
    const bad = await notify({ resourceType: 'Practitioner', id: 'p1' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/Patient/);
    expect((await fetch(`${t.base}/sync/fhir/epic`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` }, body: '{}' })).status).toBe(404);
  });
});
