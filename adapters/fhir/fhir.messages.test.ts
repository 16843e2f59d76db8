import type { Communication } from '@medplum/fhirtypes';
import { FhirEhrAdapter, PORTAL_CONVERSATION_SYSTEM, PORTAL_MESSAGE_SYSTEM } from './fhir.adapter';

const BASE = 'https://ehr.ggz-noord.test/fhir/R4';
const message = {
  messageId: 'm-1',
  conversationId: 'c-1',
  subject: 'Vraag over medicatie',
  body: 'Mag ik de dosis verlagen?',
  authorName: 'Karen Test',
  recipientPractitionerIds: ['pr-1', 'pr-2'],
  sentAt: '2026-11-23T09:00:00.000Z',
};

function server(status: number) {
  const calls: { method: string; path: string; headers: Record<string, string>; body?: string }[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    calls.push({
      method: init?.method ?? 'GET',
      path: url.pathname,
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? String(init.body) : undefined,
    });
    return new Response(JSON.stringify({ resourceType: 'Communication', id: 'x' }), { status, headers: { 'content-type': 'application/fhir+json' } });
  }) as typeof fetch;
  return { calls, adapter: new FhirEhrAdapter({ baseUrl: BASE, auth: { kind: 'bearer', token: 't0k' }, intakeQuestionnaire: 'intake', fetch: fetchFn }) };
}

test('a portal message is created as a Communication, conditional on its message id (idempotent resend)', async () => {
  const { calls, adapter } = server(201);
  await adapter.sendMessage('p-karen', message, { requestId: 'r' });
  expect(calls).toHaveLength(1);
  const call = calls[0];
  expect(call).toMatchObject({ method: 'POST', path: '/fhir/R4/Communication' });
  expect(call.headers['if-none-exist']).toBe(`identifier=${PORTAL_MESSAGE_SYSTEM}|m-1`);
  expect(call.headers['content-type']).toBe('application/fhir+json');
  expect(call.headers.authorization).toBe('Bearer t0k');
  const sent = JSON.parse(call.body!) as Communication;
  expect(sent).toMatchObject({
    resourceType: 'Communication',
    identifier: [{ system: PORTAL_MESSAGE_SYSTEM, value: 'm-1' }],
    status: 'completed',
    subject: { reference: 'Patient/p-karen' },
    sender: { display: 'Karen Test' },
    recipient: [{ reference: 'Practitioner/pr-1' }, { reference: 'Practitioner/pr-2' }],
    topic: { coding: [{ system: PORTAL_CONVERSATION_SYSTEM, code: 'c-1' }], text: 'Vraag over medicatie' },
    sent: '2026-11-23T09:00:00.000Z',
    payload: [{ contentString: 'Mag ik de dosis verlagen?' }],
  });
});

test('an existing Communication (200 on the conditional create) counts as delivered; a server error is thrown for the outbox to retry', async () => {
  await expect(server(200).adapter.sendMessage('p', message, { requestId: 'r' })).resolves.toBeUndefined();
  await expect(server(503).adapter.sendMessage('p', message, { requestId: 'r' })).rejects.toThrow(/503/);
});
