import { Operator } from '@medplum/core';
import type { Communication } from '@medplum/fhirtypes';
import { PORTAL_MESSAGE_SYSTEM } from '../adapters/fhir/fhir.adapter';
import { startFaultProxy, type FaultProxy } from './utils/fault-proxy';
import { startFhirServer, type TestFhirServer } from './utils/fhir-server';
import { EVA_BSN, INTAKE_QUESTIONNAIRE, seedGgzClient, type GgzSeed } from './utils/fhir-ggz-seed';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { until } from './utils/live';

describe('messages to a FHIR EHR as Communication, through an outage', () => {
  let fhir: TestFhirServer;
  let seed: GgzSeed;
  let proxy: FaultProxy;
  let t: TestApp;

  beforeAll(async () => {
    fhir = await startFhirServer();
    seed = await seedGgzClient(fhir.repo);
    proxy = await startFaultProxy(fhir.baseUrl);
    t = await startTestApp({
      env: {
        EHR_ADAPTERS: 'fhir',
        FHIR_BASE_URL: proxy.baseUrl,
        FHIR_INTAKE_QUESTIONNAIRE: INTAKE_QUESTIONNAIRE,
        ADAPTER_RETRIES: '0',
        ADAPTER_TIMEOUT_MS: '2000',
        ADAPTER_BREAKER_THRESHOLD: '100',
        // The team read before the outage is what the recipient check uses during it.
        CACHE_TTL_SECONDS: '60',
        DEMO_SEED: '0',
        OUTBOX_POLL_MS: '100',
        OUTBOX_RETRY_BASE_MS: '100',
        OUTBOX_RETRY_MAX_MS: '300',
        LOG_LEVEL: 'error',
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
    await fhir?.stop();
  });

  it('keeps a message sent while the FHIR server is down in the conversation, and creates exactly one Communication once it is back', async () => {
    const token = await t.login({ bsn: EVA_BSN });
    const [clientId] = await portalIds(t, token);
    const team = await t.gql('query($id: ID!) { client(id: $id) { dossier { treatmentTeam { active practitioner { id } } } } }', { id: clientId }, token);
    expect(team.body.errors).toBeUndefined();
    const recipient = `fhir:${seed.practitioners.bakker.id}`;
    expect(team.body.data.client.dossier.treatmentTeam.map((m: { practitioner: { id: string } }) => m.practitioner.id)).toContain(recipient);

    proxy.mode = 'refuse';
    const started = await t.gql(
      'mutation($c: ID!, $r: [ID!]!) { startConversation(clientId: $c, subject: "Slaap", recipientIds: $r, body: "Ik slaap nog steeds slecht.") { id messages { id body } } }',
      { c: clientId, r: [recipient] },
      token,
    );
    expect(started.body.errors).toBeUndefined();
    const messageId = started.body.data.startConversation.messages[0].id as string;
    await until(
      async () => {
        const [row] = (await t.app.db.query("SELECT attempts FROM ehr_writes WHERE subject = ? AND method = 'sendMessage'", [messageId])) as {
          attempts: number;
        }[];
        return row && row.attempts >= 2 ? true : undefined;
      },
      5000,
      'failed attempts during the outage',
    );

    proxy.mode = 'pass';
    await until(
      async () => {
        const [row] = (await t.app.db.query("SELECT status FROM ehr_writes WHERE subject = ? AND method = 'sendMessage'", [messageId])) as { status: string }[];
        return row?.status === 'delivered' ? true : undefined;
      },
      5000,
      'delivery after the outage',
    );
    const found = await fhir.repo.searchResources<Communication>({
      resourceType: 'Communication',
      filters: [{ code: 'identifier', operator: Operator.EQUALS, value: `${PORTAL_MESSAGE_SYSTEM}|${messageId}` }],
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      subject: { reference: `Patient/${seed.eva.id}` },
      recipient: [{ reference: `Practitioner/${seed.practitioners.bakker.id}` }],
      payload: [{ contentString: 'Ik slaap nog steeds slecht.' }],
    });

    // A resend of the same message (the outbox after a lost acknowledgement) adds no second Communication.
    const adapter = t.app.services.registry.adapter('fhir')!;
    await adapter.sendMessage!(
      seed.eva.id,
      {
        messageId,
        conversationId: 'c',
        subject: 'Slaap',
        body: 'Ik slaap nog steeds slecht.',
        authorName: 'Eva',
        recipientPractitionerIds: [],
        sentAt: new Date().toISOString(),
      },
      { requestId: 'r' },
    );
    const again = await fhir.repo.searchResources<Communication>({
      resourceType: 'Communication',
      filters: [{ code: 'identifier', operator: Operator.EQUALS, value: `${PORTAL_MESSAGE_SYSTEM}|${messageId}` }],
    });
    expect(again).toHaveLength(1);
  });

  it('sends an attachment inside the Communication (base64 contentAttachment with its type, name and size)', async () => {
    const token = await t.login({ bsn: EVA_BSN });
    const [clientId] = await portalIds(t, token);
    const pdf = Buffer.from('%PDF-1.4\n% Slaapdagboek week 47\n%%EOF\n');
    const form = new FormData();
    form.append('file', new Blob([pdf]), 'slaapdagboek.pdf');
    const up = (await (await fetch(`${t.base}/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } })).json()) as {
      id: string;
      mediaType: string;
    };
    expect(up.mediaType).toBe('application/pdf');
    const started = await t.gql(
      'mutation($c: ID!, $r: [ID!]!, $a: [ID!]) { startConversation(clientId: $c, subject: "Dagboek", recipientIds: $r, body: "Zie bijlage.", attachmentIds: $a) { messages { id } } }',
      { c: clientId, r: [`fhir:${seed.practitioners.bakker.id}`], a: [up.id] },
      token,
    );
    expect(started.body.errors).toBeUndefined();
    const messageId = started.body.data.startConversation.messages[0].id as string;
    const [communication] = await until(
      async () => {
        const found = await fhir.repo.searchResources<Communication>({
          resourceType: 'Communication',
          filters: [{ code: 'identifier', operator: Operator.EQUALS, value: `${PORTAL_MESSAGE_SYSTEM}|${messageId}` }],
        });
        return found.length ? found : undefined;
      },
      5000,
      'the Communication',
    );
    expect(communication.payload).toEqual([
      { contentString: 'Zie bijlage.' },
      { contentAttachment: { contentType: 'application/pdf', title: 'slaapdagboek.pdf', size: pdf.length, data: pdf.toString('base64') } },
    ]);
  });

  it('withdraws the Communication when the author deletes a delivered message: entered-in-error, its text gone', async () => {
    const token = await t.login({ bsn: EVA_BSN });
    const [clientId] = await portalIds(t, token);
    const started = await t.gql(
      'mutation($c: ID!, $r: [ID!]!) { startConversation(clientId: $c, subject: "Afspraak", recipientIds: $r, body: "Ik kan donderdag niet.") { messages { id } } }',
      { c: clientId, r: [`fhir:${seed.practitioners.bakker.id}`] },
      token,
    );
    const messageId = started.body.data.startConversation.messages[0].id as string;
    const byIdentifier = () =>
      fhir.repo.searchResources<Communication>({
        resourceType: 'Communication',
        filters: [{ code: 'identifier', operator: Operator.EQUALS, value: `${PORTAL_MESSAGE_SYSTEM}|${messageId}` }],
      });
    await until(async () => ((await byIdentifier()).length ? true : undefined), 15000, 'the Communication');

    expect((await t.gql('mutation($id: ID!) { deleteMessage(messageId: $id) { deletedAt } }', { id: messageId }, token)).body.errors).toBeUndefined();
    const withdrawn = await until(
      async () => {
        const [c] = await byIdentifier();
        return c?.status === 'entered-in-error' ? c : undefined;
      },
      15000,
      'the withdrawal',
    );
    expect(withdrawn.payload).toBeUndefined();
    expect(withdrawn.subject).toEqual({ reference: `Patient/${seed.eva.id}` });
    // The FHIR server has stored the withdrawal before its answer reaches the outbox, which then marks it delivered.
    const withdrawal = () =>
      t.app.db.query("SELECT status FROM ehr_writes WHERE subject = ? AND method = 'withdrawMessage'", [messageId]) as Promise<{ status: string }[]>;
    await until(async () => ((await withdrawal())[0]?.status === 'delivered' ? true : undefined), 5000, 'the withdrawal marked delivered');
    expect(await withdrawal()).toEqual([{ status: 'delivered' }]);
  });
});
