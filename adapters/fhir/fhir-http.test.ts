import type { Bundle } from '@medplum/fhirtypes';
import { readPages, TokenCache } from './fhir-http';

describe('one access token per server (TokenCache)', () => {
  it('fetches once for callers at the same time, keeps it until shortly before it expires, and fetches again after invalidate', async () => {
    let fetched = 0;
    const tokens = new TokenCache(async () => ({ token: `t${++fetched}`, lifetimeSeconds: 300 }));
    expect(await Promise.all([tokens.get(), tokens.get(), tokens.get()])).toEqual(['t1', 't1', 't1']);
    expect(await tokens.get()).toBe('t1');
    tokens.invalidate();
    expect(await tokens.get()).toBe('t2');
    // A token that expires within the margin (30 s) is not handed out.
    const short = new TokenCache(async () => ({ token: `s${++fetched}`, lifetimeSeconds: 20 }));
    expect(await short.get()).not.toBe(await short.get());
  });

  it('lets a caller that gives up stop waiting, while the others still get the token', async () => {
    let answer!: (token: { token: string; lifetimeSeconds: number }) => void;
    const tokens = new TokenCache(() => new Promise((resolve) => (answer = resolve)));
    const impatient = new AbortController();
    const first = tokens.get(impatient.signal);
    const second = tokens.get();
    impatient.abort(new Error('the caller gave up'));
    await expect(first).rejects.toThrow('the caller gave up');
    answer({ token: 't', lifetimeSeconds: 300 });
    await expect(second).resolves.toBe('t');
  });
});

describe('a search’s pages (readPages)', () => {
  const base = new URL('http://fhir.test/r4/');
  const page = (n: number, next?: string): Bundle => ({
    resourceType: 'Bundle',
    type: 'searchset',
    id: `p${n}`,
    link: next ? [{ relation: 'next', url: next }] : [],
  });

  it('follows next links up to the limit and says whether that was all', async () => {
    const load = async (url: URL) => page(Number(url.searchParams.get('p') ?? 0), `http://fhir.test/r4/Task?p=${Number(url.searchParams.get('p') ?? 0) + 1}`);
    const two = await readPages(new URL('Task', base), base, 2, load);
    expect(two).toMatchObject({ complete: false, bundles: [{ id: 'p0' }, { id: 'p1' }] });
    const last = await readPages(new URL('Task', base), base, 5, async (url) => (url.searchParams.get('p') ? page(1) : page(0, 'Task?p=1')));
    expect(last).toMatchObject({ complete: true, bundles: [{ id: 'p0' }, { id: 'p1' }] });
  });

  it('never follows a next link to another server (it would take the token along)', async () => {
    await expect(readPages(new URL('Task', base), base, 5, async () => page(0, 'http://elsewhere.test/r4/Task?p=1'))).rejects.toThrow(/another origin/);
  });
});
