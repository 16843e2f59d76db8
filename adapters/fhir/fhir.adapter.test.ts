import { Readable } from 'node:stream';
import { startFhirServer, type TestFhirServer } from '../../test/utils/fhir-server';
import { parseSearchRequest } from '@medplum/core';
import type { Bundle, CarePlan, Consent, DocumentReference, Goal, Patient, Provenance, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import type { EhrActor } from '../ports';
import { FhirEhrAdapter, fhirAuthFrom, type FhirAuth } from './fhir.adapter';
import { PORTAL_APPROVAL_SYSTEM, PORTAL_CONSENT_SYSTEM } from './fhir.mapping';

/** A scripted FHIR server: answers by path, records every request with its headers. */
function fakeFhir(routes: Record<string, (url: URL) => Response | Promise<Response>>) {
  const calls: { url: URL; method: string; headers: Record<string, string>; body?: string }[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    calls.push({
      url,
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? String(init.body) : undefined,
    });
    init?.signal?.throwIfAborted();
    const route = routes[url.pathname];
    if (!route) return json({ resourceType: 'OperationOutcome', issue: [] }, 404);
    return route(url);
  }) as typeof fetch;
  return { calls, fetchFn };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/fhir+json' } });
}

const bundle = (resources: Resource[], next?: string): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: resources.map((resource) => ({ resource })),
  ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
});

const BASE = 'https://ehr.ggz-noord.test/fhir/R4';
const ctx = { requestId: 'req-1' };

function adapter(fetchFn: typeof fetch, auth: FhirAuth = { kind: 'none' }, extra: { pageSize?: number; inlineAttachmentMaxBytes?: number } = {}) {
  return new FhirEhrAdapter({ baseUrl: BASE, auth, intakeQuestionnaire: 'intake', fetch: fetchFn, ...extra });
}

test('a search follows Bundle.link next until the last page', async () => {
  const appointment = (id: string, day: number) => ({
    resourceType: 'Appointment' as const,
    id,
    status: 'booked' as const,
    start: `2026-12-0${day}T09:00:00Z`,
    end: `2026-12-0${day}T09:45:00Z`,
    participant: [
      { actor: { reference: 'Patient/p1' }, status: 'accepted' as const },
      { actor: { reference: 'Practitioner/pr1' }, status: 'accepted' as const },
    ],
  });
  const { calls, fetchFn } = fakeFhir({
    '/fhir/R4/Appointment': (url) =>
      url.searchParams.get('page') === '2'
        ? json(bundle([appointment('a3', 3)]))
        : json(bundle([appointment('a1', 1), appointment('a2', 2)], `${BASE}/Appointment?patient=Patient/p1&page=2`)),
  });
  const list = await adapter(fetchFn).listAppointments('p1', {}, ctx);
  expect(list.map((a) => a.externalId)).toEqual(['a1', 'a2', 'a3']);
  expect(calls).toHaveLength(2);
  expect(calls[0].url.searchParams.get('patient')).toBe('Patient/p1');
});

test('a next link to another origin is refused, so the token never leaves for a stranger', async () => {
  const { calls, fetchFn } = fakeFhir({
    '/fhir/R4/AllergyIntolerance': () => json(bundle([], 'https://evil.test/fhir/AllergyIntolerance?page=2')),
  });
  await expect(adapter(fetchFn, { kind: 'bearer', token: 't0k' }).listAllergies('p1', ctx)).rejects.toThrow(/another origin/);
  expect(calls).toHaveLength(1);
});

test('getPractitioners asks once for the whole batch with _id=a,b,c', async () => {
  const { calls, fetchFn } = fakeFhir({
    '/fhir/R4/Practitioner': () =>
      json(
        bundle([
          { resourceType: 'Practitioner', id: 'pr1', name: [{ text: 'Dr. Marieke de Groot' }] },
          { resourceType: 'Practitioner', id: 'pr2', name: [{ given: ['Jeroen'], family: 'Bakker' }] },
        ]),
      ),
  });
  const found = await adapter(fetchFn).getPractitioners(['pr1', 'pr2', 'pr1', 'pr-gone'], ctx);
  expect(found.map((p) => p.name)).toEqual(['Dr. Marieke de Groot', 'Jeroen Bakker']);
  expect(calls).toHaveLength(1);
  expect(calls[0].url.searchParams.get('_id')).toBe('pr1,pr2,pr-gone');
});

test('references a server did not _include are fetched in one _id search per type', async () => {
  const { calls, fetchFn } = fakeFhir({
    '/fhir/R4/EpisodeOfCare': () =>
      json(
        bundle([
          {
            resourceType: 'EpisodeOfCare',
            id: 'e1',
            status: 'active',
            identifier: [{ value: 'DOS-1' }],
            patient: { reference: 'Patient/p1' },
            diagnosis: [{ condition: { reference: 'Condition/c1' }, rank: 1 }],
            referralRequest: [{ reference: 'ServiceRequest/s1' }],
          },
          // The server did include the referral but not the condition.
          {
            resourceType: 'ServiceRequest',
            id: 's1',
            status: 'completed',
            intent: 'order',
            subject: { reference: 'Patient/p1' },
            reasonCode: [{ text: 'Paniekaanvallen' }],
          },
        ]),
      ),
    '/fhir/R4/Condition': () => json(bundle([{ resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { text: 'Paniekstoornis' } }])),
  });
  const overview = await adapter(fetchFn).getDossierOverview('p1', ctx);
  expect(overview).toMatchObject({ dossierNumber: 'DOS-1', diagnosis: 'Paniekstoornis', registrationReason: 'Paniekaanvallen' });
  expect(calls.map((c) => c.url.pathname)).toEqual(['/fhir/R4/EpisodeOfCare', '/fhir/R4/Condition']);
  expect(calls[0].url.searchParams.getAll('_include')).toEqual(['EpisodeOfCare:condition', 'EpisodeOfCare:incoming-referral']);
  expect(calls[1].url.searchParams.get('_id')).toBe('c1');
});

test('FHIR_AUTH bearer:<token> sends that token on every request', async () => {
  const { calls, fetchFn } = fakeFhir({ '/fhir/R4/metadata': () => json({ resourceType: 'CapabilityStatement' }) });
  await adapter(fetchFn, fhirAuthFrom({ FHIR_AUTH: 'bearer:abc.def' })).ping();
  expect(calls[0].headers.authorization).toBe('Bearer abc.def');
  expect(calls[0].url.pathname).toBe('/fhir/R4/metadata');
});

test('client_credentials: one token request, cached until shortly before expiry, shared by concurrent calls', async () => {
  let issued = 0;
  const { calls, fetchFn } = fakeFhir({
    '/oauth2/token': () =>
      new Response(JSON.stringify({ access_token: `tok-${++issued}`, token_type: 'Bearer', expires_in: 3600 }), {
        headers: { 'content-type': 'application/json' },
      }),
    '/fhir/R4/metadata': () => json({ resourceType: 'CapabilityStatement' }),
  });
  const auth = fhirAuthFrom({
    FHIR_AUTH: 'client_credentials',
    FHIR_TOKEN_URL: 'https://ehr.ggz-noord.test/oauth2/token',
    FHIR_CLIENT_ID: 'portal',
    FHIR_CLIENT_SECRET: 's3cret',
  });
  const fhir = adapter(fetchFn, auth);
  await Promise.all([fhir.ping(), fhir.ping(), fhir.ping()]);
  await fhir.ping();
  const tokenCalls = calls.filter((c) => c.url.pathname === '/oauth2/token');
  expect(tokenCalls).toHaveLength(1);
  expect(tokenCalls[0].method).toBe('POST');
  expect(tokenCalls[0].body).toBe('grant_type=client_credentials');
  expect(tokenCalls[0].headers.authorization).toBe(`Basic ${Buffer.from('portal:s3cret').toString('base64')}`);
  expect(calls.filter((c) => c.url.pathname === '/fhir/R4/metadata').every((c) => c.headers.authorization === 'Bearer tok-1')).toBe(true);
});

test('client_credentials: a 401 drops the cached token, so the next attempt fetches a fresh one', async () => {
  let issued = 0;
  let reject = true;
  const { fetchFn, calls } = fakeFhir({
    '/oauth2/token': () => new Response(JSON.stringify({ access_token: `tok-${++issued}`, expires_in: 3600 })),
    '/fhir/R4/metadata': () =>
      reject ? ((reject = false), json({ resourceType: 'OperationOutcome', issue: [] }, 401)) : json({ resourceType: 'CapabilityStatement' }),
  });
  const fhir = adapter(fetchFn, {
    kind: 'client_credentials',
    tokenUrl: 'https://ehr.ggz-noord.test/oauth2/token',
    clientId: 'portal',
    clientSecret: 's3cret',
  });
  await expect(fhir.ping()).rejects.toMatchObject({ status: 401 });
  await fhir.ping();
  expect(calls.filter((c) => c.url.pathname === '/fhir/R4/metadata').map((c) => c.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
});

test('an aborted request context stops the upstream call', async () => {
  const { fetchFn } = fakeFhir({ '/fhir/R4/Flag': () => json(bundle([])) });
  const controller = new AbortController();
  controller.abort();
  await expect(adapter(fetchFn).listContraIndications('p1', { ...ctx, signal: controller.signal })).rejects.toThrow();
});

test('an upstream error status is a failure, not an empty answer', async () => {
  const { fetchFn } = fakeFhir({ '/fhir/R4/CareTeam': () => json({ resourceType: 'OperationOutcome', issue: [] }, 503) });
  await expect(adapter(fetchFn).listTreatmentTeam('p1', ctx)).rejects.toMatchObject({ status: 503 });
});

test('children of a parent come from RelatedPerson resources with the parent BSN and a parent relationship', async () => {
  const bsn = { system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999990044' };
  const { calls, fetchFn } = fakeFhir({
    '/fhir/R4/RelatedPerson/_search': () =>
      json(
        bundle([
          {
            resourceType: 'RelatedPerson',
            id: 'rp1',
            patient: { reference: 'Patient/kid1' },
            identifier: [bsn],
            relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] }],
          },
          { resourceType: 'RelatedPerson', id: 'rp2', patient: { reference: 'Patient/kid2' }, identifier: [bsn], relationship: [{ text: 'buurvrouw' }] },
          { resourceType: 'Patient', id: 'kid1', name: [{ given: ['Daan'], family: 'de Vries' }], birthDate: '2012-09-01' },
        ]),
      ),
  });
  const children = await adapter(fetchFn).findChildrenOfParent('999990044', ctx);
  expect(children).toEqual([{ externalId: 'kid1', name: 'Daan de Vries', birthDate: '2012-09-01', gender: null }]);
  expect(calls).toHaveLength(1);
  // Searched by POST: the BSN travels in the body, never in a URL that proxies and servers log.
  expect(calls[0].method).toBe('POST');
  expect(calls[0].url.href).not.toContain('999990044');
  expect(new URLSearchParams(calls[0].body).get('identifier')).toBe('http://fhir.nl/fhir/NamingSystem/bsn|999990044');
});

test('a document of another client is not served', async () => {
  const { fetchFn } = fakeFhir({
    '/fhir/R4/DocumentReference/d1': () =>
      json({
        resourceType: 'DocumentReference',
        id: 'd1',
        status: 'current',
        subject: { reference: 'Patient/someone-else' },
        content: [{ attachment: { contentType: 'application/pdf', data: 'JVBERi0=' } }],
      }),
  });
  await expect(adapter(fetchFn).getDocumentContent('p1', 'd1', ctx)).resolves.toBeNull();
});

test('an attachment URL on another host is fetched without our token', async () => {
  const { calls, fetchFn } = fakeFhir({
    '/fhir/R4/DocumentReference/d1': () =>
      json({
        resourceType: 'DocumentReference',
        id: 'd1',
        status: 'current',
        subject: { reference: 'Patient/p1' },
        content: [{ attachment: { contentType: 'application/pdf', title: 'Brief.pdf', url: 'https://files.other.test/brief.pdf' } }],
      }),
    '/brief.pdf': () => new Response(Buffer.from('%PDF-1.4'), { headers: { 'content-type': 'application/pdf' } }),
  });
  const content = await adapter(fetchFn, { kind: 'bearer', token: 't0k' }).getDocumentContent('p1', 'd1', ctx);
  expect(content?.name).toBe('Brief.pdf');
  expect(calls[0].headers.authorization).toBe('Bearer t0k');
  expect(calls[1].headers.authorization).toBeUndefined();
});

test('one caller giving up does not fail the others waiting for the same token', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { fetchFn } = fakeFhir({
    '/oauth2/token': async () => {
      await gate;
      return new Response(JSON.stringify({ access_token: 'tok-1', expires_in: 3600 }));
    },
    '/fhir/R4/metadata': () => json({ resourceType: 'CapabilityStatement' }),
  });
  const fhir = adapter(fetchFn, {
    kind: 'client_credentials',
    tokenUrl: 'https://ehr.ggz-noord.test/oauth2/token',
    clientId: 'portal',
    clientSecret: 's3cret',
  });
  const impatient = new AbortController();
  const first = fhir.ping(impatient.signal);
  const second = fhir.ping();
  impatient.abort();
  release();
  await expect(first).rejects.toThrow();
  await expect(second).resolves.toBeUndefined();
});

test('client_credentials: a token about to expire is not reused', async () => {
  let issued = 0;
  const { calls, fetchFn } = fakeFhir({
    '/oauth2/token': () => new Response(JSON.stringify({ access_token: `tok-${++issued}`, expires_in: 10 })),
    '/fhir/R4/metadata': () => json({ resourceType: 'CapabilityStatement' }),
  });
  const fhir = adapter(fetchFn, {
    kind: 'client_credentials',
    tokenUrl: 'https://ehr.ggz-noord.test/oauth2/token',
    clientId: 'portal',
    clientSecret: 's3cret',
  });
  await fhir.ping();
  await fhir.ping();
  expect(calls.filter((c) => c.url.pathname === '/fhir/R4/metadata').map((c) => c.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
});

test('appointments link to their session report through _revinclude=DocumentReference:related, in the same round trip', async () => {
  const { calls, fetchFn } = fakeFhir({
    '/fhir/R4/Appointment': () =>
      json({
        resourceType: 'Bundle',
        type: 'searchset',
        entry: [
          {
            search: { mode: 'match' },
            resource: {
              resourceType: 'Appointment',
              id: 'a1',
              status: 'fulfilled',
              serviceType: [{ text: 'Behandeling' }],
              start: '2026-04-10T11:00:00Z',
              end: '2026-04-10T11:45:00Z',
              participant: [
                { actor: { reference: 'Practitioner/pr1' }, status: 'accepted' },
                { actor: { reference: 'Location/l1', display: 'Groningen, Spreekkamer 3' }, status: 'accepted' },
              ],
            },
          },
          {
            search: { mode: 'include' },
            resource: {
              resourceType: 'DocumentReference',
              id: 'r1',
              status: 'current',
              category: [{ text: 'verslag' }],
              content: [],
              context: { related: [{ reference: 'Appointment/a1' }] },
            },
          },
        ],
      }),
  });
  const [appointment] = await adapter(fetchFn).listAppointments('p1', { from: '2026-04-01T00:00:00Z' }, ctx);
  expect(appointment).toMatchObject({ externalId: 'a1', reportId: 'r1', location: 'Groningen, Spreekkamer 3' });
  expect(calls).toHaveLength(1);
  expect(calls[0].url.searchParams.getAll('_revinclude')).toEqual(['DocumentReference:related']);
  expect(calls[0].url.searchParams.getAll('date')).toEqual(['ge2026-04-01T00:00:00Z']);
});

describe('approvals (Provenance)', () => {
  const AKKOORD = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUTHEN' }], text: 'akkoord' };
  const doc = (id: string, category: string, docStatus: 'preliminary' | 'final', status: 'current' | 'superseded' = 'current') => ({
    resourceType: 'DocumentReference' as const,
    id,
    status,
    docStatus,
    category: [{ text: category }],
    subject: { reference: 'Patient/p1' },
    date: '2026-04-10T14:00:00Z',
    author: [{ reference: 'Practitioner/pr1', display: 'Fatima El Amrani' }],
    content: [{ attachment: { contentType: 'application/pdf', title: `${id}.pdf` } }],
  });
  const provenance = (target: string, who: string, recorded: string) => ({
    resourceType: 'Provenance' as const,
    target: [{ reference: target }],
    recorded,
    activity: AKKOORD,
    agent: [{ who: { reference: who } }],
  });

  test('session reports take approvedAt from the Provenances a server _revincluded, in the same round trip', async () => {
    const { calls, fetchFn } = fakeFhir({
      '/fhir/R4/DocumentReference': () =>
        json({
          resourceType: 'Bundle',
          type: 'searchset',
          entry: [
            { search: { mode: 'match' }, resource: doc('r1', 'verslag', 'preliminary') },
            { search: { mode: 'match' }, resource: doc('r2', 'verslag', 'preliminary') },
            { search: { mode: 'include' }, resource: provenance('DocumentReference/r1', 'Patient/p1', '2026-04-11T08:30:00Z') },
          ],
        }),
    });
    const reports = await adapter(fetchFn).listSessionReports('p1', ctx);
    expect(reports.map((r) => [r.externalId, r.needsApproval, r.approvedAt])).toEqual([
      ['r1', true, '2026-04-11T08:30:00.000Z'],
      ['r2', true, null],
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0].url.searchParams.getAll('_revinclude')).toEqual(['Provenance:target']);
  });

  test('a server that ignores _revinclude costs one Provenance search by POST, for the listed documents only', async () => {
    const { calls, fetchFn } = fakeFhir({
      '/fhir/R4/DocumentReference': () =>
        json(
          bundle([
            doc('d1', 'brief', 'final'),
            doc('d2', 'behandelovereenkomst', 'final'),
            doc('d3', 'brief', 'final', 'superseded'),
            doc('r1', 'verslag', 'final'),
          ]),
        ),
      '/fhir/R4/Provenance/_search': () =>
        json(
          bundle([
            provenance('DocumentReference/d2', 'RelatedPerson/rp1', '2026-03-14T09:05:00Z'),
            provenance('DocumentReference/d1', 'Practitioner/pr1', '2026-03-15T09:00:00Z'),
          ]),
        ),
    });
    const docs = await adapter(fetchFn).listDocuments('p1', ctx);
    expect(docs.map((d) => [d.externalId, d.approvedAt])).toEqual([
      ['d1', null],
      ['d2', '2026-03-14T09:05:00.000Z'],
    ]);
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual(['GET /fhir/R4/DocumentReference', 'POST /fhir/R4/Provenance/_search']);
    expect(new URLSearchParams(calls[1].body).get('target')).toBe('DocumentReference/d1,DocumentReference/d2');
  });

  test('the treatment plan looks for an akkoord on the shown plan only, and only once it is agreed', async () => {
    let status: 'active' | 'on-hold' = 'active';
    const { calls, fetchFn } = fakeFhir({
      '/fhir/R4/CarePlan': () =>
        json(
          bundle([
            { resourceType: 'CarePlan', id: 'cp1', status: 'completed', intent: 'plan', subject: { reference: 'Patient/p1' }, created: '2025-01-01' },
            { resourceType: 'CarePlan', id: 'cp2', status, intent: 'plan', subject: { reference: 'Patient/p1' }, created: '2026-04-02T11:00:00+02:00' },
          ]),
        ),
      '/fhir/R4/Provenance/_search': () => json(bundle([provenance('CarePlan/cp2', 'Patient/p1', '2026-04-03T17:12:00Z')])),
      '/fhir/R4/Patient': () => json(bundle([{ resourceType: 'Patient', id: 'p1', name: [{ given: ['Eva'], family: 'Jansen' }] }])),
    });
    await expect(adapter(fetchFn).getTreatmentPlan('p1', ctx)).resolves.toMatchObject({
      externalId: 'cp2',
      status: 'APPROVED',
      approvedAt: '2026-04-03T17:12:00.000Z',
      approvedBy: 'Eva Jansen',
    });
    // The agent has no display and the server included no Patient: its name costs one more search.
    expect(calls.map((c) => c.url.pathname)).toEqual(['/fhir/R4/CarePlan', '/fhir/R4/Provenance/_search', '/fhir/R4/Patient']);
    expect(calls[0].url.searchParams.getAll('_revinclude')).toEqual(['Provenance:target']);
    expect(calls[0].url.searchParams.getAll('_include:iterate')).toEqual(['Provenance:agent']);
    expect(new URLSearchParams(calls[1].body).get('target')).toBe('CarePlan/cp2');
    expect(calls[2].url.searchParams.get('_id')).toBe('p1');

    status = 'on-hold';
    calls.length = 0;
    await expect(adapter(fetchFn).getTreatmentPlan('p1', ctx)).resolves.toMatchObject({ status: 'AWAITING_APPROVAL', approvedAt: null });
    expect(calls.map((c) => c.url.pathname)).toEqual(['/fhir/R4/CarePlan']);
  });
});

/**
 * Writes against a real FHIR server: Medplum's FhirRouter over a MemoryRepository, served over
 * HTTP as production is; each test seeds its own patient, so tests do not see each other's writes.
 */
describe('writes to a FHIR server (Medplum over HTTP)', () => {
  let fhir: TestFhirServer;
  let ehr: FhirEhrAdapter;
  const karen: EhrActor = { name: 'Eva Jansen', kind: 'CLIENT' };
  const father: EhrActor = { name: 'Mark Jansen', kind: 'PARENT' };
  const at = '2026-04-11T10:30:00.000Z';

  beforeAll(async () => {
    fhir = await startFhirServer();
    ehr = new FhirEhrAdapter({ baseUrl: fhir.baseUrl, auth: { kind: 'none' }, intakeQuestionnaire: 'intake' });
  });
  afterAll(async () => fhir?.stop());

  const create = <T extends Resource>(r: T) => fhir.repo.createResource<T>(r) as Promise<T & { id: string }>;
  /** What the server holds, searched in its repository (not through the adapter under test). */
  const all = <T extends Resource>(type: T['resourceType'], query: string) => fhir.repo.searchResources<T>(parseSearchRequest<T>(`${type}?${query}`));

  /** A patient with a plan on hold (one practitioner's goal), a treatment agreement to sign, a letter and a report to approve. */
  async function seedPatient(planStatus: CarePlan['status'] = 'on-hold') {
    const patient = await create<Patient>({ resourceType: 'Patient', name: [{ given: ['Eva'], family: 'Jansen' }] });
    const subject = { reference: `Patient/${patient.id}` };
    const practitionerGoal = await create<Goal>({
      resourceType: 'Goal',
      lifecycleStatus: 'active',
      description: { text: 'Weer vijf dagen werken' },
      subject,
      expressedBy: { display: 'Jeroen Bakker' },
    });
    const plan = await create<CarePlan>({
      resourceType: 'CarePlan',
      status: planStatus,
      intent: 'plan',
      subject,
      created: '2026-04-02T11:00:00Z',
      title: 'Grip op stemming',
      goal: [{ reference: `Goal/${practitionerGoal.id}` }],
    });
    const doc = (description: string, docStatus: DocumentReference['docStatus'], category = 'behandelovereenkomst') =>
      create<DocumentReference>({
        resourceType: 'DocumentReference',
        status: 'current',
        docStatus,
        description,
        category: [{ text: category }],
        subject,
        date: '2026-04-10T14:00:00Z',
        content: [{ attachment: { contentType: 'application/pdf', title: `${description}.pdf` } }],
      });
    return {
      patient,
      plan,
      practitionerGoal,
      agreement: await doc('Behandelovereenkomst', 'preliminary'),
      letter: await doc('Verwijsbrief', 'final', 'brief'),
      report: await doc('Verslag adviesgesprek', 'preliminary', 'verslag'),
    };
  }

  test('approving a document records the akkoord as the Provenance the reader knows; the documents then read approvedAt', async () => {
    const { patient, agreement } = await seedPatient();
    expect((await ehr.listDocuments(patient.id, ctx)).find((d) => d.externalId === agreement.id)).toMatchObject({ needsApproval: true, approvedAt: null });
    await expect(ehr.approve(patient.id, { target: 'DOCUMENT', itemId: agreement.id, by: karen, at }, ctx)).resolves.toEqual({ done: true });
    expect((await ehr.listDocuments(patient.id, ctx)).find((d) => d.externalId === agreement.id)).toMatchObject({ needsApproval: true, approvedAt: at });
    const [provenance] = await all<Provenance>('Provenance', `target=DocumentReference/${agreement.id}`);
    expect(provenance).toMatchObject({
      target: [{ reference: `DocumentReference/${agreement.id}` }],
      recorded: at,
      activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUTHEN' }], text: 'akkoord' },
      agent: [{ who: { reference: `Patient/${patient.id}`, display: 'Eva Jansen' } }],
    });
    expect(provenance.meta?.tag).toEqual([expect.objectContaining({ system: PORTAL_APPROVAL_SYSTEM })]);
  });

  test('approving twice (a retry) creates one Provenance: a conditional create on its tag', async () => {
    const { patient, report } = await seedPatient();
    const approval = { target: 'SESSION_REPORT' as const, itemId: report.id, by: karen, at };
    await ehr.approve(patient.id, approval, ctx);
    await ehr.approve(patient.id, { ...approval, at: '2026-04-11T10:31:00.000Z' }, ctx);
    expect(await all<Provenance>('Provenance', `target=DocumentReference/${report.id}`)).toHaveLength(1);
    const creates = fhir.requests.filter((r) => r.method === 'POST' && r.path === 'Provenance');
    expect(creates.length).toBeGreaterThanOrEqual(2);
    expect((await ehr.listSessionReports(patient.id, ctx)).find((r) => r.externalId === report.id)?.approvedAt).toBe(at);
  });

  test('approving a plan on hold makes it active with the akkoord; approvedBy is the parent who gave it, for the client', async () => {
    const { patient, plan } = await seedPatient();
    await expect(ehr.approve(patient.id, { target: 'TREATMENT_PLAN', itemId: plan.id, by: father, at }, ctx)).resolves.toEqual({ done: true });
    expect(await ehr.getTreatmentPlan(patient.id, ctx)).toMatchObject({ externalId: plan.id, status: 'APPROVED', approvedAt: at, approvedBy: 'Mark Jansen' });
    const [provenance] = await all<Provenance>('Provenance', `target=CarePlan/${plan.id}`);
    expect(provenance.agent[0]).toMatchObject({
      who: { type: 'RelatedPerson', display: 'Mark Jansen' },
      onBehalfOf: { reference: `Patient/${patient.id}` },
      role: [{ text: 'ouder met gezag' }],
    });
    // Again (the answer was lost): the plan is active, nothing more is written.
    await expect(ehr.approve(patient.id, { target: 'TREATMENT_PLAN', itemId: plan.id, by: father, at }, ctx)).resolves.toEqual({ done: true });
    expect(await all<Provenance>('Provenance', `target=CarePlan/${plan.id}`)).toHaveLength(1);
  });

  test("approvedBy falls back to the approving Patient's name when the Provenance has no display", async () => {
    const { patient, plan } = await seedPatient('active');
    await create<Provenance>({
      resourceType: 'Provenance',
      target: [{ reference: `CarePlan/${plan.id}` }],
      recorded: at,
      activity: { text: 'akkoord' },
      agent: [{ who: { reference: `Patient/${patient.id}` } }],
    });
    expect(await ehr.getTreatmentPlan(patient.id, ctx)).toMatchObject({ status: 'APPROVED', approvedAt: at, approvedBy: 'Eva Jansen' });
  });

  test("a draft plan, a letter that asks nothing and another client's document are refused, with nothing written", async () => {
    const { patient, letter } = await seedPatient();
    const other = await seedPatient('draft');
    await expect(ehr.approve(other.patient.id, { target: 'TREATMENT_PLAN', itemId: other.plan.id, by: karen, at }, ctx)).resolves.toMatchObject({
      done: false,
      refusal: 'NOT_CHANGEABLE',
    });
    await expect(ehr.approve(patient.id, { target: 'DOCUMENT', itemId: letter.id, by: karen, at }, ctx)).resolves.toMatchObject({
      done: false,
      refusal: 'NOT_CHANGEABLE',
    });
    await expect(ehr.approve(patient.id, { target: 'DOCUMENT', itemId: other.agreement.id, by: karen, at }, ctx)).resolves.toMatchObject({
      done: false,
      refusal: 'NOT_FOUND',
    });
    await expect(ehr.approve(patient.id, { target: 'DOCUMENT', itemId: 'no-such-doc', by: karen, at }, ctx)).resolves.toMatchObject({
      done: false,
      refusal: 'NOT_FOUND',
    });
    for (const id of [other.plan.id, letter.id, other.agreement.id])
      expect(await all<Provenance>('Provenance', `target=${id === other.plan.id ? 'CarePlan' : 'DocumentReference'}/${id}`)).toHaveLength(0);
    expect((await ehr.getTreatmentPlan(other.patient.id, ctx))?.status).toBe('DRAFT');
  });

  test('a goal the client adds is a Goal in CarePlan.goal and reads back as theirs; the same goal id again adds nothing', async () => {
    const { patient, plan } = await seedPatient();
    const goal = { goalId: 'g-portal-1', planId: plan.id, description: 'Elke dag een half uur wandelen', addedBy: karen, at };
    const added = await ehr.addTreatmentGoal(patient.id, goal, ctx);
    expect(added).toEqual({ done: true, id: expect.any(String) });
    await expect(ehr.addTreatmentGoal(patient.id, goal, ctx)).resolves.toEqual(added);
    const read = await ehr.getTreatmentPlan(patient.id, ctx);
    expect(read?.goals).toEqual([
      { externalId: expect.any(String), description: 'Weer vijf dagen werken', addedBy: 'Jeroen Bakker', byClient: false },
      { externalId: added.done ? added.id : '', description: 'Elke dag een half uur wandelen', addedBy: 'Eva Jansen', byClient: true },
    ]);
    const stored = await fhir.repo.readResource<Goal>('Goal', added.done ? added.id! : '');
    expect(stored).toMatchObject({
      lifecycleStatus: 'proposed',
      subject: { reference: `Patient/${patient.id}` },
      expressedBy: { reference: `Patient/${patient.id}` },
    });
    expect(await all<Goal>('Goal', `subject=Patient/${patient.id}`)).toHaveLength(2);
  });

  test('a plan changed between read and write (If-Match 412) is read again, so neither change is lost', async () => {
    const { patient, plan } = await seedPatient();
    let interfered = false;
    const racing = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      if (init?.method === 'PUT' && url.pathname.endsWith(`/CarePlan/${plan.id}`) && !interfered) {
        interfered = true;
        const current = await fhir.repo.readResource<CarePlan>('CarePlan', plan.id);
        await fhir.repo.updateResource<CarePlan>({ ...current, note: [{ text: 'Toegevoegd door de behandelaar' }] });
      }
      return fetch(input, init);
    }) as typeof fetch;
    const racer = new FhirEhrAdapter({ baseUrl: fhir.baseUrl, auth: { kind: 'none' }, intakeQuestionnaire: 'intake', fetch: racing });
    await racer.addTreatmentGoal(patient.id, { goalId: 'g-race', planId: plan.id, description: 'Beter slapen', addedBy: karen, at }, ctx);
    expect(interfered).toBe(true);
    const stored = await fhir.repo.readResource<CarePlan>('CarePlan', plan.id);
    expect(stored.note).toEqual([{ text: 'Toegevoegd door de behandelaar' }]);
    expect(stored.goal).toHaveLength(2);
    const puts = fhir.requests.filter((r) => r.method === 'PUT' && r.path === `CarePlan/${plan.id}`);
    expect(puts).toHaveLength(2);
  });

  test("removing the client's goal cancels it and takes it out of the plan; a practitioner's goal is refused", async () => {
    const { patient, plan, practitionerGoal } = await seedPatient();
    const added = await ehr.addTreatmentGoal(patient.id, { goalId: 'g-remove', planId: plan.id, description: 'Minder piekeren', addedBy: karen, at }, ctx);
    const goalId = added.done ? added.id! : '';
    await expect(ehr.removeTreatmentGoal(patient.id, { planId: plan.id, goalId, removedBy: karen, at }, ctx)).resolves.toEqual({ done: true });
    expect((await ehr.getTreatmentPlan(patient.id, ctx))?.goals.map((g) => g.description)).toEqual(['Weer vijf dagen werken']);
    expect((await fhir.repo.readResource<Goal>('Goal', goalId)).lifecycleStatus).toBe('cancelled');
    // Again (a retry): already gone.
    await expect(ehr.removeTreatmentGoal(patient.id, { planId: plan.id, goalId, removedBy: karen, at }, ctx)).resolves.toEqual({ done: true });
    await expect(ehr.removeTreatmentGoal(patient.id, { planId: plan.id, goalId: practitionerGoal.id, removedBy: karen, at }, ctx)).resolves.toMatchObject({
      done: false,
      refusal: 'NOT_CHANGEABLE',
    });
    expect((await fhir.repo.readResource<Goal>('Goal', practitionerGoal.id)).lifecycleStatus).toBe('active');
  });

  test('once the plan is approved its goals are fixed: adding and removing are refused, nothing changes', async () => {
    const { patient, plan } = await seedPatient();
    const added = await ehr.addTreatmentGoal(patient.id, { goalId: 'g-fixed', planId: plan.id, description: 'Weer sporten', addedBy: karen, at }, ctx);
    await ehr.approve(patient.id, { target: 'TREATMENT_PLAN', itemId: plan.id, by: karen, at }, ctx);
    await expect(
      ehr.removeTreatmentGoal(patient.id, { planId: plan.id, goalId: added.done ? added.id! : '', removedBy: karen, at }, ctx),
    ).resolves.toMatchObject({ done: false, refusal: 'NOT_CHANGEABLE' });
    await expect(
      ehr.addTreatmentGoal(patient.id, { goalId: 'g-late', planId: plan.id, description: 'Te laat', addedBy: karen, at }, ctx),
    ).resolves.toMatchObject({ done: false, refusal: 'NOT_CHANGEABLE' });
    expect((await ehr.getTreatmentPlan(patient.id, ctx))?.goals.map((g) => g.description)).toEqual(['Weer vijf dagen werken', 'Weer sporten']);
  });

  test('a consent is one Consent per client and topic: given, then withdrawn, it is updated in place', async () => {
    const { patient } = await seedPatient();
    const choice = { topic: 'share-gp', description: 'Gegevens delen met de huisarts', granted: true, by: karen, at };
    await expect(ehr.setConsent(patient.id, choice, ctx)).resolves.toMatchObject({ done: true });
    await expect(ehr.setConsent(patient.id, { ...choice, granted: false, at: '2026-04-12T08:00:00.000Z' }, ctx)).resolves.toMatchObject({ done: true });
    const consents = await all<Consent>('Consent', `patient=Patient/${patient.id}`);
    expect(consents).toHaveLength(1);
    expect(consents[0]).toMatchObject({
      identifier: [{ system: PORTAL_CONSENT_SYSTEM, value: 'share-gp' }],
      status: 'rejected',
      dateTime: '2026-04-12T08:00:00.000Z',
      provision: { type: 'deny' },
      patient: { reference: `Patient/${patient.id}` },
    });
  });

  test('questionnaire answers: saved and saved again in one response, sent once; a sent questionnaire is read-only', async () => {
    const { patient } = await seedPatient();
    const base = { assignmentId: 'as-1', questionnaire: 'https://ggz-noord.test/fhir/Questionnaire/phq9', by: karen, at };
    const answers = (value: string | null) => [
      { questionId: 'q1', question: 'Hoe slaapt u?', type: 'TEXT' as const, value: 'Slecht' },
      { questionId: 'q2', question: 'Somberheid (0-3)', type: 'SCALE' as const, value },
    ];
    await expect(ehr.saveQuestionnaireAnswers(patient.id, { ...base, status: 'IN_PROGRESS', answers: answers(null) }, ctx)).resolves.toMatchObject({
      done: true,
    });
    await expect(ehr.saveQuestionnaireAnswers(patient.id, { ...base, status: 'COMPLETED', answers: answers('2') }, ctx)).resolves.toMatchObject({ done: true });
    const [response, ...more] = await all<QuestionnaireResponse>('QuestionnaireResponse', `patient=Patient/${patient.id}`);
    expect(more).toHaveLength(0);
    expect(response).toMatchObject({
      status: 'completed',
      item: [
        { linkId: 'q1', answer: [{ valueString: 'Slecht' }] },
        { linkId: 'q2', answer: [{ valueInteger: 2 }] },
      ],
    });
    await expect(ehr.saveQuestionnaireAnswers(patient.id, { ...base, status: 'COMPLETED', answers: answers('2') }, ctx)).resolves.toMatchObject({ done: true });
    await expect(ehr.saveQuestionnaireAnswers(patient.id, { ...base, status: 'IN_PROGRESS', answers: answers('3') }, ctx)).resolves.toMatchObject({
      done: false,
      refusal: 'NOT_CHANGEABLE',
    });
    expect((await all<QuestionnaireResponse>('QuestionnaireResponse', `patient=Patient/${patient.id}`))[0]?.item?.[1]?.answer).toEqual([{ valueInteger: 2 }]);
  });
});

describe('a large upload filed as Binary + DocumentReference', () => {
  const upload = (documentId: string) => ({
    documentId,
    title: 'Verwijsbrief',
    fileName: 'verwijsbrief.pdf',
    mediaType: 'application/pdf',
    size: 64,
    content: async () => Readable.from([Buffer.from('%PDF-1.4 '.padEnd(64, 'x'))]),
    uploadedBy: { name: 'Karen Test', kind: 'CLIENT' as const },
    at: '2026-12-02T10:00:00.000Z',
  });

  function server(documentStatus: number) {
    const { calls, fetchFn } = fakeFhir({
      '/fhir/R4/DocumentReference': () =>
        calls.at(-1)!.method === 'GET'
          ? json(bundle([]))
          : json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] }, documentStatus),
      '/fhir/R4/Binary': () => json({ resourceType: 'Binary', id: 'bin-1' }, 201),
      '/fhir/R4/Binary/bin-1': () => new Response(null, { status: 204 }),
    });
    // Above 16 bytes an upload goes as a Binary of its own.
    return {
      ehr: adapter(fetchFn, { kind: 'none' }, { inlineAttachmentMaxBytes: 16 }),
      removed: () => calls.filter((c) => c.method === 'DELETE').map((c) => c.url.pathname),
    };
  }

  it('deletes the Binary again when the server refuses the DocumentReference outright (nothing points at it)', async () => {
    const { ehr, removed } = server(422);
    await expect(ehr.uploadDocument('p-1', upload('doc-1'), ctx)).rejects.toThrow(/422/);
    expect(removed()).toEqual(['/fhir/R4/Binary/bin-1']);
  });

  it('keeps the Binary when the DocumentReference may have been filed (a 5xx: the answer says nothing)', async () => {
    const { ehr, removed } = server(503);
    await expect(ehr.uploadDocument('p-1', upload('doc-2'), ctx)).rejects.toThrow(/503/);
    expect(removed()).toEqual([]);
  });
});
