import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { EVA_BSN, INTAKE_QUESTIONNAIRE, seedGgzClient } from './utils/fhir-ggz-seed';
import { startFhirServer, type TestFhirServer } from './utils/fhir-server';

const SCREEN = 'query Screen($id: ID!) { client(id: $id) { appointments(when: ALL) { id practitioner { name } } dossier { medications { name } } } }';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

/**
 * Traces for operators (OpenTelemetry API): the caller's traceparent is taken in, the operation,
 * each adapter call and each access-log write are spans under it, and the FHIR server gets the
 * trace with every request; with no SDK the caller's trace is passed on as it came.
 */
describe('traces through the gateway to the FHIR server', () => {
  let fhir: TestFhirServer;
  let t: TestApp;
  let token: string;
  let clientId: string;
  beforeAll(async () => {
    fhir = await startFhirServer();
    await seedGgzClient(fhir.repo);
    t = await startTestApp({
      env: { EHR_ADAPTERS: 'fhir', FHIR_BASE_URL: fhir.baseUrl, FHIR_INTAKE_QUESTIONNAIRE: INTAKE_QUESTIONNAIRE, DEMO_SEED: '0', LOG_LEVEL: 'error' },
    });
    token = await t.login({ bsn: EVA_BSN });
    [clientId] = await portalIds(t, token);
  });
  afterAll(async () => {
    trace.disable();
    await t?.stop();
    await fhir?.stop();
  });

  const ask = (headers: Record<string, string>) =>
    fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ operationName: 'Screen', query: SCREEN, variables: { id: clientId } }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { errors?: unknown } }));

  it('without an SDK passes the caller’s trace on to the FHIR server as it came, and sends none when the caller sent none', async () => {
    const seen = fhir.requests.length;
    expect((await ask({ traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` })).body.errors).toBeUndefined();
    const traced = fhir.requests.slice(seen);
    expect(traced.length).toBeGreaterThan(0);
    expect(traced.every((r) => r.traceparent === `00-${TRACE_ID}-${CALLER_SPAN}-01`)).toBe(true);

    const before = fhir.requests.length;
    expect((await ask({})).body.errors).toBeUndefined();
    expect(fhir.requests.slice(before).some((r) => r.traceparent)).toBe(false);
  });

  it('with an SDK records the operation under the caller’s span, each adapter call and access-log write under it, and the FHIR server continues each call’s span', async () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const seen = fhir.requests.length;
    expect((await ask({ traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` })).body.errors).toBeUndefined();
    // The operation's span ends once the answer is written.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const spans = exporter.getFinishedSpans();
    const operation = spans.find((s) => s.name === 'graphql')!;
    expect(operation).toBeDefined();
    expect(operation.spanContext().traceId).toBe(TRACE_ID);
    expect(operation.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(operation.attributes['graphql.operation.name']).toBe('Screen');
    const calls = spans.filter((s) => s.name.startsWith('ehr fhir.'));
    expect(calls.map((s) => s.name)).toEqual(expect.arrayContaining(['ehr fhir.listAppointments', 'ehr fhir.getPractitioners']));
    for (const call of calls) {
      expect(call.spanContext().traceId).toBe(TRACE_ID);
      expect(call.parentSpanContext?.spanId).toBe(operation.spanContext().spanId);
    }
    const logged = spans.filter((s) => s.name === 'access-log write');
    expect(logged.map((s) => s.attributes['ggz.access_log.event_type'])).toEqual(expect.arrayContaining(['agenda.read']));
    expect(logged.every((s) => s.parentSpanContext?.spanId === operation.spanContext().spanId)).toBe(true);
    // Each FHIR request carries the span of the adapter call it belongs to.
    const callIds = new Set(calls.map((s) => s.spanContext().spanId));
    const sent = fhir.requests.slice(seen);
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      const [, traceId, parent] = r.traceparent!.split('-');
      expect(traceId).toBe(TRACE_ID);
      expect(callIds.has(parent)).toBe(true);
    }
  });
});
