import { parseSearchRequest } from '@medplum/core';
import type { Consent, DocumentReference, Provenance, Questionnaire, QuestionnaireResponse, Task } from '@medplum/fhirtypes';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { startFaultProxy, type FaultProxy } from './utils/fault-proxy';
import { EVA_BSN, INTAKE_QUESTIONNAIRE, seedGgzClient, type GgzSeed } from './utils/fhir-ggz-seed';
import { startFhirServer, type TestFhirServer } from './utils/fhir-server';
import { until } from './utils/live';

/**
 * The client's writes while the FHIR server cannot be reached (a proxy in front of it that drops
 * every connection): a questionnaire sent, an akkoord, a consent, the story shared. Each is
 * accepted (syncStatus PENDING), and once the server is back each is in it exactly once.
 */
describe('the EHR write outbox against a FHIR server that goes away and comes back', () => {
  let fhir: TestFhirServer;
  let seed: GgzSeed;
  let proxy: FaultProxy;
  let t: TestApp;
  let token: string;
  let clientId: string;
  let taskId: string;

  beforeAll(async () => {
    fhir = await startFhirServer();
    seed = await seedGgzClient(fhir.repo);
    const questionnaire = await fhir.repo.createResource<Questionnaire>({
      resourceType: 'Questionnaire',
      status: 'active',
      url: 'https://ggz-noord.test/fhir/Questionnaire/kort',
      title: 'Hoe gaat het?',
      item: [{ linkId: 'cijfer', type: 'integer', text: 'Welk cijfer geeft u uw week?', required: true }],
    });
    taskId = (
      await fhir.repo.createResource<Task>({
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        for: { reference: `Patient/${seed.eva.id}` },
        focus: { reference: `Questionnaire/${questionnaire.id}` },
      })
    ).id!;
    await fhir.repo.createResource<Consent>({
      resourceType: 'Consent',
      status: 'rejected',
      identifier: [{ system: 'urn:ggz-portal:consent', value: 'onderzoek' }],
      scope: { text: 'privacy' },
      category: [{ text: 'Benaderd worden voor onderzoek' }],
      patient: { reference: `Patient/${seed.eva.id}` },
      provision: { type: 'deny' },
    });
    proxy = await startFaultProxy(fhir.baseUrl);
    t = await startTestApp({
      env: {
        EHR_ADAPTERS: 'fhir',
        FHIR_BASE_URL: proxy.baseUrl,
        FHIR_INTAKE_QUESTIONNAIRE: INTAKE_QUESTIONNAIRE,
        ADAPTER_RETRIES: '0',
        ADAPTER_TIMEOUT_MS: '1000',
        ADAPTER_BREAKER_THRESHOLD: '1000',
        // The page the client has open: what it shows is read before the outage.
        CACHE_TTL_SECONDS: '300',
        OUTBOX_POLL_MS: '100',
        OUTBOX_RETRY_BASE_MS: '100',
        OUTBOX_RETRY_MAX_MS: '300',
        DEMO_SEED: '0',
        LOG_LEVEL: 'error',
      },
    });
    token = await t.login({ bsn: EVA_BSN });
    [clientId] = await portalIds(t, token);
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
    await fhir?.stop();
  });

  it('accepts four writes while the server is away and, once it is back, finds each in it exactly once', async () => {
    const screen = await t.gql(
      'query($c: ID!) { client(id: $c) { questionnaires { id status } consents { id granted } dossier { documents { id name needsApproval approvedAt } } } }',
      { c: clientId },
      token,
    );
    expect(screen.body.errors).toBeUndefined();
    const document = (screen.body.data.client.dossier.documents as { id: string; needsApproval: boolean; approvedAt: string | null }[]).find(
      (d) => d.needsApproval && !d.approvedAt,
    )!;
    const consentId = `ehr:${clientId}:fhir:onderzoek`;
    expect(screen.body.data.client.consents).toContainEqual({ id: consentId, granted: false });
    const provenances = async () =>
      (
        await fhir.repo.searchResources<Provenance>(parseSearchRequest<Provenance>(`Provenance?target=DocumentReference/${document.id.slice('fhir:'.length)}`))
      ).filter((p) => p.agent[0]?.who.reference === `Patient/${seed.eva.id}`).length;
    expect(await provenances()).toBe(0);

    proxy.mode = 'refuse';
    const sent = await t.gql(
      'mutation($a: ID!) { saveQuestionnaireAnswers(assignmentId: $a, answers: [{ questionId: "cijfer", value: "7" }], submit: true) { status syncStatus } }',
      { a: `fhir:${taskId}` },
      token,
    );
    expect(sent.body.data?.saveQuestionnaireAnswers).toEqual({ status: 'COMPLETED', syncStatus: 'PENDING' });
    const approved = await t.gql('mutation($d: ID!) { approveDocument(documentId: $d) { approvedAt syncStatus } }', { d: document.id }, token);
    expect(approved.body.data?.approveDocument).toMatchObject({ approvedAt: expect.any(String), syncStatus: 'PENDING' });
    const consented = await t.gql('mutation($id: ID!) { setConsent(consentId: $id, granted: true) { granted syncStatus } }', { id: consentId }, token);
    expect(consented.body.data?.setConsent).toEqual({ granted: true, syncStatus: 'PENDING' });
    const shared = await t.gql(
      'mutation($c: ID!) { saveClientStory(clientId: $c, text: "Wat mij helpt: structuur.", shareWithOrganisation: true) { sharedWithOrganisation syncStatus } }',
      { c: clientId },
      token,
    );
    expect(shared.body.data?.saveClientStory).toEqual({ sharedWithOrganisation: true, syncStatus: 'PENDING' });
    const waiting = async () => ((await (await fetch(`${t.base}/readyz`)).json()) as { outbox: { pending: number } }).outbox.pending;
    expect(await waiting()).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 400)); // retried meanwhile, in vain

    proxy.mode = 'pass';
    await until(async () => ((await waiting()) === 0 ? true : undefined), 15_000, 'every write delivered');
    const search = <T extends Consent | DocumentReference | QuestionnaireResponse>(query: string) => fhir.repo.searchResources<T>(parseSearchRequest<T>(query));
    expect(await search<QuestionnaireResponse>(`QuestionnaireResponse?identifier=urn:ggz-portal:questionnaire-assignment|${taskId}`)).toHaveLength(1);
    expect(await provenances()).toBe(1);
    const consents = await search<Consent>(`Consent?identifier=urn:ggz-portal:consent|onderzoek`);
    expect(consents.map((c) => c.status)).toEqual(['active']);
    expect(await search<DocumentReference>(`DocumentReference?identifier=urn:ggz-portal:client-story|${seed.eva.id}`)).toHaveLength(1);
    const rows: { status: string }[] = await t.app.db.query('SELECT status FROM ehr_writes');
    expect(rows.map((r) => r.status).sort()).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
  });
});
