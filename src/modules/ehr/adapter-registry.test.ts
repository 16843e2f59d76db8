import type { EhrAdapter } from '../../../adapters/ports';
import { UpstreamUnavailableError } from '../../graphql/errors';
import { createLogger } from '../../observability/logger';
import { Metrics } from '../../observability/metrics';
import { AdapterRegistry, type ResilienceOptions } from './adapter-registry';

const options: ResilienceOptions = { timeoutMs: 100, retries: 2, breakerThreshold: 3, halfOpenAfterMs: 60_000, concurrency: 10 };

function registryWith(options: ResilienceOptions) {
  const metrics = new Metrics();
  const registry = new AdapterRegistry([{ name: 'ehr', ping: async () => undefined } as unknown as EhrAdapter], options, metrics, createLogger('silent'));
  const count = async (outcome: string) =>
    (await metrics.adapterCalls.get()).values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
  return { registry, metrics, count };
}

/** An upstream that never answers but notices when it is told to stop. */
function hanging(signals: AbortSignal[]) {
  return (_adapter: EhrAdapter, signal: AbortSignal) => {
    signals.push(signal);
    return new Promise<never>(() => undefined);
  };
}

describe('AdapterRegistry', () => {
  it('gives up on an upstream that does not answer within the timeout, retrying reads, and tells the upstream to stop', async () => {
    const { registry, count } = registryWith(options);
    const signals: AbortSignal[] = [];
    const started = Date.now();
    await expect(registry.call('ehr', 'listAppointments', hanging(signals))).rejects.toBeInstanceOf(UpstreamUnavailableError);
    // One attempt and two retries, each cut off after 100 ms (plus backoff), not left hanging.
    expect(signals).toHaveLength(3);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await count('timeout')).toBe(1);
    await registry.close();
  });

  it('does not retry a write that timed out (it may have gone through), and answers an upstream that is in time', async () => {
    const { registry, count } = registryWith(options);
    const signals: AbortSignal[] = [];
    await expect(registry.call('ehr', 'sendMessage', hanging(signals), 'write')).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(signals).toHaveLength(1);
    let seen: AbortSignal | undefined;
    const answer = await registry.call('ehr', 'listMedications', async (_a, signal) => {
      seen = signal;
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
    expect(signals[0]!.aborted).toBe(true);
  });

  it('answers UPSTREAM_UNAVAILABLE for an adapter this gateway does not load', async () => {
    const { registry } = registryWith(options);
    await expect(registry.call('elsewhere', 'getClient', async () => 'x')).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    await registry.close();
  });
});
