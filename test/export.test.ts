import { validateResource } from '@medplum/core';
import type { Bundle, CareTeam, Communication, MedicationStatement, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { DEMO_BSN } from '../adapters/demo/demo-data';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import type { AdapterRequestContext, EhrMedication } from '../adapters/ports';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { indexR4Definitions } from './utils/fhir-server';

/** The EHR answers everything but the medication list (an outage of one part). */
class NoMedications extends DemoEhrAdapter {
  down = false;
  override async listMedications(clientId: string, ctx: AdapterRequestContext): Promise<EhrMedication[]> {
    if (this.down) throw Object.assign(new Error('503 from the EHR (simulated)'), { status: 503 });
    return super.listMedications(clientId, ctx);
  }
}

/** GET /export: the client's dossier as a FHIR R4 Bundle (AVG art. 20), validated entry by entry with Medplum's validator. */
describe('the dossier export (GET /export)', () => {
  let t: TestApp;
  let token: string;
  let karenId: string;
  const ehr = new NoMedications();
  beforeAll(async () => {
    indexR4Definitions();
    t = await startTestApp({ adapters: { demo: ehr }, env: { CACHE_TTL_SECONDS: '0', ADAPTER_RETRIES: '0', ADAPTER_BREAKER_THRESHOLD: '100' } });
    token = await t.login('client@demo.test');
    [karenId] = await portalIds(t, token);
  });
  afterAll(async () => t.stop());

  const exportOf = (clientId: string, as: string | null = token) =>
    fetch(`${t.base}/export?clientId=${encodeURIComponent(clientId)}`, { headers: as ? { authorization: `Bearer ${as}` } : {} });
  const exports = async () => (await t.app.services.audit.list(karenId, 200)).filter((e) => e.eventType === 'dossier.export');

  it('hands the client everything the portal shows of the dossier as valid FHIR R4, with the portal’s own records, no BSN, and logs the export', async () => {
    const posted = await t.gql(
      'mutation($c: ID!) { startConversation(clientId: $c, subject: "Vraag", recipientIds: ["demo:pr-bakker"], body: "Kan de afspraak later?") { id } }',
      { c: karenId },
      token,
    );
    expect(posted.body.errors).toBeUndefined();
    expect(
      (await t.gql('mutation($c: ID!) { addDiaryEntry(clientId: $c, text: "Rustige dag gehad.") { id } }', { c: karenId }, token)).body.errors,
    ).toBeUndefined();
    const medications = (await t.gql('query($id: ID!) { client(id: $id) { dossier { medications { name } } } }', { id: karenId }, token)).body.data.client
      .dossier.medications as { name: string }[];

    const res = await exportOf(karenId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="dossier-\d{4}-\d{2}-\d{2}\.json"$/);
    const text = await res.text();
    expect(text).not.toContain(DEMO_BSN.karen);
    const bundle = JSON.parse(text) as Bundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const resources = bundle.entry!.map((e) => e.resource!) as Resource[];
    for (const resource of resources) expect(() => validateResource(resource)).not.toThrow();
    const of = <T extends Resource>(type: T['resourceType']) => resources.filter((r): r is T => r.resourceType === type);
    expect(of<Patient>('Patient')).toEqual([expect.objectContaining({ name: [{ text: 'Karen Test' }], birthDate: '1988-04-12', gender: 'female' })]);
    expect(
      of<MedicationStatement>('MedicationStatement')
        .map((m) => m.medicationCodeableConcept?.text)
        .sort(),
    ).toEqual(medications.map((m) => m.name).sort());
    for (const type of ['CarePlan', 'Goal', 'CareTeam', 'Appointment', 'DocumentReference', 'AllergyIntolerance', 'Condition'] as const)
      expect(of(type).length).toBeGreaterThan(0);
    expect(of<Communication>('Communication').some((c) => c.payload?.[0]?.contentString === 'Kan de afspraak later?')).toBe(true);
    // The treatment team names each member with their profession, as the portal shows them.
    expect(of<CareTeam>('CareTeam')[0].participant?.map((p) => p.member?.display)).toContain('Dr. Marieke de Groot (Psychiater)');
    expect(of<Observation>('Observation').map((o) => o.valueString)).toContain('Rustige dag gehad.');
    expect(await exports()).toEqual([expect.objectContaining({ action: 'E', resource: 'Export van het dossier (FHIR)', actorName: 'Karen Test' })]);
  });

  it('refuses without a session (401), a network member without DOSSIER_VIEW (403), and leaves out what a member with it may not read', async () => {
    expect((await exportOf(karenId, null)).status).toBe(401);
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], false);
    const ellen = await t.login('relative@demo.test');
    const refused = await exportOf(karenId, ellen);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { extensions: { reason: string } }[] }).errors[0].extensions.reason).toBe('NO_PERMISSION');
    expect(await exports()).toHaveLength(1);

    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.DOSSIER_VIEW], false);
    const member = await exportOf(karenId, await t.login('relative@demo.test'));
    expect(member.status).toBe(200);
    const types = ((await member.json()) as Bundle).entry!.map((e) => e.resource!.resourceType);
    expect(types).toContain('MedicationStatement');
    // No messages right, no agenda right now, never the diary: none of those in it.
    for (const type of ['Communication', 'Appointment', 'Observation']) expect(types).not.toContain(type);
    expect(await exports()).toHaveLength(2);
  });

  it('answers 503 rather than an export that silently lacks a part, when an EHR part does not answer', async () => {
    ehr.down = true;
    try {
      const res = await exportOf(karenId);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(await exports()).toHaveLength(2);
    } finally {
      ehr.down = false;
    }
  });
});
