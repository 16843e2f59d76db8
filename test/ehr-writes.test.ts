import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSearchRequest } from '@medplum/core';
import type {
  CarePlan,
  Communication,
  Consent,
  DocumentReference,
  Goal,
  Provenance,
  Questionnaire,
  QuestionnaireResponse,
  Resource,
  ResourceType,
  Task,
} from '@medplum/fhirtypes';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { startFaultProxy, type FaultProxy } from './utils/fault-proxy';
import { EVA_BSN, INTAKE_QUESTIONNAIRE, seedGgzClient, type GgzSeed } from './utils/fhir-ggz-seed';
import { startFhirServer, type TestFhirServer } from './utils/fhir-server';
import { until } from './utils/live';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
const GOAL = 'Elke dag een half uur wandelen';

/** A FHIR server with Eva's record, what she is asked to do (a questionnaire, a report to agree to, a plan still open), and a proxy in front that can drop every connection. */
async function fhirBehindProxy(): Promise<{ fhir: TestFhirServer; seed: GgzSeed; proxy: FaultProxy; taskId: string; reportId: string; planId: string }> {
  const fhir = await startFhirServer();
  const seed = await seedGgzClient(fhir.repo);
  const search = <T extends Resource>(query: string) => fhir.repo.searchResources<T>(parseSearchRequest<T>(query));
  const questionnaire = await fhir.repo.createResource<Questionnaire>({
    resourceType: 'Questionnaire',
    status: 'active',
    url: 'https://ggz-noord.test/fhir/Questionnaire/kort',
    title: 'Hoe gaat het?',
    item: [{ linkId: 'cijfer', type: 'integer', text: 'Welk cijfer geeft u uw week?', required: true }],
  });
  const task = await fhir.repo.createResource<Task>({
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    for: { reference: `Patient/${seed.eva.id}` },
    focus: { reference: `Questionnaire/${questionnaire.id}` },
  });
  await fhir.repo.createResource<Consent>({
    resourceType: 'Consent',
    status: 'rejected',
    identifier: [{ system: 'urn:ggz-portal:consent', value: 'onderzoek' }],
    scope: { text: 'privacy' },
    category: [{ text: 'Benaderd worden voor onderzoek' }],
    patient: { reference: `Patient/${seed.eva.id}` },
    provision: { type: 'deny' },
  });
  // A session report the client is asked to agree to (akkoord) and did not yet.
  const report = await fhir.repo.createResource<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'preliminary',
    category: [{ text: 'verslag' }],
    subject: { reference: `Patient/${seed.eva.id}` },
    date: '2026-11-20T10:00:00+01:00',
    description: 'Verslag evaluatiegesprek',
    author: [{ reference: `Practitioner/${seed.practitioners.bakker.id}` }],
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from('Evaluatie: het gaat beter.').toString('base64') } }],
  });
  // The plan is open again, waiting for the client's akkoord: goals may be added.
  const [active] = await search<CarePlan>(`CarePlan?subject=Patient/${seed.eva.id}`);
  const plan = await fhir.repo.updateResource<CarePlan>({ ...active, status: 'on-hold' });
  const proxy = await startFaultProxy(fhir.baseUrl);
  return { fhir, seed, proxy, taskId: task.id!, reportId: report.id!, planId: plan.id! };
}

const gatewayEnv = (fhirUrl: string, files: string) => ({
  EHR_ADAPTERS: 'fhir',
  FHIR_BASE_URL: fhirUrl,
  FHIR_INTAKE_QUESTIONNAIRE: INTAKE_QUESTIONNAIRE,
  ADAPTER_RETRIES: '0',
  ADAPTER_TIMEOUT_MS: '1000',
  ADAPTER_BREAKER_THRESHOLD: '1000',
  // The page the client has open: what it shows is read before the outage.
  CACHE_TTL_SECONDS: '300',
  OUTBOX_POLL_MS: '100',
  OUTBOX_RETRY_BASE_MS: '100',
  OUTBOX_RETRY_MAX_MS: '300',
  FILE_STORAGE_URL: `file:${files}`,
  DEMO_SEED: '0',
  LOG_LEVEL: 'error',
});

/** Every write a client makes, made while the FHIR server cannot be reached: each answered as accepted (PENDING where the client sees it). */
async function writeDuringOutage(t: TestApp, setup: Awaited<ReturnType<typeof fhirBehindProxy>>): Promise<{ messageId: string; documentId: string }> {
  const token = await t.login({ bsn: EVA_BSN });
  const [clientId] = await portalIds(t, token);
  const screen = await t.gql(
    'query($c: ID!) { client(id: $c) { questionnaires { id } consents { id granted } dossier { treatmentPlan { id goals { id } } reports { id needsApproval approvedAt } documents { id } treatmentTeam { practitioner { id name } } } } }',
    { c: clientId },
    token,
  );
  expect(screen.body.errors).toBeUndefined();
  const consentId = `ehr:${clientId}:fhir:onderzoek`;
  expect(screen.body.data.client.consents).toContainEqual({ id: consentId, granted: false });
  expect(screen.body.data.client.dossier.reports).toContainEqual({ id: `fhir:${setup.reportId}`, needsApproval: true, approvedAt: null });
  const form = new FormData();
  form.append('file', new Blob([PDF]), 'verwijsbrief.pdf');
  const upload = (await (await fetch(`${t.base}/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })).json()) as {
    id: string;
  };

  setup.proxy.mode = 'refuse';
  const ok = <T>(res: { body: { errors?: unknown; data?: Record<string, T> } }, field: string): T => {
    expect(res.body.errors).toBeUndefined();
    return res.body.data![field];
  };
  const sent = await t.gql(
    'mutation($a: ID!) { saveQuestionnaireAnswers(assignmentId: $a, answers: [{ questionId: "cijfer", value: "7" }], submit: true) { status syncStatus } }',
    { a: `fhir:${setup.taskId}` },
    token,
  );
  expect(ok(sent, 'saveQuestionnaireAnswers')).toEqual({ status: 'COMPLETED', syncStatus: 'PENDING' });
  const goal = await t.gql(
    'mutation($c: ID!, $d: String!) { addTreatmentGoal(clientId: $c, description: $d) { goals { description syncStatus } } }',
    { c: clientId, d: GOAL },
    token,
  );
  expect(ok<{ goals: unknown[] }>(goal, 'addTreatmentGoal').goals).toContainEqual({ description: GOAL, syncStatus: 'PENDING' });
  const approved = await t.gql('mutation($r: ID!) { approveReport(reportId: $r) { approvedAt syncStatus } }', { r: `fhir:${setup.reportId}` }, token);
  expect(ok(approved, 'approveReport')).toMatchObject({ approvedAt: expect.any(String), syncStatus: 'PENDING' });
  const filed = await t.gql(
    'mutation($c: ID!, $u: ID!) { addDocument(clientId: $c, uploadId: $u, title: "Verwijsbrief huisarts") { id syncStatus } }',
    { c: clientId, u: upload.id },
    token,
  );
  const document = ok<{ id: string; syncStatus: string }>(filed, 'addDocument');
  expect(document.syncStatus).toBe('PENDING');
  const consented = await t.gql('mutation($id: ID!) { setConsent(consentId: $id, granted: true) { granted syncStatus } }', { id: consentId }, token);
  expect(ok(consented, 'setConsent')).toEqual({ granted: true, syncStatus: 'PENDING' });
  const shared = await t.gql(
    'mutation($c: ID!) { saveClientStory(clientId: $c, text: "Wat mij helpt: structuur.", shareWithOrganisation: true) { sharedWithOrganisation syncStatus } }',
    { c: clientId },
    token,
  );
  expect(ok(shared, 'saveClientStory')).toEqual({ sharedWithOrganisation: true, syncStatus: 'PENDING' });
  const started = await t.gql(
    'mutation($c: ID!, $r: [ID!]!) { startConversation(clientId: $c, subject: "Slaap", recipientIds: $r, body: "Ik slaap nog steeds slecht.") { messages { id syncStatus } } }',
    { c: clientId, r: [`fhir:${setup.seed.practitioners.bakker.id}`] },
    token,
  );
  const [message] = ok<{ messages: { id: string; syncStatus: string }[] }>(started, 'startConversation').messages;
  expect(message.syncStatus).toBe('PENDING');

  // What the client sees meanwhile: each write as made.
  const later = await t.gql(
    'query($c: ID!) { client(id: $c) { consents { id granted syncStatus } dossier { treatmentPlan { goals { description syncStatus } } documents { id syncStatus } reports { id approvedAt syncStatus } } } }',
    { c: clientId },
    token,
  );
  expect(later.body.data.client.consents).toContainEqual({ id: consentId, granted: true, syncStatus: 'PENDING' });
  expect(later.body.data.client.dossier.treatmentPlan.goals).toContainEqual({ description: GOAL, syncStatus: 'PENDING' });
  expect(later.body.data.client.dossier.documents).toContainEqual({ id: document.id, syncStatus: 'PENDING' });
  expect(later.body.data.client.dossier.reports).toContainEqual({ id: `fhir:${setup.reportId}`, approvedAt: expect.any(String), syncStatus: 'PENDING' });
  return { messageId: message.id, documentId: document.id };
}

const waiting = async (t: TestApp) => ((await (await fetch(`${t.base}/readyz`)).json()) as { outbox: { pending: number; failed: number } }).outbox;

/** Each write is in the FHIR server exactly once. */
async function foundOnce(setup: Awaited<ReturnType<typeof fhirBehindProxy>>, written: { messageId: string; documentId: string }): Promise<void> {
  const search = <T extends Resource>(type: ResourceType, query: string) => setup.fhir.repo.searchResources<T>(parseSearchRequest<T>(`${type}?${query}`));
  const eva = `Patient/${setup.seed.eva.id}`;
  expect(await search<QuestionnaireResponse>('QuestionnaireResponse', `identifier=urn:ggz-portal:questionnaire-assignment|${setup.taskId}`)).toHaveLength(1);
  const goals = (await search<Goal>('Goal', `subject=${eva}`)).filter((g) => g.description.text === GOAL);
  expect(goals).toHaveLength(1);
  const plan = await setup.fhir.repo.readResource<CarePlan>('CarePlan', setup.planId);
  expect((plan.goal ?? []).filter((r) => r.reference === `Goal/${goals[0].id}`)).toHaveLength(1);
  const akkoorden = (await search<Provenance>('Provenance', `target=DocumentReference/${setup.reportId}`)).filter((p) => p.agent[0]?.who.reference === eva);
  expect(akkoorden).toHaveLength(1);
  expect(await search<DocumentReference>('DocumentReference', `identifier=urn:ggz-portal:document|${written.documentId.slice('fhir:'.length)}`)).toHaveLength(
    1,
  );
  expect((await search<Consent>('Consent', 'identifier=urn:ggz-portal:consent|onderzoek')).map((c) => c.status)).toEqual(['active']);
  expect(await search<DocumentReference>('DocumentReference', `identifier=urn:ggz-portal:client-story|${setup.seed.eva.id}`)).toHaveLength(1);
  expect(await search<Communication>('Communication', `identifier=urn:ggz-portal:message|${written.messageId}`)).toHaveLength(1);
}

/**
 * Every write a client makes while the FHIR server cannot be reached (a proxy in front of it that
 * drops every connection): a questionnaire sent, a goal added, a report approved, a document
 * uploaded, a consent changed, the story shared, a message posted. Each is accepted and shown as
 * made (syncStatus PENDING), and once the server is back each is in it exactly once: with the
 * gateway running throughout, and with the gateway stopped while the EHR was away and a new one
 * started on the same database (nothing held in memory survives).
 */
describe('the EHR write outbox against a FHIR server that goes away and comes back', () => {
  it('accepts every kind of write while the server is away and, once it is back, finds each in it exactly once', async () => {
    const setup = await fhirBehindProxy();
    const t = await startTestApp({ env: gatewayEnv(setup.proxy.baseUrl, mkdtempSync(join(tmpdir(), 'ggz-files-'))) });
    try {
      const written = await writeDuringOutage(t, setup);
      expect(await waiting(t)).toEqual({ pending: 7, failed: 0 });
      await new Promise((resolve) => setTimeout(resolve, 400)); // retried meanwhile, in vain

      setup.proxy.mode = 'pass';
      await until(async () => ((await waiting(t)).pending === 0 ? true : undefined), 20_000, 'every write delivered');
      await foundOnce(setup, written);
      const rows: { status: string }[] = await t.app.db.query('SELECT status FROM ehr_writes');
      expect(rows.map((r) => r.status)).toEqual(Array(7).fill('delivered'));
    } finally {
      await t.stop();
      await setup.proxy.close();
      await setup.fhir.stop();
    }
  });

  it('delivers each exactly once from a gateway started after the one that accepted them stopped', async () => {
    const setup = await fhirBehindProxy();
    const databaseUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'ggz-restart-')), 'portal.sqlite')}`;
    const files = mkdtempSync(join(tmpdir(), 'ggz-files-'));
    const first = await startTestApp({ databaseUrl, env: gatewayEnv(setup.proxy.baseUrl, files) });
    let written: { messageId: string; documentId: string };
    try {
      written = await writeDuringOutage(first, setup);
      expect(await waiting(first)).toEqual({ pending: 7, failed: 0 });
    } finally {
      await first.stop();
    }
    setup.proxy.mode = 'pass';
    const second = await startTestApp({ databaseUrl, env: gatewayEnv(setup.proxy.baseUrl, files) });
    try {
      await until(async () => ((await waiting(second)).pending === 0 ? true : undefined), 20_000, 'every write delivered after the restart');
      await foundOnce(setup, written!);
      const rows: { status: string }[] = await second.app.db.query('SELECT status FROM ehr_writes');
      expect(rows.map((r) => r.status)).toEqual(Array(7).fill('delivered'));
    } finally {
      await second.stop();
      await setup.proxy.close();
      await setup.fhir.stop();
    }
  });
});
