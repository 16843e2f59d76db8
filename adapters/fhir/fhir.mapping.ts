import type {
  AllergyIntolerance,
  Appointment,
  Attachment,
  CarePlan,
  CareTeam,
  CodeableConcept,
  Condition,
  Consent,
  Coverage,
  DocumentReference,
  Duration,
  Encounter,
  EpisodeOfCare,
  Flag,
  Goal,
  HumanName,
  MedicationStatement,
  Patient,
  Practitioner,
  Provenance,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
  RelatedPerson,
  Reference,
  ServiceRequest,
  Task,
  Timing,
} from '@medplum/fhirtypes';
import type {
  EhrActor,
  EhrAllergy,
  EhrApproval,
  EhrAppointment,
  EhrClient,
  EhrClientStory,
  EhrConsent,
  EhrInsurance,
  EhrUploadedDocument,
  EhrConsentChoice,
  EhrQuestion,
  EhrQuestionnaireAssignment,
  EhrQuestionType,
  EhrContraIndication,
  EhrDocument,
  EhrDossierOverview,
  EhrIntakeReport,
  EhrMedication,
  EhrNewGoal,
  EhrPractitioner,
  EhrQuestionnaireAnswers,
  EhrSessionReport,
  EhrTeamMember,
  EhrTeamRole,
  EhrTreatmentEffort,
  EhrTreatmentGoal,
  EhrTreatmentPlan,
  EhrTreatmentPlanStatus,
  IsoDate,
  IsoDateTime,
} from '../ports';
import { dutchDate } from '../ports';

/**
 * Pure FHIR R4 → port mappings (issue 4's table). No I/O here: the adapter fetches, these map,
 * so every rule can be tested on a resource literal.
 */

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
/** Category text that marks a Flag as a contra-indication (the Dutch zib maps them to Flag). */
export const CONTRA_INDICATION_CATEGORY = 'contra-indicatie';
/** Category text that marks a DocumentReference as a session report (verslag). */
export const SESSION_REPORT_CATEGORY = 'verslag';

/** Looks up resources a reference points to, from a search bundle's matches and includes. */
export type Resolve = <T extends { resourceType: string }>(ref: Reference | undefined, type: T['resourceType']) => T | undefined;

/** Orders FHIR dates and times by the instant they name (offsets included); unparsable ones by their text. */
export function compareTimes(a: string, b: string): number {
  const x = Date.parse(a);
  const y = Date.parse(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return a < b ? -1 : a > b ? 1 : 0;
  return x - y;
}

export function personName(names: HumanName[] | undefined): string | undefined {
  const n = names?.[0];
  if (!n) return undefined;
  if (n.text?.trim()) return n.text.trim();
  const parts = [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter((p): p is string => !!p?.trim());
  return parts.length ? parts.join(' ') : undefined;
}

export function conceptText(c: CodeableConcept | undefined): string | undefined {
  return c?.text ?? c?.coding?.find((x) => x.display)?.display ?? undefined;
}

const REFERENCE = /(?:^|\/)([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/;

/** "Practitioner/abc" → "abc" when the reference points to that type (relative or absolute). */
export function referenceId(ref: Reference | undefined, type: string): string | undefined {
  const m = ref?.reference?.match(REFERENCE);
  return m && m[1] === type ? m[2] : undefined;
}

/** Any reference as "Type/id" (relative, absolute or versioned), to key resources of several types. */
export function referenceKey(ref: Reference | undefined): string | undefined {
  const m = ref?.reference?.match(REFERENCE);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/**
 * FHIR date or dateTime to the port's IsoDate: a dateTime's date part; a partial date (2019,
 * 2019-05, which FHIR allows) as its first day, since the port's dates are whole; anything else null.
 */
export function toDate(value: string | undefined): IsoDate | null {
  if (!value) return null;
  if (/^\d{4}$/.test(value)) return `${value}-01-01`;
  if (/^\d{4}-\d{2}$/.test(value)) return `${value}-01`;
  return /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : null;
}

/** FHIR allows partial dates (2024, 2024-03); the port wants a full ISO date-time. */
export function toDateTime(value: string | undefined): string | null {
  if (!value) return null;
  if (/^\d{4}$/.test(value)) return `${value}-01-01T00:00:00.000Z`;
  if (/^\d{4}-\d{2}$/.test(value)) return `${value}-01T00:00:00.000Z`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00.000Z`;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const textIs = (c: CodeableConcept | undefined, wanted: string): boolean =>
  [c?.text, ...(c?.coding ?? []).map((x) => x.display)].some((t) => t?.trim().toLowerCase() === wanted);

export function hasBsn(patient: Patient, bsn: string): boolean {
  return (patient.identifier ?? []).some((i) => i.system === BSN_SYSTEM && i.value === bsn);
}

/** `episodes` are the patient's EpisodeOfCare resources, when the caller fetched them (for inTreatment). */
export function toClient(patient: Patient, episodes?: EpisodeOfCare[]): EhrClient {
  const client: EhrClient = {
    externalId: patient.id ?? '',
    name: personName(patient.name) ?? 'Onbekende cliënt',
    birthDate: toDate(patient.birthDate),
    gender: patient.gender ?? null,
  };
  // The mobile number on file (Extenzo sends login codes there): a ContactPoint for SMS, or a mobile phone.
  const mobile = (patient.telecom ?? []).find((t) => (t.system === 'sms' || (t.system === 'phone' && t.use === 'mobile')) && t.value && !t.period?.end);
  if (mobile?.value) client.mobilePhone = mobile.value;
  if (episodes) {
    const open = episodes.some((e) => e.status === 'active' || e.status === 'onhold' || e.status === 'waitlist');
    client.inTreatment = open;
    // The latest by time, not by text (offsets differ: 09:00+01:00 is before 08:30Z).
    const ends = episodes
      .map((e) => toDateTime(e.period?.end))
      .filter((e): e is string => !!e)
      .sort();
    client.treatmentEndedAt = open ? null : (ends[ends.length - 1] ?? null);
  }
  return client;
}

export function toPractitioner(p: Practitioner): EhrPractitioner {
  return {
    externalId: p.id ?? '',
    name: personName(p.name) ?? 'Onbekende behandelaar',
    profession: conceptText(p.qualification?.[0]?.code) ?? null,
    phone: p.telecom?.find((t) => t.system === 'phone')?.value ?? null,
    email: p.telecom?.find((t) => t.system === 'email')?.value ?? null,
  };
}

/** The active episode (else the most recent one) with its diagnosis and referral resolved. */
export function toDossierOverview(episodes: EpisodeOfCare[], resolve: Resolve): EhrDossierOverview | null {
  const byStart = [...episodes].sort((a, b) => compareTimes(b.period?.start ?? '', a.period?.start ?? ''));
  const episode = byStart.find((e) => e.status === 'active') ?? byStart[0];
  if (!episode) return null;
  const diagnoses = episode.diagnosis ?? [];
  const main = diagnoses.find((d) => d.rank === 1) ?? diagnoses[0];
  const condition = resolve<Condition>(main?.condition, 'Condition');
  const referral = resolve<ServiceRequest>(episode.referralRequest?.[0], 'ServiceRequest');
  return {
    dossierNumber: episode.identifier?.[0]?.value ?? episode.id ?? '',
    registrationDate: toDate(episode.period?.start),
    careDemandType: conceptText(episode.type?.[0]) ?? null,
    diagnosis: (condition ? conceptText(condition.code) : undefined) ?? main?.condition?.display ?? null,
    registrationReason: referral?.reasonCode?.[0]?.text ?? conceptText(referral?.reasonCode?.[0]) ?? null,
  };
}

/** Does `questionnaire` (a canonical, maybe with |version) name the configured intake questionnaire? */
export function isIntakeQuestionnaire(qr: QuestionnaireResponse, intake: string): boolean {
  const canonical = qr.questionnaire?.split('|')[0];
  if (!canonical) return false;
  return canonical === intake || canonical.endsWith(`/Questionnaire/${intake}`) || canonical.endsWith(`/${intake}`);
}

export function answerText(a: QuestionnaireResponseItemAnswer): string | null {
  if (a.valueString !== undefined) return a.valueString;
  if (a.valueBoolean !== undefined) return a.valueBoolean ? 'Ja' : 'Nee';
  if (a.valueInteger !== undefined) return String(a.valueInteger);
  if (a.valueDecimal !== undefined) return String(a.valueDecimal);
  if (a.valueDate !== undefined) return a.valueDate;
  if (a.valueDateTime !== undefined) return a.valueDateTime;
  if (a.valueTime !== undefined) return a.valueTime;
  if (a.valueUri !== undefined) return a.valueUri;
  if (a.valueCoding) return a.valueCoding.display ?? a.valueCoding.code ?? null;
  if (a.valueQuantity) return [a.valueQuantity.value, a.valueQuantity.unit].filter((x) => x !== undefined).join(' ');
  if (a.valueReference) return a.valueReference.display ?? null;
  if (a.valueAttachment) return a.valueAttachment.title ?? null;
  return null;
}

function itemAnswer(item: QuestionnaireResponseItem): string | null {
  const texts = (item.answer ?? []).map(answerText).filter((t): t is string => t !== null && t !== '');
  return texts.length ? texts.join(', ') : null;
}

/** Top-level groups become sections; a loose top-level question lands in an untitled section. */
export function toIntakeReport(qr: QuestionnaireResponse): EhrIntakeReport {
  const sections: EhrIntakeReport['sections'] = [];
  const loose: EhrIntakeReport['sections'][number]['items'] = [];
  for (const top of qr.item ?? []) {
    if (top.item?.length) {
      sections.push({
        title: top.text ?? top.linkId,
        items: flattenItems(top.item),
      });
    } else {
      loose.push({ question: top.text ?? top.linkId, answer: itemAnswer(top) });
    }
  }
  if (loose.length) sections.unshift({ title: 'Algemeen', items: loose });
  return { sections };
}

/** Nested sub-groups are flattened into their section, so no question is lost. */
function flattenItems(items: QuestionnaireResponseItem[]): { question: string; answer: string | null }[] {
  return items.flatMap((i) => [
    ...(i.item?.length && !i.answer?.length ? [] : [{ question: i.text ?? i.linkId, answer: itemAnswer(i) }]),
    ...(i.item?.length ? flattenItems(i.item) : []),
    ...(i.answer ?? []).flatMap((a) => (a.item?.length ? flattenItems(a.item) : [])),
  ]);
}

export function isShownMedication(m: MedicationStatement): boolean {
  return m.status === 'active' || m.status === 'completed';
}

export function toMedication(m: MedicationStatement): EhrMedication {
  return {
    externalId: m.id ?? '',
    name: conceptText(m.medicationCodeableConcept) ?? m.medicationReference?.display ?? 'Onbekend middel',
    dosage: m.dosage?.[0]?.text ?? null,
    since: toDate(m.effectivePeriod?.start ?? m.effectiveDateTime),
    until: toDate(m.effectivePeriod?.end),
    prescriberId: referenceId(m.informationSource, 'Practitioner') ?? null,
  };
}

export function toAllergy(a: AllergyIntolerance): EhrAllergy {
  const manifestation = a.reaction?.[0]?.manifestation?.[0];
  return {
    externalId: a.id ?? '',
    substance: conceptText(a.code) ?? 'Onbekende stof',
    reaction: manifestation ? (conceptText(manifestation) ?? null) : null,
    recordedAt: toDate(a.recordedDate),
  };
}

export function isContraIndication(f: Flag): boolean {
  return (f.category ?? []).some((c) => textIs(c, CONTRA_INDICATION_CATEGORY));
}

export function toContraIndication(f: Flag): EhrContraIndication {
  return { externalId: f.id ?? '', description: conceptText(f.code) ?? 'Contra-indicatie', recordedAt: toDate(f.period?.start) };
}

/**
 * FHIR CarePlan.status → the portal's plan states: draft is being written, on-hold waits for the
 * client's agreement (akkoord), active is the agreed plan in force, completed/revoked are closed.
 */
export function toPlanStatus(status: CarePlan['status']): EhrTreatmentPlanStatus {
  switch (status) {
    case 'on-hold':
      return 'AWAITING_APPROVAL';
    case 'active':
      return 'APPROVED';
    case 'completed':
    case 'revoked':
      return 'FINAL';
    default:
      return 'DRAFT';
  }
}

/** Task states that take a questionnaire assignment off the client's list. */
const CLOSED_TASK: ReadonlySet<string> = new Set(['cancelled', 'rejected', 'entered-in-error', 'failed']);
/** Whether a Task (with a Questionnaire as focus) is one of the client's assignments: open, or completed. */
export const isListedTask = (status: string): boolean => !CLOSED_TASK.has(status);
/** A Task the client still has to do (FHIR R4 Task.status): not a draft, not on hold, not done. */
const OPEN_TASK: ReadonlySet<string> = new Set(['requested', 'received', 'accepted', 'ready', 'in-progress']);
export const isOpenTask = (status: string): boolean => OPEN_TASK.has(status);

/** Goals taken back (cancelled, rejected) or recorded by mistake are no longer part of the plan. */
const GONE_GOAL: ReadonlySet<Goal['lifecycleStatus']> = new Set(['cancelled', 'rejected', 'entered-in-error']);

export function isGoneGoal(goal: Goal): boolean {
  return GONE_GOAL.has(goal.lifecycleStatus);
}

/**
 * The latest CarePlan with intent plan (by `created`), its goals resolved, its approval from
 * `approvals` (who approved: the agent's display, else the resolved Patient's or RelatedPerson's name).
 */
export function toTreatmentPlan(plans: CarePlan[], resolve: Resolve, approvals: Approvals): EhrTreatmentPlan | null {
  const plan = latestPlan(plans);
  if (!plan) return null;
  const goals = (plan.goal ?? []).flatMap((ref): EhrTreatmentGoal[] => {
    const goal = resolve<Goal>(ref, 'Goal');
    if (goal && isGoneGoal(goal)) return [];
    const description = goal ? conceptText(goal.description) : ref.display;
    if (!description) return [];
    return [
      {
        externalId: goal?.id ?? referenceId(ref, 'Goal') ?? description,
        description,
        addedBy: goal?.expressedBy?.display ?? 'Behandelaar',
        byClient: goal ? isClientGoal(goal) : false,
      },
    ];
  });
  const approval = isAgreedPlan(plan) ? approvalOf(approvals, plan) : null;
  const responsible = [plan.author, ...(plan.contributor ?? [])].map((r) => referenceId(r, 'Practitioner')).filter((id): id is string => !!id);
  return {
    externalId: plan.id ?? '',
    status: toPlanStatus(plan.status),
    careQuestion: plan.title ?? null,
    problemDescription: plan.description ?? null,
    // The indication is the condition the plan addresses; the practitioner's explanation its first note.
    indication: plan.addresses?.[0]?.display ?? null,
    explanation: plan.note?.[0]?.text ?? null,
    goals,
    responsiblePractitionerIds: [...new Set(responsible)],
    createdAt: toDateTime(plan.created ?? plan.period?.start ?? plan.meta?.lastUpdated) ?? new Date(0).toISOString(),
    approvedAt: approval?.at ?? null,
    approvedBy: approval ? (approval.by ?? approverName(approval.who, resolve)) : null,
  };
}

/** The name of the Patient or RelatedPerson an approval's agent references, where the bundle has it. */
function approverName(who: Reference | undefined, resolve: Resolve): string | null {
  const person = resolve<Patient>(who, 'Patient') ?? resolve<RelatedPerson>(who, 'RelatedPerson');
  return personName(person?.name) ?? null;
}

/**
 * Only an agreed plan (active, or closed after it) shows an akkoord: a plan back in draft or
 * on-hold waits for a new one, and an approved plan's goals can no longer be changed.
 */
export function isAgreedPlan(plan: CarePlan): boolean {
  const status = toPlanStatus(plan.status);
  return status === 'APPROVED' || status === 'FINAL';
}

export function latestPlan(plans: CarePlan[]): CarePlan | undefined {
  return plans.filter((p) => p.intent === 'plan' && p.status !== 'entered-in-error').sort((a, b) => compareTimes(b.created ?? '', a.created ?? ''))[0];
}

export function toTeamRole(role: CodeableConcept | undefined): EhrTeamRole {
  if (textIs(role, 'regiebehandelaar')) return 'LEAD';
  if (textIs(role, 'waarnemend regiebehandelaar')) return 'DEPUTY_LEAD';
  return 'CO_PRACTITIONER';
}

/** Participants of active CareTeams that are Practitioners (PractitionerRole/Organization members are skipped). */
export function toTeamMembers(teams: CareTeam[]): EhrTeamMember[] {
  return teams
    .filter((t) => t.status === undefined || t.status === 'active')
    .flatMap((t) =>
      (t.participant ?? []).flatMap((p) => {
        const practitionerId = referenceId(p.member, 'Practitioner');
        if (!practitionerId) return [];
        return [
          {
            practitionerId,
            role: toTeamRole(p.role?.[0]),
            from: toDate(p.period?.start ?? t.period?.start) ?? '1970-01-01',
            until: toDate(p.period?.end),
          },
        ];
      }),
    );
}

const MINUTES_PER_UNIT: Record<string, number> = { s: 1 / 60, min: 1, h: 60, d: 1440 };

/** A FHIR Duration (or Timing duration) in whole minutes; unknown units count as none. */
export function durationMinutes(value: number | undefined, unit: string | undefined): number {
  if (value === undefined) return 0;
  const factor = MINUTES_PER_UNIT[unit ?? 'min'];
  return factor === undefined ? 0 : Math.round(value * factor);
}

/**
 * Planned minutes: our choice is `CarePlan.activity.detail.scheduledTiming.repeat`, summing
 * duration × count for each not-cancelled activity (a count-less timing counts once). That is
 * standard R4 without an extension, and is what a plan says "10 sessions of 45 minutes" with.
 */
export function plannedMinutes(plan: CarePlan | undefined): number {
  return (plan?.activity ?? []).reduce((sum, a) => {
    const detail = a.detail;
    if (!detail || detail.status === 'cancelled' || detail.status === 'entered-in-error') return sum;
    const timing: Timing | undefined = detail.scheduledTiming;
    const repeat = timing?.repeat;
    return sum + durationMinutes(repeat?.duration, repeat?.durationUnit) * (repeat?.count ?? 1);
  }, 0);
}

function encounterMinutes(e: Encounter): number {
  const length: Duration | undefined = e.length;
  if (length?.value !== undefined) return durationMinutes(length.value, length.code ?? length.unit);
  const start = e.period?.start ? Date.parse(e.period.start) : NaN;
  const end = e.period?.end ? Date.parse(e.period.end) : NaN;
  return Number.isNaN(start) || Number.isNaN(end) ? 0 : Math.round((end - start) / 60_000);
}

/** Realised effort: finished Encounters (length in minutes), planned from the latest plan. */
export function toTreatmentEffort(plans: CarePlan[], encounters: Encounter[]): EhrTreatmentEffort {
  const activities = encounters
    .filter((e) => e.status === 'finished')
    .flatMap((e) => {
      const practitionerId = (e.participant ?? []).map((p) => referenceId(p.individual, 'Practitioner')).find((id) => !!id);
      const date = toDate(e.period?.start);
      if (!practitionerId || !date) return [];
      return [
        {
          practitionerId,
          date,
          minutes: encounterMinutes(e),
          activity: conceptText(e.type?.[0]) ?? 'Contact',
          consultType: e.class?.display ?? e.class?.code ?? 'Onbekend',
        },
      ];
    })
    .sort((a, b) => compareTimes(a.date, b.date));
  return { plannedMinutes: plannedMinutes(latestPlan(plans)), activities };
}

/** The client's (or their representative's) latest akkoord on one resource. */
export interface Approval {
  at: IsoDateTime;
  /** The agent's display name, if the Provenance carries one. */
  by: string | null;
  /** The agent, to look its name up where there is no display. */
  who?: Reference;
}

/** "DocumentReference/d1" or "CarePlan/cp1" → the client's or their representative's latest akkoord. */
export type Approvals = ReadonlyMap<string, Approval>;

const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const DOCUMENT_COMPLETION = 'http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion';

/**
 * Provenance.activity codes read as the client's akkoord. We write AUTHEN (authenticator: attests
 * to the content without legally signing it; in R4's ProvenanceActivityType value set) with the
 * text "akkoord"; LA (legal authenticator, or DocumentCompletion "legally authenticated") counts
 * too, for an agreement signed as such. Data operations (CREATE, UPDATE) say nothing of agreement.
 */
const APPROVAL_CODES: Record<string, ReadonlySet<string>> = {
  [PARTICIPATION_TYPE]: new Set(['AUTHEN', 'LA']),
  [DOCUMENT_COMPLETION]: new Set(['LA']),
};
/** EHRs that keep the activity as free text name it so; compared whole, so "niet akkoord" is no approval. */
const APPROVAL_TEXT = 'akkoord';

export function isApprovalActivity(activity: CodeableConcept | undefined): boolean {
  const coded = (activity?.coding ?? []).some((c) => c.system !== undefined && c.code !== undefined && !!APPROVAL_CODES[c.system]?.has(c.code));
  return coded || textIs(activity, APPROVAL_TEXT);
}

const CLIENT_SIDE = new Set(['Patient', 'RelatedPerson']);

/**
 * The client (Patient) or someone acting for them or permitted by them (RelatedPerson): a literal
 * reference, or a logical one (`type` with a display) for a person the EHR has no resource of,
 * as the portal writes for a parent or network member.
 */
export function isClientSide(who: Reference | undefined): boolean {
  if (referenceId(who, 'Patient') ?? referenceId(who, 'RelatedPerson')) return true;
  const type = who?.type?.split('/').pop();
  return !who?.reference && !!who?.display && !!type && CLIENT_SIDE.has(type);
}

/**
 * The client's akkoord: an approval activity by the client (Patient) or whoever acts for them or
 * was permitted to (RelatedPerson). A practitioner signing the same thing is not the client's say.
 */
export function isClientApproval(p: Provenance): boolean {
  if (!isApprovalActivity(p.activity)) return false;
  return (p.agent ?? []).some((a) => isClientSide(a.who));
}

/** Every target of a client approval → its latest `recorded` and who gave it; other resources and Provenances are skipped. */
export function approvalsByTarget(resources: { resourceType: string }[]): Map<string, Approval> {
  const out = new Map<string, Approval>();
  for (const r of resources) {
    if (r.resourceType !== 'Provenance') continue;
    const p = r as Provenance;
    const recorded = toDateTime(p.recorded);
    if (!recorded || !isClientApproval(p)) continue;
    const who = (p.agent ?? []).find((a) => isClientSide(a.who))?.who;
    for (const target of p.target ?? []) {
      const key = referenceKey(target);
      const known = key ? out.get(key) : undefined;
      if (key && (!known || compareTimes(recorded, known.at) > 0)) out.set(key, { at: recorded, by: who?.display ?? null, who });
    }
  }
  return out;
}

/** "DocumentReference/d1": how a reference, a `target` search and `Approvals` name a resource. */
export function resourceKey(r: { resourceType: string; id?: string }): string | undefined {
  return r.id ? `${r.resourceType}/${r.id}` : undefined;
}

function approvalOf(approvals: Approvals, r: { resourceType: string; id?: string }): Approval | null {
  const key = resourceKey(r);
  return (key && approvals.get(key)) || null;
}

function approvedAt(approvals: Approvals, r: { resourceType: string; id?: string }): IsoDateTime | null {
  return approvalOf(approvals, r)?.at ?? null;
}

export function isSessionReport(d: DocumentReference): boolean {
  return (d.category ?? []).some((c) => textIs(c, SESSION_REPORT_CATEGORY));
}

/** Inline text of an attachment (reports are short text); binary content is left to the download. */
export function attachmentText(a: Attachment | undefined): string | null {
  if (!a?.data) return null;
  const type = a.contentType ?? 'text/plain';
  if (!type.startsWith('text/')) return null;
  return Buffer.from(a.data, 'base64').toString('utf8');
}

/**
 * A document asks for the client's akkoord while preliminary, and still counts as one that asked
 * once the akkoord is there (an EHR may finalise it then): like the demo adapter, needsApproval
 * stays true and approvedAt says it was given, so a portal shows "approved on …", not nothing.
 */
const needsApproval = (d: DocumentReference, approvedAt: IsoDateTime | null): boolean => d.docStatus === 'preliminary' || approvedAt !== null;

export function toSessionReport(d: DocumentReference, approvals: Approvals): EhrSessionReport {
  const attachment = d.content?.[0]?.attachment;
  const approved = approvedAt(approvals, d);
  return {
    externalId: d.id ?? '',
    date: toDateTime(d.date ?? attachment?.creation ?? d.meta?.lastUpdated) ?? new Date(0).toISOString(),
    title: d.description ?? attachment?.title ?? 'Verslag',
    authorId: (d.author ?? []).map((a) => referenceId(a, 'Practitioner')).find((id) => !!id) ?? null,
    body: attachmentText(attachment),
    needsApproval: needsApproval(d, approved),
    approvedAt: approved,
    appointmentId: (d.context?.related ?? []).map((r) => referenceId(r, 'Appointment')).find((id) => !!id) ?? null,
  };
}

export function toDocument(d: DocumentReference, resolve: Resolve, approvals: Approvals): EhrDocument {
  const attachment = d.content?.[0]?.attachment;
  const author = d.author?.[0];
  const practitioner = resolve<Practitioner>(author, 'Practitioner');
  const approved = approvedAt(approvals, d);
  return {
    externalId: d.id ?? '',
    name: attachment?.title ?? d.description ?? 'Document',
    mediaType: attachment?.contentType ?? 'application/octet-stream',
    uploadedBy: author?.display ?? (practitioner ? personName(practitioner.name) : undefined) ?? 'Zorgaanbieder',
    uploadedAt: toDateTime(d.date ?? attachment?.creation ?? d.meta?.lastUpdated) ?? new Date(0).toISOString(),
    needsApproval: needsApproval(d, approved),
    approvedAt: approved,
  };
}

const VIDEO = /video|beeldbel|online|virtual|virtueel/i;

/** Online when the type says video (text or the v3 "VR" virtual encounter code). */
export function isOnline(a: Appointment): boolean {
  const concepts = [a.appointmentType, ...(a.serviceType ?? [])];
  return concepts.some((c) => (c?.text && VIDEO.test(c.text)) || (c?.coding ?? []).some((x) => x.code === 'VR' || (x.display && VIDEO.test(x.display))));
}

/**
 * The organisation's own appointment about the client (e.g. a multidisciplinair overleg): the
 * client takes part as `information-only`, informed but not attending. Decided by this client's
 * participant, as a group session may list other patients.
 */
export function isOrganisationOnly(a: Appointment, clientId: string): boolean {
  const client = (a.participant ?? []).filter((p) => referenceId(p.actor, 'Patient') === clientId);
  return client.length > 0 && client.every((p) => p.required === 'information-only');
}

/** Null when the appointment has no Practitioner participant (the port needs one). */
export function toAppointment(a: Appointment, resolve: Resolve, clientId: string): EhrAppointment | null {
  const practitionerId = (a.participant ?? []).map((p) => referenceId(p.actor, 'Practitioner')).find((id) => !!id);
  if (!practitionerId || !a.start || !a.end) return null;
  const locationRef = (a.participant ?? []).map((p) => p.actor).find((r) => !!referenceId(r, 'Location'));
  const location = resolve<{ resourceType: 'Location'; name?: string }>(locationRef, 'Location');
  return {
    externalId: a.id ?? '',
    start: toDateTime(a.start) ?? a.start,
    end: toDateTime(a.end) ?? a.end,
    type: conceptText(a.appointmentType) ?? conceptText(a.serviceType?.[0]) ?? 'Afspraak',
    practitionerId,
    location: location?.name ?? locationRef?.display ?? null,
    online: isOnline(a),
    organisationOnly: isOrganisationOnly(a, clientId),
  };
}

/** v3 RoleCode parents and guardians (zib Contactpersoon uses these), or the Dutch words for them. */
const PARENT_CODES = new Set(['PRN', 'MTH', 'FTH', 'NPRN', 'NMTH', 'NFTH', 'ADOPTP', 'ADOPTM', 'ADOPTF', 'GUARD']);
const PARENT_WORDS = /\b(ouder|moeder|vader|voogd|gezaghebbende)\b/i;

/** A RelatedPerson who may act for the patient as parent or guardian (ouder met gezag). */
export function isParentWithAuthority(r: RelatedPerson): boolean {
  if (r.active === false) return false;
  return (r.relationship ?? []).some(
    (c) =>
      (c.text !== undefined && PARENT_WORDS.test(c.text)) ||
      (c.coding ?? []).some((x) => (x.code !== undefined && PARENT_CODES.has(x.code)) || (x.display !== undefined && PARENT_WORDS.test(x.display))),
  );
}

/** Appointment id → the session report (DocumentReference with category verslag) that points at it. */
export function reportsByAppointment(resources: { resourceType: string }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of resources) {
    if (r.resourceType !== 'DocumentReference') continue;
    const doc = r as DocumentReference;
    if (!doc.id || doc.status !== 'current' || !isSessionReport(doc)) continue;
    for (const related of doc.context?.related ?? []) {
      const appointmentId = referenceId(related, 'Appointment');
      if (appointmentId && !out.has(appointmentId)) out.set(appointmentId, doc.id);
    }
  }
  return out;
}

// --- Writes: the resources the portal creates or changes for the client (pure builders) ---

/** Tags the portal's approval Provenances (R4 Provenance has no identifier), so a retried approval is found. */
export const PORTAL_APPROVAL_SYSTEM = 'urn:ggz-portal:approval';
/** Identifies goals the client added through the portal. */
export const PORTAL_GOAL_SYSTEM = 'urn:ggz-portal:goal';
/** Identifies the client's consent per topic (one Consent per client and topic). */
export const PORTAL_CONSENT_SYSTEM = 'urn:ggz-portal:consent';
/** Identifies the QuestionnaireResponse of a questionnaire assignment. */
export const PORTAL_ASSIGNMENT_SYSTEM = 'urn:ggz-portal:questionnaire-assignment';
/** A Coverage as the client's insurance: the payor's name, the subscriber id as policy number, the period. */
export function toInsurance(c: Coverage): EhrInsurance | null {
  if (c.status === 'entered-in-error' || c.status === 'draft') return null;
  const insurer = c.payor?.[0]?.display ?? c.class?.find((k) => k.type?.coding?.[0]?.code === 'plan')?.name ?? null;
  if (!insurer || !c.id) return null;
  return {
    externalId: c.id,
    insurer,
    policyNumber: c.subscriberId ?? c.identifier?.[0]?.value ?? null,
    from: c.period?.start?.slice(0, 10) ?? null,
    until: c.period?.end?.slice(0, 10) ?? null,
  };
}

/** A document the client added from the portal, identified by the portal's document id. */
export const PORTAL_DOCUMENT_SYSTEM = 'urn:ggz-portal:document';
/** The portal's conversation a Communication belongs to (topic.coding), on what the portal sends and what answers it. */
export const PORTAL_CONVERSATION_SYSTEM = 'urn:ggz-portal:conversation';

/** The client's upload as a DocumentReference: the bytes inline (small), or a reference to the Binary that holds them. */
export function toUploadedDocument(clientId: string, upload: EhrUploadedDocument, content: { bytes: Buffer } | { url: string }): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    identifier: [{ system: PORTAL_DOCUMENT_SYSTEM, value: upload.documentId }],
    status: 'current',
    subject: { reference: `Patient/${clientId}` },
    date: upload.at,
    author: [actorReference(clientId, upload.uploadedBy)],
    description: upload.title,
    content: [
      {
        attachment: {
          contentType: upload.mediaType,
          title: upload.title,
          ...('bytes' in content ? { size: content.bytes.length, data: content.bytes.toString('base64') } : { size: upload.size, url: content.url }),
        },
      },
    ],
  };
}

/** The client story's DocumentReference: one per patient, identified by the portal. */
export const PORTAL_STORY_SYSTEM = 'urn:ggz-portal:client-story';

export const isClientStory = (d: DocumentReference): boolean => Boolean(d.identifier?.some((i) => i.system === PORTAL_STORY_SYSTEM));

/** The client story as a DocumentReference of its own type; withdrawn, it is entered in error and carries no text. */
export function toStoryDocument(clientId: string, story: EhrClientStory): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    identifier: [{ system: PORTAL_STORY_SYSTEM, value: clientId }],
    status: story.shared ? 'current' : 'entered-in-error',
    type: { coding: [{ system: PORTAL_STORY_SYSTEM, code: 'mijn-verhaal', display: 'Mijn verhaal' }], text: 'Mijn verhaal' },
    subject: { reference: `Patient/${clientId}` },
    date: story.at,
    author: [actorReference(clientId, story.by)],
    description: 'Mijn verhaal, door de cliënt gedeeld',
    content: [
      {
        attachment: story.shared
          ? { contentType: 'text/plain; charset=utf-8', title: 'Mijn verhaal', data: Buffer.from(story.text, 'utf8').toString('base64') }
          : { contentType: 'text/plain; charset=utf-8', title: 'Mijn verhaal (ingetrokken)' },
      },
    ],
  };
}

/** AUTHEN with the word akkoord: what isApprovalActivity reads as the client's akkoord. */
const AKKOORD_ACTIVITY: CodeableConcept = { coding: [{ system: PARTICIPATION_TYPE, code: 'AUTHEN', display: 'authenticator' }], text: APPROVAL_TEXT };
const ATTESTER: CodeableConcept = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'attester', display: 'Attester' }],
};
const ACTOR_ROLE: Record<EhrActor['kind'], string | undefined> = {
  CLIENT: undefined,
  PARENT: 'ouder met gezag',
  REPRESENTATIVE: 'wettelijk vertegenwoordiger',
  NETWORK_MEMBER: 'netwerklid met toestemming van de cliënt',
};

/**
 * The client as a reference to their Patient; anyone acting for them as a logical RelatedPerson
 * reference (type and name): the portal knows their name, not a RelatedPerson id in this EHR.
 */
export function actorReference(clientId: string, actor: EhrActor): Reference<Patient | RelatedPerson> {
  return actor.kind === 'CLIENT' ? { reference: `Patient/${clientId}`, display: actor.name } : { type: 'RelatedPerson', display: actor.name };
}

/**
 * The tag of one approval: the target and the version approved, so a retry finds the Provenance it
 * made (conditional create on `_tag`) while a new version asking for a new akkoord gets its own.
 */
export function approvalTag(target: { resourceType: string; id?: string; meta?: { versionId?: string } }): string {
  return `${target.resourceType}-${target.id ?? ''}-${target.meta?.versionId ?? '0'}`;
}

/** The client's akkoord as a Provenance, in exactly the shape isClientApproval reads. */
export function toApprovalProvenance(
  clientId: string,
  target: { resourceType: string; id?: string; meta?: { versionId?: string } },
  approval: Pick<EhrApproval, 'by' | 'at'>,
): Provenance {
  const role = ACTOR_ROLE[approval.by.kind];
  return {
    resourceType: 'Provenance',
    meta: { tag: [{ system: PORTAL_APPROVAL_SYSTEM, code: approvalTag(target) }] },
    target: [{ reference: `${target.resourceType}/${target.id ?? ''}` }],
    recorded: approval.at,
    activity: AKKOORD_ACTIVITY,
    agent: [
      {
        type: ATTESTER,
        ...(role ? { role: [{ text: role }] } : {}),
        who: actorReference(clientId, approval.by),
        ...(approval.by.kind === 'CLIENT' ? {} : { onBehalfOf: { reference: `Patient/${clientId}` } }),
      },
    ],
  };
}

/** A goal the client (or someone acting for them) added: a portal identifier, or expressed by the client's side. */
export function isClientGoal(goal: Goal): boolean {
  return (goal.identifier ?? []).some((i) => i.system === PORTAL_GOAL_SYSTEM) || isClientSide(goal.expressedBy);
}

/**
 * A goal the client proposes for their plan: `proposed` until the practitioner takes it on (the
 * plan, and with it the goal, is agreed by the client's akkoord), expressed by the client's side.
 */
export function toPortalGoal(clientId: string, goal: EhrNewGoal): Goal {
  return {
    resourceType: 'Goal',
    identifier: [{ system: PORTAL_GOAL_SYSTEM, value: goal.goalId }],
    lifecycleStatus: 'proposed',
    description: { text: goal.description },
    subject: { reference: `Patient/${clientId}` },
    expressedBy: actorReference(clientId, goal.addedBy),
    startDate: dutchDate(goal.at),
    statusDate: dutchDate(goal.at),
  };
}

/** The plan with `goalRef` added once (a retry adds nothing). */
export function withGoal(plan: CarePlan, goalRef: string): CarePlan {
  const goals = plan.goal ?? [];
  return goals.some((g) => referenceKey(g) === goalRef) ? plan : { ...plan, goal: [...goals, { reference: goalRef }] };
}

/** The plan without any reference to `goalRef`. */
export function withoutGoal(plan: CarePlan, goalRef: string): CarePlan {
  return { ...plan, goal: (plan.goal ?? []).filter((g) => referenceKey(g) !== goalRef) };
}

/**
 * A consent choice: `active` with a permit provision when given, `rejected` with a deny provision
 * when refused or withdrawn. Privacy scope, LOINC 59284-0 and opt-in policy as R4's examples do
 * (ppc-1 wants a policy rule); the topic is the portal identifier and a provision code.
 */
/**
 * A Consent as the portal shows it: the topic is the portal's identifier (what setConsent writes),
 * else the provision's or category's code; given while active and not a deny. Null for one entered
 * in error.
 */
export function fromConsent(c: Consent): EhrConsent | null {
  if (c.status === 'entered-in-error') return null;
  const topic =
    c.identifier?.find((i) => i.system === PORTAL_CONSENT_SYSTEM)?.value ??
    c.provision?.code?.[0]?.coding?.[0]?.code ??
    c.category?.[0]?.coding?.[0]?.code ??
    c.id;
  if (!topic) return null;
  return {
    topic,
    description: c.provision?.code?.[0]?.text ?? c.category?.[0]?.text ?? null,
    granted: c.status === 'active' && c.provision?.type !== 'deny',
    changedAt: c.dateTime ?? null,
  };
}

export function toConsent(clientId: string, choice: EhrConsentChoice): Consent {
  return {
    resourceType: 'Consent',
    identifier: [{ system: PORTAL_CONSENT_SYSTEM, value: choice.topic }],
    status: choice.granted ? 'active' : 'rejected',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }], text: choice.description ?? choice.topic }],
    patient: { reference: `Patient/${clientId}` },
    dateTime: choice.at,
    performer: [actorReference(clientId, choice.by)],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN', display: 'opt-in' }] },
    provision: {
      type: choice.granted ? 'permit' : 'deny',
      code: [{ coding: [{ system: PORTAL_CONSENT_SYSTEM, code: choice.topic }], ...(choice.description ? { text: choice.description } : {}) }],
    },
  };
}

/** One answer typed as the question asks, as answerText reads it back; text where the value does not fit the type. */
export function toAnswer(type: EhrQuestionnaireAnswers['answers'][number]['type'], value: string): QuestionnaireResponseItemAnswer {
  const v = value.trim();
  if (type === 'BOOLEAN') {
    if (/^(true|ja|yes)$/i.test(v)) return { valueBoolean: true };
    if (/^(false|nee|no)$/i.test(v)) return { valueBoolean: false };
  }
  if (type === 'SCALE') {
    if (/^-?\d+$/.test(v)) return { valueInteger: Number(v) };
    if (/^-?\d+(\.\d+)?$/.test(v)) return { valueDecimal: Number(v) };
  }
  if (type === 'DATE' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return { valueDate: v };
  return { valueString: value };
}

/**
 * The answers of one assignment as a QuestionnaireResponse (identifier = the assignment), one item
 * per question; an unanswered question keeps its item without an answer (R4 allows no empty answer).
 */
export function toQuestionnaireResponse(clientId: string, input: EhrQuestionnaireAnswers): QuestionnaireResponse {
  const person = actorReference(clientId, input.by);
  return {
    resourceType: 'QuestionnaireResponse',
    identifier: { system: PORTAL_ASSIGNMENT_SYSTEM, value: input.assignmentId },
    questionnaire: input.questionnaire,
    status: input.status === 'COMPLETED' ? 'completed' : 'in-progress',
    subject: { reference: `Patient/${clientId}` },
    authored: input.at,
    author: person,
    source: person,
    item: input.answers.map((a) => ({
      linkId: a.questionId,
      ...(a.question ? { text: a.question } : {}),
      ...(a.value !== null && a.value.trim() !== '' ? { answer: [toAnswer(a.type, a.value)] } : {}),
    })),
  };
}

const ITEM_TYPE: Partial<Record<string, EhrQuestionType>> = {
  string: 'TEXT',
  text: 'TEXT',
  choice: 'CHOICE',
  'open-choice': 'CHOICE',
  integer: 'SCALE',
  decimal: 'SCALE',
  date: 'DATE',
  dateTime: 'DATE',
  boolean: 'BOOLEAN',
};

function optionText(o: NonNullable<QuestionnaireItem['answerOption']>[number]): string | null {
  if (o.valueString !== undefined) return o.valueString;
  if (o.valueInteger !== undefined) return String(o.valueInteger);
  if (o.valueDate !== undefined) return o.valueDate;
  return o.valueCoding?.display ?? o.valueCoding?.code ?? null;
}

/** The questions of a list of items (display items and unknown types left out), nested groups flattened into it. */
function toQuestions(items: QuestionnaireItem[]): EhrQuestion[] {
  return items.flatMap((item): EhrQuestion[] => {
    if (item.type === 'group') return toQuestions(item.item ?? []);
    const type = ITEM_TYPE[item.type];
    if (!type || !item.text) return [];
    const options = (item.answerOption ?? []).map(optionText).filter((o): o is string => o !== null);
    return [{ id: item.linkId, text: item.text, type, options: options.length ? options : null, required: Boolean(item.required) }];
  });
}

/** An answer as the portal keeps it: a choice's text, a number, YYYY-MM-DD, true/false. */
function answerValue(a: QuestionnaireResponseItemAnswer): string | null {
  if (a.valueBoolean !== undefined) return a.valueBoolean ? 'true' : 'false';
  if (a.valueDateTime !== undefined) return a.valueDateTime.slice(0, 10);
  return answerText(a);
}

/**
 * A Task whose focus is a Questionnaire, as an assignment: the questionnaire's top-level groups
 * are its pages (loose questions a page of their own, first), and the portal's completed
 * QuestionnaireResponse for it (identifier = the Task) its sent answers. A Task the EHR completed
 * without one is completed without answers.
 */
export function toAssignment(task: Task, questionnaire: Questionnaire, response?: QuestionnaireResponse): EhrQuestionnaireAssignment {
  const items = questionnaire.item ?? [];
  const loose = toQuestions(items.filter((i) => i.type !== 'group'));
  const pages = [
    ...(loose.length ? [{ title: null, questions: loose }] : []),
    ...items.filter((i) => i.type === 'group').map((g) => ({ title: g.text ?? null, questions: toQuestions(g.item ?? []) })),
  ].filter((p) => p.questions.length);
  const sent = response && (response.status === 'completed' || response.status === 'amended') ? response : undefined;
  const completedAt = sent ? (sent.authored ?? task.lastModified ?? null) : task.status === 'completed' ? (task.lastModified ?? task.authoredOn ?? null) : null;
  return {
    externalId: task.id!,
    questionnaire: questionnaire.url ?? `Questionnaire/${questionnaire.id}`,
    title: questionnaire.title ?? task.description ?? 'Vragenlijst',
    assignedAt: task.authoredOn ?? task.meta?.lastUpdated ?? new Date(0).toISOString(),
    pages,
    completedAt,
    ...(sent ? { answers: (sent.item ?? []).map((i) => ({ questionId: i.linkId, value: i.answer?.[0] ? answerValue(i.answer[0]) : null })) } : {}),
  };
}

/** Whether two responses say the same (a "save and send" retried after it was sent). */
export function sameAnswers(a: QuestionnaireResponse, b: QuestionnaireResponse): boolean {
  const answers = (qr: QuestionnaireResponse) => JSON.stringify((qr.item ?? []).map((i) => [i.linkId, i.answer ?? []]));
  return answers(a) === answers(b);
}
