import type { DemoClientRecord } from '../adapters/demo/demo-data';
import type { DemoEhrAdapter } from '../adapters/demo/demo.adapter';

const DAY = 86_400_000;

/** The least a production configuration needs (MySQL, secrets, a public URL, a mail relay): each test adds or takes away its part. */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://u:p@db:3306/portal',
  SESSION_SECRET: 'x'.repeat(32),
  SYNC_SECRET: 'y'.repeat(32),
  BSN_HASH_KEY: 'z'.repeat(32),
  PUBLIC_URL: 'https://api.portal.test',
  SMTP_URL: 'smtp://relay.portal.test:587',
  SMTP_FROM: 'Portaal <noreply@portal.test>',
};

/** A birth date this many years ago (fractions allowed), as the EHR gives it. */
export const bornYearsAgo = (years: number): string => new Date(Date.now() - years * 365.25 * DAY).toISOString().slice(0, 10);

/**
 * One more client in a demo EHR, shaped like the demo's own (a team, an appointment, one document
 * that asks for nothing): for suites that need a person the demo data has not got (a child of 17,
 * a portal whose treatment ended).
 */
export function addDemoClient(
  demo: DemoEhrAdapter,
  o: { externalId: string; name: string; birthDate: string; bsn?: string; treatmentEndedDaysAgo?: number; parentBsn?: string },
): DemoClientRecord {
  const ended = o.treatmentEndedDaysAgo !== undefined;
  const soon = new Date(Date.now() + 5 * DAY);
  soon.setUTCHours(10, 0, 0, 0);
  const record: DemoClientRecord = {
    client: {
      externalId: o.externalId,
      bsn: o.bsn ?? '000000000',
      name: o.name,
      birthDate: o.birthDate,
      gender: 'vrouw',
      inTreatment: !ended,
      treatmentEndedAt: ended ? new Date(Date.now() - o.treatmentEndedDaysAgo! * DAY).toISOString() : null,
    },
    overview: {
      dossierNumber: `GGZ-TEST-${o.externalId}`,
      registrationDate: new Date(Date.now() - 90 * DAY).toISOString().slice(0, 10),
      registrationReason: 'Aanmelding via de huisarts.',
      diagnosis: null,
      careDemandType: null,
    },
    intake: null,
    medications: [],
    allergies: [],
    contraIndications: [],
    plan: approvedPlan(`bp-${o.externalId}`),
    team: [{ practitionerId: 'pr-jansen', role: 'LEAD', from: new Date(Date.now() - 90 * DAY).toISOString().slice(0, 10), until: null }],
    effort: { plannedMinutes: 300, activities: [] },
    reports: [],
    documents: [
      {
        externalId: `dc-${o.externalId}`,
        name: 'Verwijsbrief.pdf',
        mediaType: 'application/pdf',
        uploadedBy: 'Secretariaat',
        uploadedAt: new Date(Date.now() - 60 * DAY).toISOString(),
        needsApproval: false,
        approvedAt: null,
        content: '%PDF-1.4 verwijsbrief',
      },
    ],
    appointments: [
      {
        externalId: `ap-${o.externalId}`,
        start: soon.toISOString(),
        end: new Date(soon.getTime() + 45 * 60_000).toISOString(),
        type: 'Behandeling',
        practitionerId: 'pr-jansen',
        location: 'Amstelveen',
        online: false,
      },
    ],
  };
  demo.data.clients.push(record);
  if (o.parentBsn) (demo.data.parents[o.parentBsn] ??= []).push(o.externalId);
  return record;
}

/** A treatment plan the client approved already (approving it again changes nothing). */
export function approvedPlan(externalId: string): NonNullable<DemoClientRecord['plan']> {
  const created = new Date(Date.now() - 30 * DAY).toISOString();
  return {
    externalId,
    status: 'APPROVED',
    careQuestion: 'Weer naar school kunnen.',
    problemDescription: null,
    indication: null,
    explanation: null,
    goals: [],
    responsiblePractitionerIds: ['pr-jansen'],
    createdAt: created,
    finalisedAt: null,
    approvedAt: created,
    approvedBy: 'de cliënt',
  };
}
