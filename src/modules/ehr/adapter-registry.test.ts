import type { EhrAdapter } from '../../../adapters/ports';
import { UpstreamUnavailableError } from '../../errors';
import { createLogger } from '../../observability/logger';
import { Metrics } from '../../observability/metrics';
import { AdapterAttempt, AdapterRegistry, type ResilienceOptions } from './adapter-registry';

const options: ResilienceOptions = { deadlineMs: 10_000, timeoutMs: 100, retries: 2, breakerThreshold: 3, halfOpenAfterMs: 60_000, concurrency: 10 };

function registryWith(options: ResilienceOptions) {
  const metrics = new Metrics();
  const registry = new AdapterRegistry([{ name: 'ehr', ping: async () => undefined } as unknown as EhrAdapter], options, metrics, createLogger('silent'));
  const count = async (outcome: string) =>
    (await metrics.adapterCalls.get()).values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
  return { registry, metrics, count };
}

/** An upstream that never answers but notices when it is told to stop. */
function hanging(signals: AbortSignal[]) {
  return (_adapter: EhrAdapter, attempt: AdapterAttempt) => {
    signals.push(attempt.context({ requestId: 'test' }).signal!);
    return new Promise<never>(() => undefined);
  };
}

describe('AdapterRegistry', () => {
  it('gives up on an upstream that does not answer within the timeout, without trying again (it is slow, not gone), and tells it to stop', async () => {
    const { registry, count } = registryWith(options);
    const signals: AbortSignal[] = [];
    const started = Date.now();
    await expect(registry.call('ehr', 'listAppointments', hanging(signals))).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await count('timeout')).toBe(1);
    await registry.close();
  });

  it('gives an adapter that reads its signal only after the deadline an aborted one, with the reason', async () => {
    const { registry } = registryWith({ ...options, retries: 0 });
    let late: AdapterAttempt | undefined;
    await expect(
      registry.call('ehr', 'listAppointments', (_a, attempt) => {
        late = attempt;
        return new Promise<never>(() => undefined);
      }),
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
    const signal = late!.context({ requestId: 'test' }).signal!;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toMatch(/timed out after 100ms/);
    await registry.close();
  });

  it('tries a read again only when that may help: a refused connection or a 503, not a 404 or a 400', async () => {
    const { registry } = registryWith({ ...options, breakerThreshold: 100 });
    const failing = (err: Error) => {
      let reached = 0;
      return {
        fn: async () => {
          reached++;
          throw err;
        },
        reached: () => reached,
      };
    };
    const refused = failing(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
    await expect(registry.call('ehr', 'getClient', refused.fn)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(refused.reached()).toBe(3);
    const unavailable = failing(Object.assign(new Error('FHIR server answered 503'), { status: 503 }));
    await expect(registry.call('ehr', 'getClient', unavailable.fn)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(unavailable.reached()).toBe(3);
    for (const status of [400, 404, 422]) {
      const refusedByIt = failing(Object.assign(new Error(`FHIR server answered ${status}`), { status }));
      await expect(registry.call('ehr', 'getClient', refusedByIt.fn)).rejects.toBeInstanceOf(UpstreamUnavailableError);
      expect([status, refusedByIt.reached()]).toEqual([status, 1]);
    }
    await registry.close();
  });

  it('keeps all attempts of a read within its deadline, waits between them included', async () => {
    const { registry } = registryWith({ ...options, timeoutMs: 1000, deadlineMs: 300, retries: 10, breakerThreshold: 100 });
    let reached = 0;
    const started = Date.now();
    const slowThenRefused = async () => {
      reached++;
      await new Promise((r) => setTimeout(r, 120));
      throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    };
    await expect(registry.call('ehr', 'getClient', slowThenRefused)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(Date.now() - started).toBeLessThan(450);
    expect(reached).toBeLessThanOrEqual(3);
    await registry.close();
  });

  it('fails at once while the circuit is open (no retries of the open-circuit error), and tries the upstream again after the half-open wait', async () => {
    const { registry } = registryWith({ ...options, breakerThreshold: 2, halfOpenAfterMs: 300 });
    let up = false;
    let reached = 0;
    const upstream = async () => {
      reached++;
      if (!up) throw Object.assign(new Error('503'), { status: 503 });
      return 'ok';
    };
    await expect(registry.call('ehr', 'getClient', upstream)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(registry.health().ehr.state).toBe('open');
    const before = reached;
    const started = Date.now();
    await expect(registry.call('ehr', 'getClient', upstream)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(Date.now() - started).toBeLessThan(30);
    expect(reached).toBe(before);
    up = true;
    await new Promise((r) => setTimeout(r, 350));
    await expect(registry.call('ehr', 'getClient', upstream)).resolves.toBe('ok');
    expect(registry.health().ehr).toMatchObject({ state: 'closed', lastOk: expect.any(String) });
    await registry.close();
  });

  it('does not retry a write that timed out (it may have gone through), and answers an upstream that is in time', async () => {
    const { registry, count } = registryWith(options);
    const signals: AbortSignal[] = [];
    await expect(registry.call('ehr', 'sendMessage', hanging(signals), 'write')).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(signals).toHaveLength(1);
    let seen: AbortSignal | undefined;
    const answer = await registry.call('ehr', 'listMedications', async (_a, attempt) => {
      seen = attempt.signal;
      await new Promise((r) => setTimeout(r, 20));
      return ['ok'];
    });
    expect(answer).toEqual(['ok']);
    // A call that answered in time is not aborted afterwards (a stream it returned may still be read).
    await new Promise((r) => setTimeout(r, 150));
    expect(seen?.aborted).toBe(false);
    expect(await count('ok')).toBe(1);
    await registry.close();
  });

  it('opens the circuit after consecutive failures: later calls fail at once without reaching the upstream', async () => {
    const { registry, count } = registryWith({ ...options, retries: 0 });
    let reached = 0;
    const failing = async () => {
      reached++;
      throw new Error('503 from the EHR');
    };
    for (let i = 0; i < 3; i++) await expect(registry.call('ehr', 'getClient', failing)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    await expect(registry.call('ehr', 'getClient', failing)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(reached).toBe(3);
    expect(await count('circuit_open')).toBe(1);
    await registry.close();
  });

  it('cancels the calls under way when the gateway shuts down, instead of waiting for their timeout', async () => {
    const { registry } = registryWith({ ...options, timeoutMs: 60_000 });
    const signals: AbortSignal[] = [];
    const call = registry.call('ehr', 'listDocuments', hanging(signals));
    await new Promise((r) => setImmediate(r));
    const started = Date.now();
    await registry.close();
    await expect(call).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
  });

  it('answers UPSTREAM_UNAVAILABLE for an adapter this gateway does not load', async () => {
    const { registry } = registryWith(options);
    await expect(registry.call('elsewhere', 'getClient', async () => 'x')).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    await registry.close();
  });
});
