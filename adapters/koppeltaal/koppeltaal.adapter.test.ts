import { generateKeyPairSync } from 'node:crypto';
import type { Bundle, Task } from '@medplum/fhirtypes';
import { KoppeltaalFhirAdapter } from './koppeltaal.adapter';

/** A Koppeltaal server that pages its Task search as a FHIR server does (`_count`, `_offset`, a `next` link), and a token endpoint. */
function domainWith(tasks: Task[]) {
  const searches: URL[] = [];
  const fetchFn = (async (input: string | URL | Request) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    if (url.pathname === '/token') return new Response(JSON.stringify({ access_token: 'token', expires_in: 300 }), { status: 200 });
    if (url.pathname !== '/fhir/Task') return new Response('{}', { status: 404 });
    searches.push(url);
    const since = url.searchParams.get('_lastUpdated')!.slice(2);
    const count = Number(url.searchParams.get('_count'));
    const offset = Number(url.searchParams.get('_offset') ?? 0);
    const matching = tasks.filter((t) => t.meta!.lastUpdated! >= since).sort((a, b) => a.meta!.lastUpdated!.localeCompare(b.meta!.lastUpdated!));
    const next = new URL(url);
    next.searchParams.set('_offset', String(offset + count));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: matching.slice(offset, offset + count).map((resource) => ({ resource, search: { mode: 'match' } })),
      link: offset + count < matching.length ? [{ relation: 'next', url: next.toString() }] : [],
    };
    return new Response(JSON.stringify(bundle), { status: 200, headers: { 'content-type': 'application/fhir+json' } });
  }) as typeof fetch;
  return { searches, fetchFn };
}

const task = (n: number): Task => ({
  resourceType: 'Task',
  id: `task-${n}`,
  status: 'requested',
  intent: 'order',
  for: { reference: 'Patient/p-1' },
  meta: { lastUpdated: new Date(Date.UTC(2026, 11, 1, 9, 0, n)).toISOString() },
});

const adapterOn = (fetchFn: typeof fetch, extra: { pageSize?: number; maxPages?: number; retries?: number } = {}) =>
  new KoppeltaalFhirAdapter({
    baseUrl: 'http://koppeltaal.test/fhir',
    auth: {
      tokenUrl: 'http://koppeltaal.test/token',
      clientId: 'portal',
      privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      keyId: 'k1',
      algorithm: 'ES256',
    },
    patientIdentifierSystem: 'urn:test',
    ehrSource: 'demo',
    resilience: { timeoutMs: 2000, retries: extra.retries ?? 0, breakerThreshold: 5, halfOpenAfterMs: 1000, concurrency: 4 },
    fetch: fetchFn,
    pageSize: extra.pageSize,
    maxPages: extra.maxPages,
  });

describe('Koppeltaal adapter retries', () => {
  it('tries again after a socket the server closed (undici’s UND_ERR_SOCKET), as the EHR registry does', async () => {
    const { fetchFn } = domainWith([task(1)]);
    let failures = 1;
    const flaky = (async (input: string | URL | Request, init?: RequestInit) => {
      if (String(input).includes('/fhir/Task') && failures-- > 0) throw Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
      return fetchFn(input, init);
    }) as typeof fetch;
    const answer = await adapterOn(flaky, { retries: 2 }).changedTasks('2026-12-01T09:00:00.000Z', { requestId: 'test' });
    expect(answer).toMatchObject({ complete: true, tasks: [{ id: 'task-1' }] });
  });
});

describe('Koppeltaal changed Tasks, more than one answer holds', () => {
  it('answers the oldest pages with complete: false, and the rest when asked again from the newest one’s time', async () => {
    const { searches, fetchFn } = domainWith([5, 1, 4, 2, 3].map(task));
    const adapter = adapterOn(fetchFn, { pageSize: 2, maxPages: 1 });
    const ctx = { requestId: 'test' };
    const first = await adapter.changedTasks('2026-12-01T09:00:00.000Z', ctx);
    expect(first).toMatchObject({ complete: false, tasks: [{ id: 'task-1' }, { id: 'task-2' }] });
    expect(searches[0].searchParams.get('_sort')).toBe('_lastUpdated');
    const second = await adapter.changedTasks(first.tasks.at(-1)!.updatedAt!, ctx);
    expect(second).toMatchObject({ complete: false, tasks: [{ id: 'task-2' }, { id: 'task-3' }] });
    const last = await adapter.changedTasks('2026-12-01T09:00:04.000Z', ctx);
    expect(last).toEqual({ complete: true, tasks: [expect.objectContaining({ id: 'task-4' }), expect.objectContaining({ id: 'task-5' })] });
  });
});
