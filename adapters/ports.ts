/**
 * The ports every EHR adapter (and the mail/SMS/video ports) implement. Adapters know their
 * upstream and nothing of GraphQL; the gateway's modules know these interfaces only.
 *
 * Dates are ISO strings: `IsoDate` is YYYY-MM-DD, a calendar day in the Netherlands (see dutchDate
 * below), `IsoDateTime` is ISO 8601 with offset.
 * Ids are the upstream's own ids ("external ids"); the gateway maps them to its own client ids.
 */

export type IsoDate = string;
export type IsoDateTime = string;

/** Who asks, for which client, and a way to give up: passed to every adapter call. */
export interface AdapterRequestContext {
  requestId: string;
  /** The account on whose session this call runs (for the upstream's own audit), if any. */
  accountId?: string;
  signal?: AbortSignal;
}

export interface EhrClient {
  externalId: string;
  name: string;
  birthDate?: IsoDate | null;
  gender?: string | null;
  /** Whether the client still has an open episode of care (access ends when treatment ends). */
  inTreatment?: boolean;
  /** When the last episode closed, if it did. */
  treatmentEndedAt?: IsoDateTime | null;
  /** The client's mobile number as the organisation has it on file: login codes may go there (Extenzo). */
  mobilePhone?: string | null;
}

export interface EhrPractitioner {
  externalId: string;
  name: string;
  profession?: string | null;
  phone?: string | null;
  email?: string | null;
}

export interface EhrDossierOverview {
  dossierNumber: string;
  registrationDate?: IsoDate | null;
  registrationReason?: string | null;
  diagnosis?: string | null;
  careDemandType?: string | null;
}

export interface EhrIntakeReport {
  sections: { title: string; items: { question: string; answer?: string | null }[] }[];
}

export interface EhrMedication {
  externalId: string;
  name: string;
  dosage?: string | null;
  since?: IsoDate | null;
  until?: IsoDate | null;
  prescriberId?: string | null;
}

export interface EhrAllergy {
  externalId: string;
  substance: string;
  reaction?: string | null;
  recordedAt?: IsoDate | null;
}

export interface EhrContraIndication {
  externalId: string;
  description: string;
  recordedAt?: IsoDate | null;
}

export type EhrTreatmentPlanStatus = 'DRAFT' | 'AWAITING_APPROVAL' | 'APPROVED' | 'FINAL';

export interface EhrTreatmentPlan {
  externalId: string;
  status: EhrTreatmentPlanStatus;
  careQuestion?: string | null;
  problemDescription?: string | null;
  indication?: string | null;
  explanation?: string | null;
  goals: EhrTreatmentGoal[];
  responsiblePractitionerIds: string[];
  createdAt: IsoDateTime;
  finalisedAt?: IsoDateTime | null;
  approvedAt?: IsoDateTime | null;
  approvedBy?: string | null;
}

export interface EhrTreatmentGoal {
  externalId: string;
  description: string;
  addedBy: string;
  /** Added by the client or someone acting for them: such a goal may be removed until the plan is approved. */
  byClient?: boolean;
}

export type EhrTeamRole = 'LEAD' | 'DEPUTY_LEAD' | 'CO_PRACTITIONER';

export interface EhrTeamMember {
  practitionerId: string;
  role: EhrTeamRole;
  from: IsoDate;
  until?: IsoDate | null;
}

export interface EhrTreatmentEffort {
  plannedMinutes: number;
  activities: { practitionerId: string; date: IsoDate; minutes: number; activity: string; consultType: string }[];
}

export interface EhrSessionReport {
  externalId: string;
  date: IsoDateTime;
  title: string;
  authorId?: string | null;
  body?: string | null;
  needsApproval: boolean;
  approvedAt?: IsoDateTime | null;
  /** The appointment this report belongs to, if any. */
  appointmentId?: string | null;
}

export interface EhrDocument {
  externalId: string;
  name: string;
  mediaType: string;
  uploadedBy: string;
  uploadedAt: IsoDateTime;
  needsApproval: boolean;
  approvedAt?: IsoDateTime | null;
}

export interface EhrDocumentContent {
  name: string;
  mediaType: string;
  size?: number;
  stream: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
}

export interface EhrAppointment {
  externalId: string;
  start: IsoDateTime;
  end: IsoDateTime;
  type: string;
  practitionerId: string;
  location?: string | null;
  online: boolean;
  reportId?: string | null;
  /** Organisation-only appointments are visible with AGENDA_VIEW_ORGANISATION only. */
  organisationOnly?: boolean;
}

export interface TimeWindow {
  from?: IsoDateTime;
  to?: IsoDateTime;
}

/** A file attached to an outbound message; its bytes are read only by the adapter that sends them. */
export interface EhrOutboundAttachment {
  id: string;
  name: string;
  mediaType: string;
  size: number;
  content(): Promise<NodeJS.ReadableStream>;
}

/** A message the portal hands to the EHR (through the outbox). */
export interface EhrOutboundMessage {
  messageId: string;
  conversationId: string;
  subject: string;
  body: string;
  authorName: string;
  recipientPractitionerIds: string[];
  sentAt: IsoDateTime;
  attachments?: EhrOutboundAttachment[];
}

/**
 * Who does something in the portal for the client, as the EHR should record it: the client, a
 * parent with authority, a legal representative or a network member the client permitted.
 */
export interface EhrActor {
  /** The name the EHR shows (the portal account's display name). */
  name: string;
  kind: 'CLIENT' | 'PARENT' | 'REPRESENTATIVE' | 'NETWORK_MEMBER';
}

/** What can ask for the client's akkoord. */
export type EhrApprovalTarget = 'TREATMENT_PLAN' | 'DOCUMENT' | 'SESSION_REPORT';

/** The client's akkoord on a plan, document or session report. */
export interface EhrApproval {
  target: EhrApprovalTarget;
  /** The plan's, document's or report's external id. */
  itemId: string;
  by: EhrActor;
  at: IsoDateTime;
}

/** A goal the client adds to their treatment plan (allowed until the plan is approved). */
export interface EhrNewGoal {
  /** Chosen by the portal, so a retried add creates one goal. */
  goalId: string;
  planId: string;
  description: string;
  addedBy: EhrActor;
  at: IsoDateTime;
}

/** Takes a goal the client added out of a plan that is not approved yet. */
export interface EhrGoalRemoval {
  planId: string;
  /** The goal's external id, as the plan lists it. */
  goalId: string;
  removedBy: EhrActor;
  at: IsoDateTime;
}

/** The client's health insurance as the EHR records it (FHIR Coverage). */
export interface EhrInsurance {
  externalId: string;
  insurer: string;
  policyNumber?: string | null;
  from?: IsoDate | null;
  until?: IsoDate | null;
}

/** The client (or someone managing their agenda) calls off an upcoming appointment. */
export interface EhrAppointmentCancellation {
  appointmentId: string;
  reason?: string | null;
  by: EhrActor;
  at: IsoDateTime;
}

/** A document the client adds to their dossier (an upload the portal checked: type and size). */
export interface EhrUploadedDocument {
  /** Chosen by the portal, so a retried write files one document. */
  documentId: string;
  title: string;
  fileName: string;
  mediaType: string;
  size: number;
  content(): Promise<NodeJS.ReadableStream>;
  uploadedBy: EhrActor;
  at: IsoDateTime;
}

/** The client story (Mijn Verhaal) as the client shares it with the care organisation, or withdraws it. */
export interface EhrClientStory {
  /** false: the client withdrew the consent; the organisation's copy is marked entered in error. */
  shared: boolean;
  text: string;
  by: EhrActor;
  at: IsoDateTime;
}

/** A consent the EHR keeps for the client (toestemming), as it stands now. */
export interface EhrConsent {
  /** The topic's code: one consent per client and topic. */
  topic: string;
  description?: string | null;
  granted: boolean;
  changedAt?: IsoDateTime | null;
}

/** The client's choice on one consent topic (toestemming), e.g. sharing data with the GP. */
export interface EhrConsentChoice {
  /** The topic's code; one consent per client and topic, the latest choice wins. */
  topic: string;
  /** How the topic reads to a person, kept with the consent. */
  description?: string;
  granted: boolean;
  by: EhrActor;
  at: IsoDateTime;
}

export type EhrQuestionType = 'TEXT' | 'CHOICE' | 'SCALE' | 'DATE' | 'BOOLEAN';

/** One question of a questionnaire (FHIR: a Questionnaire item), with the answers it accepts. */
export interface EhrQuestion {
  /** Stable within the questionnaire (FHIR linkId). */
  id: string;
  text: string;
  type: EhrQuestionType;
  /** CHOICE: the options; SCALE: the steps, lowest first. */
  options?: string[] | null;
  required: boolean;
}

/** A questionnaire the practitioner assigned to the client (FHIR: a Task whose focus is a Questionnaire). */
export interface EhrQuestionnaireAssignment {
  externalId: string;
  /** The Questionnaire: a canonical URL or id. */
  questionnaire: string;
  title: string;
  assignedAt: IsoDateTime;
  /** The questionnaire's groups, in order; a questionnaire without groups is one page. */
  pages: { title?: string | null; questions: EhrQuestion[] }[];
  /** Once the answers were sent: when, and what (read-only from then on). */
  completedAt?: IsoDateTime | null;
  answers?: { questionId: string; value: string | null }[];
}

/** A questionnaire's answers as saved so far (IN_PROGRESS) or sent (COMPLETED, read-only after). */
export interface EhrQuestionnaireAnswers {
  /** The assignment the answers belong to: one response per assignment, each save replaces the last. */
  assignmentId: string;
  /** The Questionnaire answered: a canonical URL or id. */
  questionnaire: string;
  status: 'IN_PROGRESS' | 'COMPLETED';
  answers: { questionId: string; question?: string; type?: EhrQuestionType; value: string | null }[];
  by: EhrActor;
  at: IsoDateTime;
}

/**
 * What a write did. Done also when it had been done before (writes are idempotent: a retried call
 * changes nothing more). A refusal is an answer, not a failure, so it never counts against the
 * adapter's circuit breaker: NOT_FOUND when the client has no such item, NOT_CHANGEABLE when the
 * EHR's rules forbid it (an approved plan's goals, a goal the practitioner set, nothing to approve,
 * a questionnaire already sent).
 */
export type EhrWriteResult =
  | { done: true; /** The external id of what was created, where something was. */ id?: string }
  | { done: false; refusal: 'NOT_FOUND' | 'NOT_CHANGEABLE'; reason: string };

/** A write the EHR refuses, as every adapter answers it. */
export function writeRefused(refusal: 'NOT_FOUND' | 'NOT_CHANGEABLE', reason: string): EhrWriteResult {
  return { done: false, refusal, reason };
}

/** A sync event made from an upstream's own notification (the gateway stores and processes it like POST /sync/events). */
export interface EhrNotificationEvent {
  id: string;
  type: 'message.created' | 'dossier.changed' | 'appointment.upserted' | 'document.published' | 'questionnaire.assigned';
  source: string;
  clientId: string;
  occurredAt?: string;
  data: Record<string, unknown>;
}

/** A notification that is not one the adapter can read: refused with its reason (400). */
export class NotificationRefusedError extends Error {}

export interface EhrAdapter {
  /** The name used in EHR_ADAPTERS and in every item's `source`. */
  readonly name: string;

  findClientByBsn(bsn: string, ctx: AdapterRequestContext): Promise<EhrClient | null>;
  getClient(externalId: string, ctx: AdapterRequestContext): Promise<EhrClient | null>;
  /** Children that the EHR lists for a parent with authority, found by the parent's BSN. */
  findChildrenOfParent(parentBsn: string, ctx: AdapterRequestContext): Promise<EhrClient[]>;

  getDossierOverview(clientId: string, ctx: AdapterRequestContext): Promise<EhrDossierOverview | null>;
  getIntakeReport(clientId: string, ctx: AdapterRequestContext): Promise<EhrIntakeReport | null>;
  listMedications(clientId: string, ctx: AdapterRequestContext): Promise<EhrMedication[]>;
  listAllergies(clientId: string, ctx: AdapterRequestContext): Promise<EhrAllergy[]>;
  listContraIndications(clientId: string, ctx: AdapterRequestContext): Promise<EhrContraIndication[]>;
  getTreatmentPlan(clientId: string, ctx: AdapterRequestContext): Promise<EhrTreatmentPlan | null>;
  listTreatmentTeam(clientId: string, ctx: AdapterRequestContext): Promise<EhrTeamMember[]>;
  getTreatmentEffort(clientId: string, ctx: AdapterRequestContext): Promise<EhrTreatmentEffort | null>;
  listSessionReports(clientId: string, ctx: AdapterRequestContext): Promise<EhrSessionReport[]>;
  listDocuments(clientId: string, ctx: AdapterRequestContext): Promise<EhrDocument[]>;
  /** Streams a document; never cached by the gateway. Null when the client has no such document. */
  getDocumentContent(clientId: string, documentId: string, ctx: AdapterRequestContext): Promise<EhrDocumentContent | null>;
  listAppointments(clientId: string, window: TimeWindow, ctx: AdapterRequestContext): Promise<EhrAppointment[]>;
  /** Batch: one call for many ids; unknown ids are simply absent from the answer. */
  getPractitioners(ids: readonly string[], ctx: AdapterRequestContext): Promise<EhrPractitioner[]>;

  /** Hands a client's message to the EHR; idempotent by messageId. */
  sendMessage?(clientId: string, message: EhrOutboundMessage, ctx: AdapterRequestContext): Promise<void>;
  /** Withdraws the copy of a message its author deleted (its text gone, marked withdrawn); idempotent, and done when there is no copy. */
  withdrawMessage?(clientId: string, messageId: string, ctx: AdapterRequestContext): Promise<void>;

  /** Records the client's akkoord on a plan, document or report (a plan is then approved); idempotent. */
  approve?(clientId: string, approval: EhrApproval, ctx: AdapterRequestContext): Promise<EhrWriteResult>;
  /** Adds a client's goal to a plan not yet approved; idempotent by goalId, answers the goal's external id. */
  addTreatmentGoal?(clientId: string, goal: EhrNewGoal, ctx: AdapterRequestContext): Promise<EhrWriteResult>;
  /** Removes a goal the client added from a plan not yet approved; done when it is already gone. */
  removeTreatmentGoal?(clientId: string, removal: EhrGoalRemoval, ctx: AdapterRequestContext): Promise<EhrWriteResult>;
  /** Cancels an upcoming appointment where the EHR allows it (NOT_CHANGEABLE where it does not: too late, already held); done when it is cancelled already. */
  cancelAppointment?(clientId: string, cancellation: EhrAppointmentCancellation, ctx: AdapterRequestContext): Promise<EhrWriteResult>;
  /** Files a document the client uploaded in their dossier; idempotent by documentId, answers the document's external id. */
  uploadDocument?(clientId: string, document: EhrUploadedDocument, ctx: AdapterRequestContext): Promise<EhrWriteResult>;
  /** Puts the client's story in the EHR (one per client, replaced on every share) or withdraws it; idempotent. */
  shareClientStory?(clientId: string, story: EhrClientStory, ctx: AdapterRequestContext): Promise<EhrWriteResult>;
  /** The client's consents in the EHR (each topic once, as it stands). */
  listConsents?(clientId: string, ctx: AdapterRequestContext): Promise<EhrConsent[]>;
  /** Records a consent choice; one consent per client and topic, so setting it again updates it. */
  setConsent?(clientId: string, choice: EhrConsentChoice, ctx: AdapterRequestContext): Promise<EhrWriteResult>;
  /** The client's insurance (zorgverzekering), current and past. */
  listInsurance?(clientId: string, ctx: AdapterRequestContext): Promise<EhrInsurance[]>;
  /** The questionnaires assigned to the client, open and completed. */
  listQuestionnaireAssignments?(clientId: string, ctx: AdapterRequestContext): Promise<EhrQuestionnaireAssignment[]>;
  /** Saves a questionnaire's answers for an assignment; refused once a different set was sent (COMPLETED). */
  saveQuestionnaireAnswers?(clientId: string, answers: EhrQuestionnaireAnswers, ctx: AdapterRequestContext): Promise<EhrWriteResult>;

  /**
   * Turns the upstream's own change notification (a FHIR Subscription rest-hook's resource, say)
   * into a sync event of ../shared/contract/http.md; throws NotificationRefusedError for one it
   * cannot read. Adapters without it have no notification endpoint.
   */
  notificationToEvent?(notification: unknown): EhrNotificationEvent;

  /** Cheap liveness probe: does the upstream answer (asked once at start). */
  ping(signal?: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}
export interface MailPort {
  send(message: MailMessage): Promise<void>;
}

export interface SmsMessage {
  to: string;
  text: string;
}
export interface SmsPort {
  send(message: SmsMessage): Promise<void>;
}

/** Where uploaded files (message attachments) are kept: local disk embedded, an S3-compatible store in production. */
export interface FileStoragePort {
  /** Stores the stream under a key; answers the bytes written. Rejects (and leaves nothing) if the stream fails. */
  put(key: string, stream: NodeJS.ReadableStream): Promise<number>;
  /** The stored bytes, or null when nothing is stored under the key. */
  get(key: string): Promise<NodeJS.ReadableStream | null>;
  delete(key: string): Promise<void>;
}

// --- Koppeltaal 2.0: eHealth modules assigned in the care organisation's Koppeltaal domain ---

/** Where the EHRs know a client (the gateway's client_sources row): how the Koppeltaal Patient is found. */
export interface KoppeltaalClientRef {
  source: string;
  externalId: string;
}

/**
 * One eHealth module assigned to a client: a KT2_Task with what its KT2_ActivityDefinition says.
 * FHIR R4 `Task.status` as it stands (requested, ready, in-progress, completed, cancelled, ...).
 */
export interface KoppeltaalTask {
  /** The Task's logical id on the Koppeltaal server. */
  id: string;
  status: string;
  /** The Patient the Task is `for` (its logical id), if it names one by reference. */
  patientId: string | null;
  /** Who carries it out (`Task.owner`): `Patient/<id>`, `RelatedPerson/<id>`, `Practitioner/<id>`, or null. */
  owner: string | null;
  /** The ActivityDefinition it instantiates: the `instantiates` extension's reference, else `instantiatesCanonical`. */
  definition: string | null;
  title: string;
  description: string | null;
  /** The module's launch URL: the ActivityDefinition's KT2EndpointExtension → Endpoint.address. */
  launchUrl: string | null;
  /** The module provider's Device (`Device/<id>`): the ActivityDefinition's resource-origin, else the Task's. */
  device: string | null;
  /** 0–100, where the module reports it (a Task.output typed `progress`); null otherwise. */
  progress: number | null;
  lastModified: IsoDateTime | null;
  /** When the server last stored it (`meta.lastUpdated`): what a search by `_lastUpdated` compares. */
  updatedAt?: IsoDateTime | null;
}

/** The Koppeltaal domain's FHIR server, as the eHealth module reads it. */
export interface KoppeltaalPort {
  readonly name: string;
  /** The client's Patient in the domain (its logical id), found by the EHR's patient identifier; null when not there. */
  findPatient(refs: readonly KoppeltaalClientRef[], ctx: AdapterRequestContext): Promise<string | null>;
  /** Which of the gateway's client records a domain Patient is (for a Task that changed); null when none. */
  clientRefOf(patientId: string, ctx: AdapterRequestContext): Promise<KoppeltaalClientRef | null>;
  /** The RelatedPerson of this Patient that is the viewer (by e-mail in its telecom), its logical id; null when none. */
  findRelatedPerson(patientId: string, email: string, ctx: AdapterRequestContext): Promise<string | null>;
  /** The Patient's top-level Tasks (not subtasks), every status. */
  listTasks(patientId: string, ctx: AdapterRequestContext): Promise<KoppeltaalTask[]>;
  getTask(taskId: string, ctx: AdapterRequestContext): Promise<KoppeltaalTask | null>;
  /** Tasks changed at or after `since`, oldest first (a payload-less rest-hook says only that something changed). */
  changedTasks(since: IsoDateTime, ctx: AdapterRequestContext): Promise<ChangedTasks>;
}

/** One answer of changed Tasks: `complete` is false when more changed than one answer holds (ask again from the newest one's time). */
export interface ChangedTasks {
  tasks: KoppeltaalTask[];
  complete: boolean;
}

// --- Tracing: what the port carries besides its arguments ---

/**
 * The W3C trace headers (`traceparent`, `tracestate`) of one adapter attempt, keyed by the abort
 * signal the gateway gives that attempt (each attempt has its own): an adapter that calls over
 * HTTP adds `traceHeadersOf(ctx.signal)` to its request, so the EHR's own logs and traces continue
 * the portal's. Set by the gateway (src/observability/tracing.ts); nothing when no trace runs.
 */
const bySignal = new WeakMap<AbortSignal, Readonly<Record<string, string>>>();

export function traceCall(signal: AbortSignal, headers: Readonly<Record<string, string>>): void {
  bySignal.set(signal, headers);
}

export function traceHeadersOf(signal: AbortSignal | undefined): Readonly<Record<string, string>> | undefined {
  return signal ? bySignal.get(signal) : undefined;
}

// --- Failures: what an adapter's caller may try again ---

/**
 * Whether a failed upstream call was a passing trouble of the way there: the upstream saying it is
 * overloaded or unavailable (429, 502, 503, 504, as `status` on the error), or a refused, reset or
 * timed-out connection (`code` on the error or its cause; fetch's "fetch failed" carries it as the
 * cause). One rule for every caller that retries (the EHR registry, the Koppeltaal adapter).
 */
export function transientUpstreamFailure(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number') return status === 429 || status === 502 || status === 503 || status === 504;
  const code = (err as { code?: unknown; cause?: { code?: unknown } }).code ?? (err as { cause?: { code?: unknown } }).cause?.code;
  if (typeof code === 'string') return TRANSIENT_CODES.has(code);
  // Anything else is not known to pass.
  return err instanceof TypeError && /fetch failed|socket/i.test(err.message);
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Calendar days as the people using a portal live them: in the Netherlands. A birth date, an end
 * date of a team member's part, "today", a date typed on the command line: each is a day in
 * Europe/Amsterdam, not in UTC (a day there begins at 22:00 or 23:00 UTC the evening before).
 * Here, with the ports, because `IsoDate` is such a day for adapters and modules alike.
 */
export const CARE_TIME_ZONE = 'Europe/Amsterdam';

const days = new Intl.DateTimeFormat('en-CA', { timeZone: CARE_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const clock = new Intl.DateTimeFormat('en-US', {
  timeZone: CARE_TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

let lastMinute = Number.NaN;
let lastDate = '';

/**
 * The date (YYYY-MM-DD) in the Netherlands at an instant (now by default; an ISO string is read as
 * one). The gate asks it for every decision (a child's age): the last answer is kept for its UTC
 * minute, which lies wholly in one Dutch day (the offsets are whole hours), so it is exact.
 */
export function dutchDate(at: Date | number | string = Date.now()): string {
  const ms = typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : at.getTime();
  const minute = Math.floor(ms / 60_000);
  if (minute !== lastMinute) {
    lastDate = days.format(ms);
    lastMinute = minute;
  }
  return lastDate;
}

/** The instant a Dutch calendar day (YYYY-MM-DD) begins: its 00:00 in Amsterdam, winter or summer time. */
export function startOfDutchDay(date: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const midnightUtc = Date.UTC(y, m - 1, d);
  // Amsterdam's offset at that midnight (no Dutch clock change happens near midnight).
  return new Date(midnightUtc - offsetAt(midnightUtc - offsetAt(midnightUtc)));
}

/** The Dutch calendar day after `date`. */
export function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** How far Amsterdam's clock is ahead of UTC at an instant, in ms (an hour in winter, two in summer). */
function offsetAt(ms: number): number {
  const parts = Object.fromEntries(clock.formatToParts(ms).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(ms / 1000) * 1000;
}
