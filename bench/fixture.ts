import { buildDemoData, type DemoData } from '../adapters/demo/demo-data';

/** The benchmark's client: Karen's dossier with 100 appointments spread over the team. */
export function benchData(appointments = 100): DemoData {
  const data = buildDemoData(new Date('2026-06-01T00:00:00Z'));
  const karen = data.clients[0];
  const practitioners = data.practitioners.map((p) => p.externalId);
  karen.appointments = Array.from({ length: appointments }, (_, i) => {
    const start = new Date(Date.UTC(2026, 0, 1, 9) + i * 3 * 86_400_000);
    return {
      externalId: `ap-bench-${i}`,
      start: start.toISOString(),
      end: new Date(start.getTime() + 45 * 60_000).toISOString(),
      type: i % 3 ? 'Behandeling' : 'Diagnostiek',
      practitionerId: practitioners[i % practitioners.length],
      location: i % 2 ? 'Amstelveen, Spreekkamer 2' : null,
      online: i % 2 === 0,
    };
  });
  return data;
}

export const W1_QUERY = `query W1($id: ID!) { client(id: $id) { dashboard { upcomingAppointmentCount dossierPartCount nextAppointment { start type practitioner { name } } } } }`;
export const W2_QUERY = `query W2($id: ID!) { client(id: $id) { appointments(when: ALL) { id start end type location online practitioner { id name profession } } dossier { medications { id name dosage } treatmentTeam { role from practitioner { id name } } } } }`;
