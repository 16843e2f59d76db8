import { startFhirServer, type TestFhirServer } from './utils/fhir-server';
import { parseSearchRequest } from '@medplum/core';
import type { Appointment, Binary, Coverage, DocumentReference, Provenance, Questionnaire, QuestionnaireResponse, Task } from '@medplum/fhirtypes';
import { FhirEhrAdapter } from '../adapters/fhir/fhir.adapter';
import { APPOINTMENT_COUNT, EVA_BSN, INTAKE_QUESTIONNAIRE, KAREN_BSN, MDO_TYPE, PARENT_BSN, seedGgzClient, type GgzSeed } from './utils/fhir-ggz-seed';
import { portalIds, startTestApp, type TestApp } from './utils/app';

/**
 * The FHIR adapter end to end: the gateway reads a FHIR R4 server (Medplum's router over
 * node:http) only over HTTP, exactly as a production server.
 */
let fhir: TestFhirServer;
let seed: GgzSeed;
let t: TestApp;
let token: string;
let clientId: string;

beforeAll(async () => {
  fhir = await startFhirServer();
  seed = await seedGgzClient(fhir.repo);
  t = await startTestApp({
    env: {
      EHR_ADAPTERS: 'fhir,demo',
      FHIR_BASE_URL: fhir.baseUrl,
      FHIR_INTAKE_QUESTIONNAIRE: INTAKE_QUESTIONNAIRE,
      // Fail fast once the server is stopped; the policies themselves are tested elsewhere.
      ADAPTER_RETRIES: '1',
      ADAPTER_TIMEOUT_MS: '3000',
      // Every query here must reach the FHIR server: request counts and the outage are about the
      // adapter, not the read-through cache (tested on its own).
      CACHE_TTL_SECONDS: '0',
      // Without the demo seed, Karen's first login links her demo and FHIR records into one client.
      DEMO_SEED: '0',
    },
  });
  token = await t.login({ bsn: EVA_BSN });
  [clientId] = (await portalIds(t, token)) as [string];
});

afterAll(async () => {
  await t?.stop();
  await fhir?.stop();
});

const fhirId = (id: string) => `fhir:${id}`;

test('a dev login by BSN links the FHIR Patient found by the bsn identifier; name and birth date come from it', async () => {
  expect(clientId).toBeDefined();
  const { body } = await t.gql('query($id: ID!) { client(id: $id) { name birthDate } }', { id: clientId }, token);
  expect(body.errors).toBeUndefined();
  expect(body.data.client).toEqual({ name: 'Eva Maria Jansen', birthDate: '1991-04-17' });
  // The BSN went in a POST body (Patient/_search), never in a URL.
  expect(fhir.requests.some((r) => r.method === 'POST' && r.path === 'Patient/_search' && r.body?.includes(EVA_BSN))).toBe(true);
  expect(fhir.requests.some((r) => r.query.toString().includes(EVA_BSN))).toBe(false);
});

test('the dossier overview, intake, medications, allergies and contra-indications answer the mapped FHIR values', async () => {
  const { body } = await t.gql(
    `query($id: ID!) { client(id: $id) { dossier {
      overview { dossierNumber registrationDate registrationReason diagnosis careDemandType name birthDate gender }
      intakeReport { sections { title items { question answer } } }
      medications { id name dosage since until prescriber { name profession } }
      allergies { id substance reaction recordedAt }
      contraIndications { id description recordedAt }
    } } }`,
    { id: clientId },
    token,
  );
  expect(body.errors).toBeUndefined();
  const d = body.data.client.dossier;
  expect(d.overview).toEqual({
    dossierNumber: 'DOS-2026-0412',
    registrationDate: '2026-03-10',
    registrationReason: 'Somberheid en slaapproblemen sinds een half jaar, uitval op werk',
    diagnosis: 'Depressieve stoornis, eenmalige episode, matig',
    careDemandType: 'Specialistische GGZ',
    // The personal data, read-only, from the Patient.
    name: expect.stringMatching(/Eva.*Jansen/),
    birthDate: '1991-04-17',
    gender: 'female',
  });
  expect(d.intakeReport.sections).toEqual([
    {
      title: 'Hulpvraag',
      items: [
        { question: 'Waarvoor zoekt u hulp?', answer: 'Ik ben al maanden somber en slaap slecht.' },
        { question: 'Eerder in behandeling geweest?', answer: 'Nee' },
      ],
    },
    { title: 'Leefstijl', items: [{ question: 'Glazen alcohol per week', answer: '4' }] },
  ]);
  expect(d.medications).toHaveLength(2);
  expect(d.medications).toEqual(
    expect.arrayContaining([
      {
        id: expect.stringMatching(/^fhir:/),
        name: 'Sertraline 50 mg tablet',
        dosage: '1x per dag 1 tablet, ’s ochtends',
        since: '2026-04-01',
        until: null,
        prescriber: { name: 'Dr. Marieke de Groot', profession: 'Psychiater' },
      },
      expect.objectContaining({ name: 'Oxazepam 10 mg tablet', since: '2026-03-15', until: '2026-03-29' }),
    ]),
  );
  expect(d.allergies).toEqual([{ id: expect.stringMatching(/^fhir:/), substance: 'Penicilline', reaction: 'Huiduitslag', recordedAt: '2018-05-20' }]);
  expect(d.contraIndications).toEqual([{ id: expect.stringMatching(/^fhir:/), description: 'Geen MRI (pacemaker)', recordedAt: '2024-11-02' }]);
});

test('the treatment plan, team, effort, session reports and documents answer the mapped FHIR values', async () => {
  const before = fhir.requests.length;
  const { body } = await t.gql(
    `query($id: ID!) { client(id: $id) { dossier {
      treatmentPlan { id status careQuestion problemDescription goals { description addedBy } responsiblePractitioners { name } createdAt approvedAt approvedBy }
      treatmentTeam { practitioner { id name } role from until }
      treatmentEffort { plannedMinutes realisedMinutes activities { by { name } date minutes activity consultType } }
      reports { id date title author { name } body needsApproval approvedAt }
      documents { id name mediaType uploadedBy uploadedAt needsApproval approvedAt downloadUrl }
    } } }`,
    { id: clientId },
    token,
  );
  expect(body.errors).toBeUndefined();
  const d = body.data.client.dossier;
  expect(d.treatmentPlan).toMatchObject({
    id: expect.stringMatching(/^fhir:/),
    status: 'APPROVED',
    careQuestion: 'Hoe krijg ik weer grip op mijn stemming?',
    problemDescription: 'Depressieve klachten met slaapproblemen en uitval op werk.',
    responsiblePractitioners: [{ name: 'Dr. Marieke de Groot' }, { name: 'Jeroen Bakker' }],
    createdAt: '2026-04-02T09:00:00.000Z',
    // The husband's akkoord (RelatedPerson); the psychiatrist's later Provenance is not the client's.
    approvedAt: '2026-04-03T17:12:00.000Z',
    approvedBy: 'Bram Jansen',
  });
  expect(d.treatmentPlan.goals).toEqual(
    expect.arrayContaining([
      { description: 'Weer vijf dagen per week werken', addedBy: 'Eva Jansen' },
      { description: 'Minstens zes uur per nacht slapen', addedBy: 'Eva Jansen' },
    ]),
  );
  expect(d.treatmentTeam.map((m: { practitioner: { name: string }; role: string; from: string }) => [m.practitioner.name, m.role, m.from])).toEqual([
    ['Dr. Marieke de Groot', 'LEAD', '2026-03-10'],
    ['Jeroen Bakker', 'DEPUTY_LEAD', '2026-03-12'],
    ['Fatima El Amrani', 'CO_PRACTITIONER', '2026-04-02'],
  ]);
  expect(d.treatmentTeam[0].practitioner.id).toBe(fhirId(seed.practitioners.degroot.id));
  expect(d.treatmentEffort).toEqual({
    plannedMinutes: 12 * 45 + 3 * 30,
    realisedMinutes: 135,
    activities: expect.arrayContaining([
      { by: { name: 'Jeroen Bakker' }, date: '2026-03-12', minutes: 90, activity: 'Intake', consultType: 'Face-to-face' },
      { by: { name: 'Fatima El Amrani' }, date: '2026-04-10', minutes: 45, activity: 'Cognitieve gedragstherapie', consultType: 'Beeldbellen' },
    ]),
  });
  expect(d.treatmentEffort.activities).toHaveLength(2);
  expect(d.reports).toEqual([
    {
      id: expect.stringMatching(/^fhir:/),
      date: '2026-04-10T12:00:00.000Z',
      title: 'Verslag behandelsessie 1',
      author: { name: 'Fatima El Amrani' },
      body: 'Cliënte vertelt over haar week; slaapt iets beter.',
      needsApproval: false,
      approvedAt: null,
    },
    {
      id: expect.stringMatching(/^fhir:/),
      date: '2026-03-20T10:00:00.000Z',
      title: 'Verslag adviesgesprek',
      author: { name: 'Jeroen Bakker' },
      body: 'Behandeladvies besproken: CGT in 12 sessies. Cliënte stemt in.',
      needsApproval: true,
      approvedAt: '2026-03-21T08:30:00.000Z',
    },
  ]);
  const byName = Object.fromEntries(d.documents.map((doc: { name: string }) => [doc.name, doc]));
  expect(Object.keys(byName).sort()).toEqual(['Behandelovereenkomst.pdf', 'Behandelplan ter akkoord.pdf', 'Brief aan huisarts.pdf']);
  expect(byName['Brief aan huisarts.pdf']).toMatchObject({
    mediaType: 'application/pdf',
    uploadedBy: 'Dr. Marieke de Groot',
    uploadedAt: '2026-03-15T09:00:00.000Z',
    needsApproval: false,
    approvedAt: null,
  });
  // Only the practitioner's signature so far: still waiting for the client's akkoord.
  expect(byName['Behandelplan ter akkoord.pdf']).toMatchObject({ uploadedBy: 'Dr. M. de Groot', needsApproval: true, approvedAt: null });
  expect(byName['Behandelovereenkomst.pdf']).toMatchObject({ uploadedBy: 'Jeroen Bakker', needsApproval: true, approvedAt: '2026-03-14T09:05:00.000Z' });

  // Medplum's MemoryRepository ignores _revinclude: the plan, the reports and the documents each
  // cost one Provenance search (by POST) for exactly what they list, no more.
  const provenanceSearches = fhir.requests.slice(before).filter((r) => r.path.startsWith('Provenance'));
  expect(provenanceSearches.map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill('POST Provenance/_search'));
  const targets = provenanceSearches.map((r) => new URLSearchParams(r.body).get('target')!.split(',').length).sort();
  expect(targets).toEqual([1, 2, 3]);

  // Content streams from the FHIR server: a Binary behind attachment.url, and inline attachment.data.
  for (const name of ['Brief aan huisarts.pdf', 'Behandelplan ter akkoord.pdf']) {
    const res = await fetch(new URL(byName[name].downloadUrl, t.base));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/pdf');
    expect(Buffer.from(await res.arrayBuffer()).equals(seed.pdf)).toBe(true);
  }
});

test(`${APPOINTMENT_COUNT} appointments and an MDO with their practitioners answer with source "fhir" and cost exactly one Practitioner request upstream`, async () => {
  const before = fhir.requests.length;
  const { body } = await t.gql(
    'query($id: ID!) { client(id: $id) { appointments(when: ALL) { id start end type location online source practitioner { id name profession phone email } } } }',
    { id: clientId },
    token,
  );
  expect(body.errors).toBeUndefined();
  const appointments = body.data.client.appointments;
  // The client holds every right, AGENDA_VIEW_ORGANISATION too, so the organisation-only MDO is listed.
  expect(appointments).toHaveLength(APPOINTMENT_COUNT + 1);
  expect(appointments.filter((a: { type: string }) => a.type === MDO_TYPE)).toEqual([
    expect.objectContaining({ id: fhirId(seed.mdo.id), location: null, online: false }),
  ]);
  expect(appointments.every((a: { source: string }) => a.source === 'fhir')).toBe(true);
  const names = new Set(appointments.map((a: { practitioner: { name: string } }) => a.practitioner.name));
  expect(names).toEqual(new Set(['Dr. Marieke de Groot', 'Jeroen Bakker', 'Fatima El Amrani', 'Lotte Visser']));
  // Medplum's MemoryRepository ignores _include, so the Location names came through the adapter's one fallback search.
  expect(appointments[0]).toMatchObject({ type: 'Intake', location: 'Groningen, Spreekkamer 3', online: false });
  expect(appointments[3]).toMatchObject({ type: 'Beeldbellen', location: null, online: true });
  expect(appointments[1].practitioner).toEqual({
    id: fhirId(seed.practitioners.bakker.id),
    name: 'Jeroen Bakker',
    profession: 'GZ-psycholoog',
    phone: '050 555 0102',
    email: 'j.bakker@ggz-noord.test',
  });

  const upstream = fhir.requests.slice(before);
  const practitionerRequests = upstream.filter((r) => r.method === 'GET' && r.path === 'Practitioner');
  expect(practitionerRequests).toHaveLength(1);
  expect(practitionerRequests[0].query.get('_id')!.split(',').sort()).toEqual(
    Object.values(seed.practitioners)
      .map((p) => p.id)
      .sort(),
  );
  // The appointments themselves: one search (two pages at most), plus the Locations the server did not _include.
  expect(upstream.filter((r) => r.path.startsWith('Practitioner/'))).toHaveLength(0);
  expect(upstream.filter((r) => r.path === 'Appointment').length).toBeLessThanOrEqual(2);
});

test('a client known at both organisations sees the items of both, each with its source', async () => {
  const karen = await t.login({ bsn: KAREN_BSN });
  const [karenId] = await portalIds(t, karen);
  const { body } = await t.gql('query($id: ID!) { client(id: $id) { dossier { medications { id name } } } }', { id: karenId }, karen);
  expect(body.errors).toBeUndefined();
  const ids: string[] = body.data.client.dossier.medications.map((m: { id: string }) => m.id);
  expect(body.data.client.dossier.medications).toContainEqual({ id: expect.stringMatching(/^fhir:/), name: 'Quetiapine 25 mg tablet' });
  expect(ids.some((id) => id.startsWith('demo:'))).toBe(true);
});

test("a parent listed as RelatedPerson (father) of a child gets the child's portal as PARENT; a neighbour does not", async () => {
  const parent = await t.login({ bsn: PARENT_BSN });
  const { body } = await t.gql('{ me { portals { relation client { name birthDate } } } }', undefined, parent);
  expect(body.errors).toBeUndefined();
  expect(body.data.me.portals).toEqual([{ relation: 'PARENT', client: { name: 'Noor-Sem Jansen', birthDate: '2014-02-08' } }]);
  const neighbour = await t.login({ bsn: '999990093' });
  expect((await t.gql('{ me { portals { relation } } }', undefined, neighbour)).body.data.me.portals).toEqual([]);
});

test("a search larger than one page follows the server's next links to the end", async () => {
  const small = new FhirEhrAdapter({ baseUrl: fhir.baseUrl, auth: { kind: 'none' }, intakeQuestionnaire: INTAKE_QUESTIONNAIRE, pageSize: 7 });
  const before = fhir.requests.length;
  const all = await small.listAppointments(seed.eva.id, {}, { requestId: 'paging' });
  expect(all).toHaveLength(APPOINTMENT_COUNT + 1);
  expect(new Set(all.map((a) => a.externalId)).size).toBe(APPOINTMENT_COUNT + 1);
  expect(fhir.requests.slice(before).filter((r) => r.path === 'Appointment')).toHaveLength(Math.ceil((APPOINTMENT_COUNT + 1) / 7));
});

test('an Appointment where the client is an information-only participant reads as organisation-only; the others do not', async () => {
  const adapter = new FhirEhrAdapter({ baseUrl: fhir.baseUrl, auth: { kind: 'none' }, intakeQuestionnaire: INTAKE_QUESTIONNAIRE });
  const all = await adapter.listAppointments(seed.eva.id, {}, { requestId: 'mdo' });
  expect(all.filter((a) => a.organisationOnly)).toEqual([
    expect.objectContaining({ externalId: seed.mdo.id, type: MDO_TYPE, practitionerId: seed.practitioners.degroot.id }),
  ]);
  expect(all.filter((a) => a.organisationOnly === false)).toHaveLength(APPOINTMENT_COUNT);
});

test('the adapter pings the FHIR server through GET /metadata at start; /readyz reports it without calling it', async () => {
  expect(fhir.requests.some((r) => r.path === 'metadata')).toBe(true);
  const before = fhir.requests.length;
  const res = await fetch(new URL('/readyz', t.base));
  expect(res.status).toBe(200);
  expect(((await res.json()) as { adapters: Record<string, { state: string; lastOk: string | null }> }).adapters.fhir).toMatchObject({
    state: 'closed',
    lastOk: expect.any(String),
  });
  expect(fhir.requests.length).toBe(before);
});

test("approveDocument gives the client's akkoord to the FHIR server as a Provenance; the next read shows it", async () => {
  const documents = 'query($id: ID!) { client(id: $id) { dossier { documents { id name needsApproval approvedAt } } } }';
  const awaiting = (await t.gql(documents, { id: clientId }, token)).body.data.client.dossier.documents.find(
    (d: { name: string }) => d.name === 'Behandelplan ter akkoord.pdf',
  );
  expect(awaiting).toMatchObject({ needsApproval: true, approvedAt: null });
  const { body } = await t.gql('mutation($id: ID!) { approveDocument(documentId: $id) { id approvedAt } }', { id: awaiting.id }, token);
  expect(body.errors).toBeUndefined();
  const approvedAt = body.data.approveDocument.approvedAt as string;
  expect(approvedAt).toBeTruthy();
  const after = (await t.gql(documents, { id: clientId }, token)).body.data.client.dossier.documents.find((d: { id: string }) => d.id === awaiting.id);
  expect(after).toMatchObject({ needsApproval: true, approvedAt });
  const documentId = String(awaiting.id).slice('fhir:'.length);
  const provenances = await fhir.repo.searchResources<Provenance>(parseSearchRequest<Provenance>(`Provenance?target=DocumentReference/${documentId}`));
  // The practitioner's signature was there already; Eva's akkoord is the new one.
  expect(provenances).toHaveLength(2);
  expect(provenances.find((p) => p.agent[0]?.who.reference === `Patient/${seed.eva.id}`)).toMatchObject({ activity: { text: 'akkoord' } });
});

test('keeps the goals of an approved plan fixed: addTreatmentGoal answers PLAN_APPROVED and writes nothing to the FHIR server', async () => {
  const plan = await t.gql('query($id: ID!) { client(id: $id) { dossier { treatmentPlan { status goals { removable } } } } }', { id: clientId }, token);
  expect(plan.body.data.client.dossier.treatmentPlan.status).toBe('APPROVED');
  expect(plan.body.data.client.dossier.treatmentPlan.goals.every((g: { removable: boolean }) => !g.removable)).toBe(true);
  const writes = () => fhir.requests.filter((r) => r.method !== 'GET' && !r.path.endsWith('_search')).length;
  const before = writes();
  const { body } = await t.gql('mutation($c: ID!) { addTreatmentGoal(clientId: $c, description: "Weer gaan hardlopen") { id } }', { c: clientId }, token);
  expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PLAN_APPROVED' });
  expect(writes()).toBe(before);
});

test('shares the client story with the organisation as one DocumentReference of its own (not among the documents), and withdraws it', async () => {
  const save = (text: string, share: boolean) =>
    t.gql(
      'mutation($c: ID!, $t: String!, $s: Boolean!) { saveClientStory(clientId: $c, text: $t, shareWithOrganisation: $s) { sharedWithOrganisation } }',
      { c: clientId, t: text, s: share },
      token,
    );
  const stories = () =>
    fhir.repo.searchResources<DocumentReference>(
      parseSearchRequest<DocumentReference>(`DocumentReference?identifier=urn:ggz-portal:client-story|${seed.eva.id}`),
    );
  expect((await save('Mijn verhaal: wat mij helpt is structuur.', true)).body.data.saveClientStory.sharedWithOrganisation).toBe(true);
  expect((await save('Mijn verhaal, bijgewerkt.', true)).body.errors).toBeUndefined();
  const [story, ...more] = await stories();
  expect(more).toHaveLength(0);
  expect(story).toMatchObject({ status: 'current', type: { text: 'Mijn verhaal' }, subject: { reference: `Patient/${seed.eva.id}` } });
  expect(Buffer.from(story.content[0].attachment.data!, 'base64').toString('utf8')).toBe('Mijn verhaal, bijgewerkt.');
  const documents = (await t.gql('query($id: ID!) { client(id: $id) { dossier { documents { name } } } }', { id: clientId }, token)).body.data.client.dossier
    .documents;
  expect(documents.map((d: { name: string }) => d.name)).not.toContain('Mijn verhaal');

  expect((await save('Alleen voor mij.', false)).body.data.saveClientStory.sharedWithOrganisation).toBe(false);
  const [withdrawn] = await stories();
  expect(withdrawn.status).toBe('entered-in-error');
  expect(withdrawn.content[0].attachment.data).toBeUndefined();
});

test('reads a Task with a Questionnaire focus as an assignment, and sends the answers once as a completed QuestionnaireResponse', async () => {
  const questionnaire = await fhir.repo.createResource<Questionnaire>({
    resourceType: 'Questionnaire',
    status: 'active',
    url: 'https://ggz-noord.test/fhir/Questionnaire/phq-2',
    title: 'PHQ-2',
    item: [
      {
        linkId: 'klachten',
        type: 'group',
        text: 'De afgelopen twee weken',
        item: [
          {
            linkId: 'plezier',
            type: 'choice',
            text: 'Weinig interesse of plezier',
            required: true,
            answerOption: [{ valueString: 'Helemaal niet' }, { valueString: 'Meerdere dagen' }],
          },
          { linkId: 'nachten', type: 'integer', text: 'Hoeveel nachten sliep u slecht?', required: true },
        ],
      },
    ],
  });
  const task = await fhir.repo.createResource<Task>({
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    for: { reference: `Patient/${seed.eva.id}` },
    focus: { reference: `Questionnaire/${questionnaire.id}` },
    authoredOn: '2026-11-28T09:00:00+01:00',
  });
  const LIST = 'query($id: ID!) { client(id: $id) { questionnaires { id title status pages { title questions { id type options required answer } } } } }';
  const listed = await t.gql(LIST, { id: clientId }, token);
  const [assignment] = listed.body.data.client.questionnaires;
  expect(assignment).toMatchObject({
    id: `fhir:${task.id}`,
    title: 'PHQ-2',
    status: 'OPEN',
    pages: [
      {
        title: 'De afgelopen twee weken',
        questions: [
          { id: 'plezier', type: 'CHOICE', options: ['Helemaal niet', 'Meerdere dagen'] },
          { id: 'nachten', type: 'SCALE', options: null },
        ],
      },
    ],
  });
  const SAVE = 'mutation($a: ID!, $x: [AnswerInput!]!) { saveQuestionnaireAnswers(assignmentId: $a, answers: $x, submit: true) { status } }';
  expect(
    (
      await t.gql(
        SAVE,
        {
          a: assignment.id,
          x: [
            { questionId: 'plezier', value: 'Meerdere dagen' },
            { questionId: 'nachten', value: 'veel' },
          ],
        },
        token,
      )
    ).body.errors?.[0]?.extensions,
  ).toMatchObject({
    code: 'BAD_USER_INPUT',
    questionId: 'nachten',
  });
  const sent = await t.gql(
    SAVE,
    {
      a: assignment.id,
      x: [
        { questionId: 'plezier', value: 'Meerdere dagen' },
        { questionId: 'nachten', value: '3' },
      ],
    },
    token,
  );
  expect(sent.body.errors).toBeUndefined();
  expect(sent.body.data.saveQuestionnaireAnswers.status).toBe('COMPLETED');
  const responses = await fhir.repo.searchResources<QuestionnaireResponse>(
    parseSearchRequest<QuestionnaireResponse>(`QuestionnaireResponse?identifier=urn:ggz-portal:questionnaire-assignment|${task.id}`),
  );
  expect(responses).toHaveLength(1);
  expect(responses[0]).toMatchObject({
    status: 'completed',
    questionnaire: 'https://ggz-noord.test/fhir/Questionnaire/phq-2',
    item: [
      { linkId: 'plezier', answer: [{ valueString: 'Meerdere dagen' }] },
      { linkId: 'nachten', answer: [{ valueInteger: 3 }] },
    ],
  });
  const after = (await t.gql(LIST, { id: clientId }, token)).body.data.client.questionnaires[0];
  expect(after.status).toBe('COMPLETED');
  expect(after.pages[0].questions.map((q: { answer: string }) => q.answer)).toEqual(['Meerdere dagen', '3']);
});

test('files a document the client uploads as a DocumentReference with its bytes, listed with the client as uploader, downloadable', async () => {
  const pdf = Buffer.from('%PDF-1.4\n%verwijzing van de huisarts\n%%EOF\n');
  const form = new FormData();
  form.append('file', new Blob([pdf]), 'verwijzing.pdf');
  const up = (await (await fetch(`${t.base}/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })).json()) as { id: string };
  const { body } = await t.gql(
    'mutation($c: ID!, $u: ID!) { addDocument(clientId: $c, uploadId: $u, title: "Verwijzing huisarts") { id name uploadedBy downloadUrl } }',
    { c: clientId, u: up.id },
    token,
  );
  expect(body.errors).toBeUndefined();
  expect(body.data.addDocument).toMatchObject({ name: 'Verwijzing huisarts', uploadedBy: expect.stringMatching(/Eva/) });
  const [doc] = await fhir.repo.searchResources<DocumentReference>(
    parseSearchRequest<DocumentReference>(`DocumentReference?subject=Patient/${seed.eva.id}&description=Verwijzing`),
  );
  expect(doc).toMatchObject({ status: 'current', identifier: [{ system: 'urn:ggz-portal:document' }] });
  const download = await fetch(new URL(body.data.addDocument.downloadUrl, t.base));
  expect(download.status).toBe(200);
  expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
});

test('files an upload above the inline limit as a Binary of its own (sent as raw bytes) and a DocumentReference pointing at it, once', async () => {
  const small = await startTestApp({
    env: { EHR_ADAPTERS: 'fhir', FHIR_BASE_URL: fhir.baseUrl, FHIR_INLINE_ATTACHMENT_MAX_BYTES: '16', CACHE_TTL_SECONDS: '0', DEMO_SEED: '0' },
  });
  try {
    const as = await small.login({ bsn: EVA_BSN });
    const [id] = await portalIds(small, as);
    const pdf = Buffer.from(`%PDF-1.4\n%${'ontslagbrief '.repeat(200)}\n%%EOF\n`);
    const form = new FormData();
    form.append('file', new Blob([pdf]), 'ontslagbrief.pdf');
    const up = (await (await fetch(`${small.base}/files`, { method: 'POST', headers: { authorization: `Bearer ${as}` }, body: form })).json()) as {
      id: string;
    };
    const { body } = await small.gql(
      'mutation($c: ID!, $u: ID!) { addDocument(clientId: $c, uploadId: $u, title: "Ontslagbrief kliniek") { id name downloadUrl syncStatus } }',
      { c: id, u: up.id },
      as,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.addDocument).toMatchObject({ name: 'Ontslagbrief kliniek', syncStatus: null });
    const docs = await fhir.repo.searchResources<DocumentReference>(
      parseSearchRequest<DocumentReference>(`DocumentReference?subject=Patient/${seed.eva.id}&description=Ontslagbrief`),
    );
    expect(docs).toHaveLength(1);
    const attachment = docs[0].content[0].attachment;
    expect(attachment).toMatchObject({ contentType: 'application/pdf', size: pdf.length, url: expect.stringMatching(/^Binary\//) });
    expect(attachment.data).toBeUndefined();
    const binary = await fhir.repo.readResource<Binary>('Binary', attachment.url!.slice('Binary/'.length));
    expect(binary).toMatchObject({ contentType: 'application/pdf', securityContext: { reference: `Patient/${seed.eva.id}` } });
    expect(Buffer.from(binary.data!, 'base64').equals(pdf)).toBe(true);
    // The bytes went as they are, not as base64 inside JSON.
    expect(fhir.requests.filter((r) => r.method === 'POST' && r.path === 'Binary').map((r) => r.body)).toContain(`<${pdf.length} bytes of application/pdf>`);
    const download = await fetch(new URL(body.data.addDocument.downloadUrl, small.base));
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
  } finally {
    await small.stop();
  }
});

test('calls off an upcoming Appointment: cancelled with who and why, gone from the agenda', async () => {
  const start = new Date(Date.now() + 7 * 86_400_000).toISOString();
  const appointment = await fhir.repo.createResource<Appointment>({
    resourceType: 'Appointment',
    status: 'booked',
    start,
    end: new Date(Date.parse(start) + 45 * 60_000).toISOString(),
    serviceType: [{ text: 'Behandeling' }],
    participant: [
      { actor: { reference: `Patient/${seed.eva.id}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${seed.practitioners.bakker.id}` }, status: 'accepted' },
    ],
  });
  // As the EHR's appointment.upserted event would: the cached agenda goes.
  await t.app.services.ehrCache.dropClient(clientId);
  const { body } = await t.gql('mutation($a: ID!) { cancelAppointment(appointmentId: $a, reason: "Ziek") }', { a: `fhir:${appointment.id}` }, token);
  expect(body.errors).toBeUndefined();
  const after = await fhir.repo.readResource<Appointment>('Appointment', appointment.id!);
  expect(after).toMatchObject({ status: 'cancelled', cancelationReason: { text: expect.stringMatching(/Ziek$/) } });
  const upcoming = (await t.gql('query($id: ID!) { client(id: $id) { appointments(when: UPCOMING) { id } } }', { id: clientId }, token)).body.data.client
    .appointments;
  expect(upcoming.map((a: { id: string }) => a.id)).not.toContain(`fhir:${appointment.id}`);
});

test('reads the client’s insurance from Coverage (payor, subscriber id, period), read-only', async () => {
  await fhir.repo.createResource<Coverage>({
    resourceType: 'Coverage',
    status: 'active',
    beneficiary: { reference: `Patient/${seed.eva.id}` },
    payor: [{ display: 'VGZ' }],
    subscriberId: '987654321',
    period: { start: '2026-01-01', end: '2026-12-31' },
  });
  await t.app.services.ehrCache.dropClient(clientId);
  const { body } = await t.gql(
    'query($id: ID!) { client(id: $id) { dossier { insurance { insurer policyNumber from until source } } } }',
    { id: clientId },
    token,
  );
  expect(body.errors).toBeUndefined();
  expect(body.data.client.dossier.insurance).toEqual([{ insurer: 'VGZ', policyNumber: '987654321', from: '2026-01-01', until: '2026-12-31', source: 'fhir' }]);
});

describe('when the FHIR server is stopped mid-suite', () => {
  beforeAll(async () => {
    await fhir.stop();
  });

  test('FHIR-backed fields answer null with UPSTREAM_UNAVAILABLE at their path while the rest of the query answers', async () => {
    const { status, body } = await t.gql(
      `query($id: ID!) {
        me { displayName portals { client { id } } }
        client(id: $id) { id dossier { intakeReport { sections { title } } treatmentPlan { id } } }
      }`,
      { id: clientId },
      token,
    );
    expect(status).toBe(200);
    expect(body.data.me.portals.length).toBeGreaterThan(0);
    expect(body.data.client.id).toBe(clientId);
    expect(body.data.client.dossier).toEqual({ intakeReport: null, treatmentPlan: null });
    const byPath = Object.fromEntries(
      (body.errors ?? []).map((e: { path?: string[]; extensions?: { code?: string } }) => [e.path?.join('.'), e.extensions?.code]),
    );
    expect(byPath).toEqual({
      'client.dossier.intakeReport': 'UPSTREAM_UNAVAILABLE',
      'client.dossier.treatmentPlan': 'UPSTREAM_UNAVAILABLE',
    });
  });

  test('a client known at both organisations still gets the demo items, marked partial for the FHIR source', async () => {
    const karen = await t.login({ bsn: KAREN_BSN });
    const [karenId] = await portalIds(t, karen);
    const { body } = await t.gql('query($id: ID!) { client(id: $id) { dossier { medications { id name } } } }', { id: karenId }, karen);
    expect(body.errors).toBeUndefined();
    const ids: string[] = body.data.client.dossier.medications.map((m: { id: string }) => m.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.startsWith('demo:'))).toBe(true);
    expect(body.extensions?.partial).toContainEqual(expect.objectContaining({ source: 'fhir', code: 'UPSTREAM_UNAVAILABLE' }));
  });
});
