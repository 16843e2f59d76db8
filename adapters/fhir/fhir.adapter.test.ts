import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FhirEhrAdapter, fhirAuthFrom, type FhirAuth } from './fhir.adapter';

/** A scripted FHIR server: answers by path, records every request with its headers. */
function fakeFhir(routes: Record<string, (url: URL) => Response | Promise<Response>>) {
  const calls: { url: URL; method: string; headers: Record<string, string>; body?: string }[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    calls.push({ url, method: init?.method ?? 'GET', headers: (init?.headers ?? {}) as Record<string, string>, body: init?.body ? String(init.body) : undefined });
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

function adapter(fetchFn: typeof fetch, auth: FhirAuth = { kind: 'none' }, extra: { pageSize?: number } = {}) {
  return new FhirEhrAdapter({ baseUrl: BASE, auth, intakeQuestionnaire: 'intake', fetch: fetchFn, ...extra });
}

test('a search follows Bundle.link next until the last page', async () => {
  const appointment = (id: string, day: number) => ({
    resourceType: 'Appointment' as const,
    id,
    status: 'booked' as const,
    start: `2026-12-0${day}T09:00:00Z`,
    end: `2026-12-0${day}T09:45:00Z`,
    participant: [{ actor: { reference: 'Patient/p1' }, status: 'accepted' as const }, { actor: { reference: 'Practitioner/pr1' }, status: 'accepted' as const }],
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
  expect(calls[0]!.url.searchParams.get('patient')).toBe('Patient/p1');
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
      json(bundle([{ resourceType: 'Practitioner', id: 'pr1', name: [{ text: 'Dr. Marieke de Groot' }] }, { resourceType: 'Practitioner', id: 'pr2', name: [{ given: ['Jeroen'], family: 'Bakker' }] }])),
  });
  const found = await adapter(fetchFn).getPractitioners(['pr1', 'pr2', 'pr1', 'pr-gone'], ctx);
  expect(found.map((p) => p.name)).toEqual(['Dr. Marieke de Groot', 'Jeroen Bakker']);
  expect(calls).toHaveLength(1);
  expect(calls[0]!.url.searchParams.get('_id')).toBe('pr1,pr2,pr-gone');
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
          { resourceType: 'ServiceRequest', id: 's1', status: 'completed', intent: 'order', subject: { reference: 'Patient/p1' }, reasonCode: [{ text: 'Paniekaanvallen' }] },
        ]),
      ),
    '/fhir/R4/Condition': () => json(bundle([{ resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { text: 'Paniekstoornis' } }])),
  });
  const overview = await adapter(fetchFn).getDossierOverview('p1', ctx);
  expect(overview).toMatchObject({ dossierNumber: 'DOS-1', diagnosis: 'Paniekstoornis', registrationReason: 'Paniekaanvallen' });
  expect(calls.map((c) => c.url.pathname)).toEqual(['/fhir/R4/EpisodeOfCare', '/fhir/R4/Condition']);
  expect(calls[0]!.url.searchParams.getAll('_include')).toEqual(['EpisodeOfCare:condition', 'EpisodeOfCare:incoming-referral']);
  expect(calls[1]!.url.searchParams.get('_id')).toBe('c1');
});

test('FHIR_AUTH bearer:<token> sends that token on every request', async () => {
  const { calls, fetchFn } = fakeFhir({ '/fhir/R4/metadata': () => json({ resourceType: 'CapabilityStatement' }) });
  await adapter(fetchFn, fhirAuthFrom({ FHIR_AUTH: 'bearer:abc.def' })).ping();
  expect(calls[0]!.headers.authorization).toBe('Bearer abc.def');
  expect(calls[0]!.url.pathname).toBe('/fhir/R4/metadata');
});

test('client_credentials: one token request, cached until shortly before expiry, shared by concurrent calls', async () => {
  let issued = 0;
  const { calls, fetchFn } = fakeFhir({
    '/oauth2/token': () => new Response(JSON.stringify({ access_token: `tok-${++issued}`, token_type: 'Bearer', expires_in: 3600 }), { headers: { 'content-type': 'application/json' } }),
    '/fhir/R4/metadata': () => json({ resourceType: 'CapabilityStatement' }),
  });
  const auth = fhirAuthFrom({ FHIR_AUTH: 'client_credentials', FHIR_TOKEN_URL: 'https://ehr.ggz-noord.test/oauth2/token', FHIR_CLIENT_ID: 'portal', FHIR_CLIENT_SECRET: 's3cret' });
  const fhir = adapter(fetchFn, auth);
  await Promise.all([fhir.ping(), fhir.ping(), fhir.ping()]);
  await fhir.ping();
  const tokenCalls = calls.filter((c) => c.url.pathname === '/oauth2/token');
  expect(tokenCalls).toHaveLength(1);
  expect(tokenCalls[0]!.method).toBe('POST');
  expect(tokenCalls[0]!.body).toBe('grant_type=client_credentials');
  expect(tokenCalls[0]!.headers.authorization).toBe(`Basic ${Buffer.from('portal:s3cret').toString('base64')}`);
  expect(calls.filter((c) => c.url.pathname === '/fhir/R4/metadata').every((c) => c.headers.authorization === 'Bearer tok-1')).toBe(true);
});

test('client_credentials: a 401 drops the cached token, so the next attempt fetches a fresh one', async () => {
  let issued = 0;
  let reject = true;
  const { fetchFn, calls } = fakeFhir({
    '/oauth2/token': () => new Response(JSON.stringify({ access_token: `tok-${++issued}`, expires_in: 3600 })),
    '/fhir/R4/metadata': () => (reject ? ((reject = false), json({ resourceType: 'OperationOutcome', issue: [] }, 401)) : json({ resourceType: 'CapabilityStatement' })),
  });
  const fhir = adapter(fetchFn, { kind: 'client_credentials', tokenUrl: 'https://ehr.ggz-noord.test/oauth2/token', clientId: 'portal', clientSecret: 's3cret' });
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
          { resourceType: 'RelatedPerson', id: 'rp1', patient: { reference: 'Patient/kid1' }, identifier: [bsn], relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH' }] }] },
          { resourceType: 'RelatedPerson', id: 'rp2', patient: { reference: 'Patient/kid2' }, identifier: [bsn], relationship: [{ text: 'buurvrouw' }] },
          { resourceType: 'Patient', id: 'kid1', name: [{ given: ['Daan'], family: 'de Vries' }], birthDate: '2012-09-01' },
        ]),
      ),
  });
  const children = await adapter(fetchFn).findChildrenOfParent('999990044', ctx);
  expect(children).toEqual([{ externalId: 'kid1', name: 'Daan de Vries', birthDate: '2012-09-01', gender: null }]);
  expect(calls).toHaveLength(1);
  // Searched by POST: the BSN travels in the body, never in a URL that proxies and servers log.
  expect(calls[0]!.method).toBe('POST');
  expect(calls[0]!.url.href).not.toContain('999990044');
  expect(new URLSearchParams(calls[0]!.body).get('identifier')).toBe('http://fhir.nl/fhir/NamingSystem/bsn|999990044');
});

test('a document of another client is not served', async () => {
  const { fetchFn } = fakeFhir({
    '/fhir/R4/DocumentReference/d1': () =>
      json({ resourceType: 'DocumentReference', id: 'd1', status: 'current', subject: { reference: 'Patient/someone-else' }, content: [{ attachment: { contentType: 'application/pdf', data: 'JVBERi0=' } }] }),
  });
  await expect(adapter(fetchFn).getDocumentContent('p1', 'd1', ctx)).resolves.toBeNull();
});

test('an attachment URL on another host is fetched without our token', async () => {
  const { calls, fetchFn } = fakeFhir({
    '/fhir/R4/DocumentReference/d1': () =>
      json({ resourceType: 'DocumentReference', id: 'd1', status: 'current', subject: { reference: 'Patient/p1' }, content: [{ attachment: { contentType: 'application/pdf', title: 'Brief.pdf', url: 'https://files.other.test/brief.pdf' } }] }),
    '/brief.pdf': () => new Response(Buffer.from('%PDF-1.4'), { headers: { 'content-type': 'application/pdf' } }),
  });
  const content = await adapter(fetchFn, { kind: 'bearer', token: 't0k' }).getDocumentContent('p1', 'd1', ctx);
  expect(content?.name).toBe('Brief.pdf');
  expect(calls[0]!.headers.authorization).toBe('Bearer t0k');
  expect(calls[1]!.headers.authorization).toBeUndefined();
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
  const fhir = adapter(fetchFn, { kind: 'client_credentials', tokenUrl: 'https://ehr.ggz-noord.test/oauth2/token', clientId: 'portal', clientSecret: 's3cret' });
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
  const fhir = adapter(fetchFn, { kind: 'client_credentials', tokenUrl: 'https://ehr.ggz-noord.test/oauth2/token', clientId: 'portal', clientSecret: 's3cret' });
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
              participant: [{ actor: { reference: 'Practitioner/pr1' }, status: 'accepted' }, { actor: { reference: 'Location/l1', display: 'Groningen, Spreekkamer 3' }, status: 'accepted' }],
            },
          },
          {
            search: { mode: 'include' },
            resource: { resourceType: 'DocumentReference', id: 'r1', status: 'current', category: [{ text: 'verslag' }], content: [], context: { related: [{ reference: 'Appointment/a1' }] } },
          },
        ],
      }),
  });
  const [appointment] = await adapter(fetchFn).listAppointments('p1', { from: '2026-04-01T00:00:00Z' }, ctx);
  expect(appointment).toMatchObject({ externalId: 'a1', reportId: 'r1', location: 'Groningen, Spreekkamer 3' });
  expect(calls).toHaveLength(1);
  expect(calls[0]!.url.searchParams.getAll('_revinclude')).toEqual(['DocumentReference:related']);
  expect(calls[0]!.url.searchParams.getAll('date')).toEqual(['ge2026-04-01T00:00:00Z']);
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
  const provenance = (target: string, who: string, recorded: string) => ({ resourceType: 'Provenance' as const, target: [{ reference: target }], recorded, activity: AKKOORD, agent: [{ who: { reference: who } }] });

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
    expect(calls[0]!.url.searchParams.getAll('_revinclude')).toEqual(['Provenance:target']);
  });

  test('a server that ignores _revinclude costs one Provenance search by POST, for the listed documents only', async () => {
    const { calls, fetchFn } = fakeFhir({
      '/fhir/R4/DocumentReference': () => json(bundle([doc('d1', 'brief', 'final'), doc('d2', 'behandelovereenkomst', 'final'), doc('d3', 'brief', 'final', 'superseded'), doc('r1', 'verslag', 'final')])),
      '/fhir/R4/Provenance/_search': () => json(bundle([provenance('DocumentReference/d2', 'RelatedPerson/rp1', '2026-03-14T09:05:00Z'), provenance('DocumentReference/d1', 'Practitioner/pr1', '2026-03-15T09:00:00Z')])),
    });
    const docs = await adapter(fetchFn).listDocuments('p1', ctx);
    expect(docs.map((d) => [d.externalId, d.approvedAt])).toEqual([
      ['d1', null],
      ['d2', '2026-03-14T09:05:00.000Z'],
    ]);
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual(['GET /fhir/R4/DocumentReference', 'POST /fhir/R4/Provenance/_search']);
    expect(new URLSearchParams(calls[1]!.body).get('target')).toBe('DocumentReference/d1,DocumentReference/d2');
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
    });
    await expect(adapter(fetchFn).getTreatmentPlan('p1', ctx)).resolves.toMatchObject({ externalId: 'cp2', status: 'APPROVED', approvedAt: '2026-04-03T17:12:00.000Z' });
    expect(calls.map((c) => c.url.pathname)).toEqual(['/fhir/R4/CarePlan', '/fhir/R4/Provenance/_search']);
    expect(calls[0]!.url.searchParams.getAll('_revinclude')).toEqual(['Provenance:target']);
    expect(new URLSearchParams(calls[1]!.body).get('target')).toBe('CarePlan/cp2');

    status = 'on-hold';
    calls.length = 0;
    await expect(adapter(fetchFn).getTreatmentPlan('p1', ctx)).resolves.toMatchObject({ status: 'AWAITING_APPROVAL', approvedAt: null });
    expect(calls.map((c) => c.url.pathname)).toEqual(['/fhir/R4/CarePlan']);
  });
});
