import { randomUUID } from 'node:crypto';
import type {
  AllergyIntolerance,
  Appointment as FhirAppointment,
  Bundle,
  BundleEntry,
  CarePlan,
  CareTeam,
  Communication,
  Condition,
  DocumentReference,
  Flag,
  Goal,
  MedicationStatement,
  Observation,
  Patient,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { dutchDate } from '../../../adapters/ports';

/**
 * What the export holds of one client: each part as the viewer may see it (a part left out is
 * undefined), already read. Plain data, so the mapping below is a pure function with its own test.
 */
export interface ExportInput {
  exportedAt: string;
  /** The base of the entries' full URLs (`<base>/<type>/<id>`), so references inside read `<type>/<id>`. */
  base: string;
  patient: { name: string; birthDate?: string | null; gender?: string | null };
  overview?: { dossierNumber: string; diagnosis?: string | null; careDemandType?: string | null; registrationDate?: string | null } | null;
  medications?: { name: string; dosage?: string | null; since?: string | null; until?: string | null }[];
  allergies?: { substance: string; reaction?: string | null; recordedAt?: string | null }[];
  contraIndications?: { description: string; recordedAt?: string | null }[];
  plan?: {
    status: string;
    careQuestion?: string | null;
    problemDescription?: string | null;
    createdAt: string;
    goals: { description: string; addedBy: string }[];
  } | null;
  team?: { name: string; role: string; profession?: string | null; from: string; until?: string | null }[];
  appointments?: { start: string; end: string; type: string; practitioner: string; location?: string | null; online: boolean }[];
  documents?: { name: string; mediaType: string; uploadedAt: string; uploadedBy: string }[];
  reports?: { title: string; date: string; body?: string | null; author?: string | null }[];
  conversations?: { subject: string; messages: { author: string; sentAt: string; body: string | null }[] }[];
  diary?: { text: string; author: string; createdAt: string }[];
  story?: { text: string; updatedAt: string } | null;
}

const ROLE_TEXT: Record<string, string> = { LEAD: 'regiebehandelaar', DEPUTY_LEAD: 'waarnemend regiebehandelaar', CO_PRACTITIONER: 'medebehandelaar' };
const GENDER: Record<string, Patient['gender']> = { vrouw: 'female', man: 'male', female: 'female', male: 'male', anders: 'other', other: 'other' };
const PLAN_STATUS: Record<string, CarePlan['status']> = {
  DRAFT: 'draft',
  AWAITING_APPROVAL: 'draft',
  APPROVED: 'active',
  ACTIVE: 'active',
  COMPLETED: 'completed',
};

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const dateOnly = (iso?: string | null) => (iso ? iso.slice(0, 10) : undefined);

/**
 * The client's dossier as a FHIR R4 Bundle of type `collection` (AVG art. 20, data portability):
 * the EHR's parts as the resources FHIR has for them, and the portal's own records (messages,
 * diary, story) as Communication, Observation and DocumentReference. Every entry has an id of its
 * own, made for this export, and a full URL on `base`; entries refer to each other as `<type>/<id>`.
 * No BSN and no internal id leaves with it.
 */
export function dossierBundle(input: ExportInput): Bundle {
  const entries: BundleEntry[] = [];
  const add = <T extends Resource>(resource: T): Reference<T> => {
    const id = randomUUID();
    entries.push({ fullUrl: `${input.base}/${resource.resourceType}/${id}`, resource: { ...resource, id } });
    return { reference: `${resource.resourceType}/${id}` };
  };
  const patient = add<Patient>({
    resourceType: 'Patient',
    name: [{ text: input.patient.name }],
    ...(input.patient.birthDate ? { birthDate: dateOnly(input.patient.birthDate) } : {}),
    gender: GENDER[(input.patient.gender ?? '').toLowerCase()] ?? 'unknown',
  });
  const subject: Reference<Patient> = { ...patient, display: input.patient.name };

  clinical(input, add, subject);
  care(input, add, subject);
  records(input, add, subject);
  return { resourceType: 'Bundle', type: 'collection', timestamp: input.exportedAt, entry: entries };
}

type Add = <T extends Resource>(resource: T) => Reference<T>;

/** What the EHR holds of the client's condition: the diagnosis, medication, allergies, contra-indications. */
function clinical(input: ExportInput, add: Add, subject: Reference<Patient>): void {
  const o = input.overview;
  if (o?.diagnosis)
    add<Condition>({
      resourceType: 'Condition',
      subject,
      code: { text: o.diagnosis },
      ...(o.careDemandType ? { note: [{ text: `Zorgvraagtypering: ${o.careDemandType}` }] } : {}),
      ...(o.registrationDate ? { recordedDate: dateOnly(o.registrationDate) } : {}),
    });
  for (const m of input.medications ?? [])
    add<MedicationStatement>({
      resourceType: 'MedicationStatement',
      status: m.until && m.until < dutchDate(input.exportedAt) ? 'completed' : 'active',
      medicationCodeableConcept: { text: m.name },
      subject,
      ...(m.dosage ? { dosage: [{ text: m.dosage }] } : {}),
      ...(m.since || m.until ? { effectivePeriod: { ...(m.since ? { start: m.since } : {}), ...(m.until ? { end: m.until } : {}) } } : {}),
    });
  for (const a of input.allergies ?? [])
    add<AllergyIntolerance>({
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      patient: subject,
      code: { text: a.substance },
      ...(a.reaction ? { reaction: [{ manifestation: [{ text: a.reaction }] }] } : {}),
      ...(a.recordedAt ? { recordedDate: a.recordedAt } : {}),
    });
  for (const c of input.contraIndications ?? [])
    add<Flag>({ resourceType: 'Flag', status: 'active', code: { text: c.description }, subject, ...(c.recordedAt ? { period: { start: c.recordedAt } } : {}) });
}

/** The treatment: the plan with its goals, the team, the appointments. */
function care(input: ExportInput, add: Add, subject: Reference<Patient>): void {
  if (input.plan) {
    const goals = input.plan.goals.map((g) =>
      add<Goal>({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text: g.description }, subject, expressedBy: { display: g.addedBy } }),
    );
    add<CarePlan>({
      resourceType: 'CarePlan',
      status: PLAN_STATUS[input.plan.status] ?? 'unknown',
      intent: 'plan',
      subject,
      created: input.plan.createdAt,
      ...(input.plan.careQuestion ? { title: input.plan.careQuestion } : {}),
      ...(input.plan.problemDescription ? { description: input.plan.problemDescription } : {}),
      ...(goals.length ? { goal: goals } : {}),
    });
  }
  if (input.team?.length)
    add<CareTeam>({
      resourceType: 'CareTeam',
      status: 'active',
      subject,
      participant: input.team.map((m) => ({
        role: [{ text: ROLE_TEXT[m.role] ?? m.role }],
        member: { display: m.profession ? `${m.name} (${m.profession})` : m.name },
        period: { start: m.from, ...(m.until ? { end: m.until } : {}) },
      })),
    });
  for (const a of input.appointments ?? [])
    add<FhirAppointment>({
      resourceType: 'Appointment',
      status: a.end < input.exportedAt ? 'fulfilled' : 'booked',
      description: a.type,
      start: a.start,
      end: a.end,
      ...(a.online ? { comment: 'Online (beeldbellen)' } : a.location ? { comment: a.location } : {}),
      participant: [
        { actor: subject, status: 'accepted' },
        { actor: { display: a.practitioner }, status: 'accepted' },
      ],
    });
}

/** Documents and reports (from the EHR), messages, diary and story (the portal's own). */
function records(input: ExportInput, add: Add, subject: Reference<Patient>): void {
  for (const d of input.documents ?? [])
    add<DocumentReference>({
      resourceType: 'DocumentReference',
      status: 'current',
      subject,
      date: d.uploadedAt,
      description: d.name,
      author: [{ display: d.uploadedBy }],
      // The file itself is not inside: it is downloaded from the portal (Document.downloadUrl).
      content: [{ attachment: { contentType: d.mediaType, title: d.name } }],
    });
  for (const r of input.reports ?? [])
    add<DocumentReference>({
      resourceType: 'DocumentReference',
      status: 'current',
      type: { text: 'Verslag' },
      subject,
      date: r.date,
      description: r.title,
      ...(r.author ? { author: [{ display: r.author }] } : {}),
      content: [{ attachment: { contentType: 'text/plain; charset=utf-8', title: r.title, ...(r.body ? { data: base64(r.body) } : {}) } }],
    });
  for (const c of input.conversations ?? [])
    for (const m of c.messages)
      add<Communication>({
        resourceType: 'Communication',
        status: 'completed',
        subject,
        topic: { text: c.subject },
        sent: m.sentAt,
        sender: { display: m.author },
        ...(m.body !== null ? { payload: [{ contentString: m.body }] } : { note: [{ text: 'Dit bericht is verwijderd.' }] }),
      });
  for (const e of input.diary ?? [])
    add<Observation>({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Dagboek' },
      subject,
      effectiveDateTime: e.createdAt,
      performer: [{ display: e.author }],
      valueString: e.text,
    });
  if (input.story)
    add<DocumentReference>({
      resourceType: 'DocumentReference',
      status: 'current',
      type: { text: 'Mijn verhaal' },
      subject,
      date: input.story.updatedAt,
      content: [{ attachment: { contentType: 'text/plain; charset=utf-8', title: 'Mijn verhaal', data: base64(input.story.text) } }],
    });
}
