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
      env: { EHR_ADAPTERS: 'fhir', FHIR_BASE_URL: 'http://127.0.0.1:9/fhir', FHIR_SUBSCRIPTION_SECRET: SECRET, CACHE_TTL_SECONDS: '60', DEMO_SEED: '0' },
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

  it('refuses a wrong secret (401), a body that is not a patient resource (400), and an unknown adapter (404)', async () => {
    expect((await notify({ resourceType: 'Patient', id: 'cl-karen' }, 'Bearer wrong-secret-xxxxxxxxxx')).status).toBe(401);
    const bad = await notify({ resourceType: 'Practitioner', id: 'p1' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/Patient/);
    expect((await fetch(`${t.base}/sync/fhir/epic`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` }, body: '{}' })).status).toBe(404);
  });
});
