import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type {
  AllergyIntolerance,
  Appointment,
  Bundle,
  CarePlan,
  CareTeam,
  Communication,
  Consent,
  Coverage,
  DocumentReference,
  Encounter,
  EpisodeOfCare,
  Flag,
  Goal,
  MedicationStatement,
  Patient,
  Practitioner,
  Provenance,
  Questionnaire,
  QuestionnaireResponse,
  Reference,
  RelatedPerson,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import type {
  AdapterRequestContext,
  EhrAdapter,
  EhrAllergy,
  EhrAppointment,
  EhrApproval,
  EhrClient,
  EhrConsentChoice,
  EhrContraIndication,
  EhrDocument,
  EhrDocumentContent,
  EhrDossierOverview,
  EhrIntakeReport,
  EhrGoalRemoval,
  EhrMedication,
  EhrClientStory,
  EhrConsent,
  EhrNewGoal,
  EhrUploadedDocument,
  EhrAppointmentCancellation,
  EhrInsurance,
  EhrOutboundMessage,
  EhrPractitioner,
  EhrQuestionnaireAnswers,
  EhrQuestionnaireAssignment,
  EhrSessionReport,
  EhrTeamMember,
  EhrTreatmentEffort,
  EhrTreatmentPlan,
  EhrWriteResult,
  TimeWindow,
} from '../ports';
import { dutchDate, traceHeadersOf, writeRefused, type EhrNotificationEvent } from '../ports';
import { fhirNotificationToEvent } from './fhir-notification';
import { issuedToken, readPages, TokenCache, type IssuedToken } from './fhir-http';
import {
  type Approvals,
  approvalsByTarget,
  approvalTag,
  BSN_SYSTEM,
  compareTimes,
  hasBsn,
  isAgreedPlan,
  isClientGoal,
  isContraIndication,
  isGoneGoal,
  isIntakeQuestionnaire,
  isParentWithAuthority,
  isSessionReport,
  isShownMedication,
  latestPlan,
  PORTAL_APPROVAL_SYSTEM,
  PORTAL_ASSIGNMENT_SYSTEM,
  PORTAL_CONSENT_SYSTEM,
  PORTAL_GOAL_SYSTEM,
  referenceId,
  referenceKey,
  reportsByAppointment,
  resourceKey,
  type Resolve,
  sameAnswers,
  toAllergy,
  toApprovalProvenance,
  fromConsent,
  PORTAL_STORY_SYSTEM,
  PORTAL_DOCUMENT_SYSTEM,
  toUploadedDocument,
  toInsurance,
  isClientStory,
  toStoryDocument,
  toConsent,
  toAppointment,
  toClient,
  toContraIndication,
  toDocument,
  toDossierOverview,
  toIntakeReport,
  toMedication,
  toPortalGoal,
  toPractitioner,
  toQuestionnaireResponse,
  toAssignment,
  toSessionReport,
  toTeamMembers,
  toTreatmentEffort,
  toTreatmentPlan,
  withGoal,
  withoutGoal,
  isListedTask,
  PORTAL_CONVERSATION_SYSTEM,
} from './fhir.mapping';

export type FhirAuth =
  { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'client_credentials'; tokenUrl: string; clientId: string; clientSecret: string };

export interface FhirAdapterOptions {
  baseUrl: string;
  auth: FhirAuth;
  /** Canonical URL or id of the intake Questionnaire (FHIR_INTAKE_QUESTIONNAIRE). */
  intakeQuestionnaire: string;
  name?: string;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Attachments up to this size travel inside the Communication (base64); larger ones are named only. */
  inlineAttachmentMaxBytes?: number;
  /** `_count` per page. */
  pageSize?: number;
  /** A guard against a server that pages forever. */
  maxPages?: number;
}

/** A non-2xx answer from the FHIR server; the registry's breaker and retries see it as a failure. */
export class FhirHttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
  ) {
    super(`FHIR server answered ${status} for ${url}`);
    this.name = 'FhirHttpError';
  }
}

/** Matches of a search plus whatever the server returned through _include/_revinclude. */
interface SearchResult<T extends Resource> {
  matches: T[];
  included: Resource[];
}

type Param = [string, string];

const FHIR_JSON = 'application/fhir+json';
/** Identifies the portal's messages (and conversations) in the EHR, so a resent message is recognised. */
export const PORTAL_MESSAGE_SYSTEM = 'urn:ggz-portal:message';
export { PORTAL_CONVERSATION_SYSTEM };

/**
 * EHR adapter over FHIR R4 REST. Every read is one search with `_include` where the screen needs
 * referenced resources; servers may ignore `_include` (the spec allows it), so what is missing is
 * fetched in one extra `_id` search per resource type, never one call per reference; likewise an
 * ignored `_revinclude` of approvals costs one `Provenance` search per list.
 * No retries here: the AdapterRegistry retries reads, so a slow upstream is retried at one layer only.
 */
export class FhirEhrAdapter implements EhrAdapter {
  readonly name: string;
  private readonly base: URL;
  private readonly fetchFn: typeof fetch;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly tokens: TokenSource;

  constructor(private readonly options: FhirAdapterOptions) {
    this.name = options.name ?? 'fhir';
    // A trailing slash makes relative resolution keep the base path (https://x/fhir/R4/ + Patient).
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.fetchFn = options.fetch ?? fetch;
    this.pageSize = options.pageSize ?? 100;
    this.maxPages = options.maxPages ?? 50;
    this.tokens = new TokenSource(options.auth, this.fetchFn);
  }

  async findClientByBsn(bsn: string, ctx: AdapterRequestContext): Promise<EhrClient | null> {
    const { matches, included } = await this.search<Patient>(
      'Patient',
      [
        ['identifier', `${BSN_SYSTEM}|${bsn}`],
        ['_revinclude', 'EpisodeOfCare:patient'],
      ],
      ctx.signal,
      { byPost: true },
    );
    // Some servers match identifiers loosely; the BSN must match exactly.
    const patient = matches.find((p) => hasBsn(p, bsn));
    if (!patient?.id) return null;
    return toClient(patient, await this.episodesOf(patient.id, included, ctx.signal));
  }

  async getClient(externalId: string, ctx: AdapterRequestContext): Promise<EhrClient | null> {
    const { matches, included } = await this.search<Patient>(
      'Patient',
      [
        ['_id', externalId],
        ['_revinclude', 'EpisodeOfCare:patient'],
      ],
      ctx.signal,
    );
    const patient = matches.find((p) => p.id === externalId);
    if (!patient) return null;
    return toClient(patient, await this.episodesOf(externalId, included, ctx.signal));
  }

  /**
   * Children through RelatedPerson: the parent is a RelatedPerson of each child, carrying the
   * parent's BSN and a parent/guardian relationship. Patient.link is for the same person's other
   * records and Patient.contact has no searchable identifier, so neither can find a parent's children.
   */
  async findChildrenOfParent(parentBsn: string, ctx: AdapterRequestContext): Promise<EhrClient[]> {
    const { matches, included } = await this.search<RelatedPerson>(
      'RelatedPerson',
      [
        ['identifier', `${BSN_SYSTEM}|${parentBsn}`],
        ['_include', 'RelatedPerson:patient'],
      ],
      ctx.signal,
      { byPost: true },
    );
    const refs = matches
      .filter((r) => hasBsn({ resourceType: 'Patient', identifier: r.identifier }, parentBsn) && isParentWithAuthority(r))
      .map((r) => r.patient);
    const resolve = await this.resolver(
      included,
      refs.map((ref) => ({ ref, type: 'Patient' })),
      ctx.signal,
    );
    const children = refs.map((ref) => resolve<Patient>(ref, 'Patient')).filter((p): p is Patient => !!p);
    return [...new Map(children.map((p) => [p.id, toClient(p)])).values()];
  }

  async getDossierOverview(clientId: string, ctx: AdapterRequestContext): Promise<EhrDossierOverview | null> {
    const { matches, included } = await this.search<EpisodeOfCare>(
      'EpisodeOfCare',
      [
        ['patient', `Patient/${clientId}`],
        ['_include', 'EpisodeOfCare:condition'],
        ['_include', 'EpisodeOfCare:incoming-referral'],
      ],
      ctx.signal,
    );
    const wanted = matches.flatMap((e) => [
      ...(e.diagnosis ?? []).map((d) => ({ ref: d.condition, type: 'Condition' })),
      ...(e.referralRequest ?? []).map((ref) => ({ ref, type: 'ServiceRequest' })),
    ]);
    return toDossierOverview(matches, await this.resolver(included, wanted, ctx.signal));
  }

  async getIntakeReport(clientId: string, ctx: AdapterRequestContext): Promise<EhrIntakeReport | null> {
    // Filtered here rather than by the `questionnaire` search parameter: servers disagree on
    // matching a versioned canonical, and a client has few responses.
    const { matches } = await this.search<QuestionnaireResponse>('QuestionnaireResponse', [['patient', `Patient/${clientId}`]], ctx.signal);
    const intake = matches
      .filter((qr) => isIntakeQuestionnaire(qr, this.options.intakeQuestionnaire) && qr.status !== 'entered-in-error' && qr.status !== 'stopped')
      .sort((a, b) => compareTimes(b.authored ?? '', a.authored ?? ''))[0];
    return intake ? toIntakeReport(intake) : null;
  }

  async listMedications(clientId: string, ctx: AdapterRequestContext): Promise<EhrMedication[]> {
    const { matches } = await this.search<MedicationStatement>('MedicationStatement', [['patient', `Patient/${clientId}`]], ctx.signal);
    return matches.filter(isShownMedication).map(toMedication);
  }

  async listAllergies(clientId: string, ctx: AdapterRequestContext): Promise<EhrAllergy[]> {
    const { matches } = await this.search<AllergyIntolerance>('AllergyIntolerance', [['patient', `Patient/${clientId}`]], ctx.signal);
    return matches.filter((a) => a.verificationStatus?.coding?.[0]?.code !== 'entered-in-error').map(toAllergy);
  }

  /** The patient's Coverages (beneficiary), active and past. */
  async listInsurance(clientId: string, ctx: AdapterRequestContext): Promise<EhrInsurance[]> {
    const { matches } = await this.search<Coverage>('Coverage', [['beneficiary', `Patient/${clientId}`]], ctx.signal);
    return matches.map(toInsurance).filter((i): i is EhrInsurance => i !== null);
  }

  async listContraIndications(clientId: string, ctx: AdapterRequestContext): Promise<EhrContraIndication[]> {
    // The category is free text in the zib mapping, so it cannot be a search token; filter here.
    const { matches } = await this.search<Flag>('Flag', [['patient', `Patient/${clientId}`]], ctx.signal);
    return matches.filter((f) => f.status === 'active' && isContraIndication(f)).map(toContraIndication);
  }

  async getTreatmentPlan(clientId: string, ctx: AdapterRequestContext): Promise<EhrTreatmentPlan | null> {
    const { matches, included } = await this.search<CarePlan>(
      'CarePlan',
      // The approvals' agents come along where the server iterates includes (approvedBy's name).
      [
        ['patient', `Patient/${clientId}`],
        ['_include', 'CarePlan:goal'],
        ['_revinclude', 'Provenance:target'],
        ['_include:iterate', 'Provenance:agent'],
      ],
      ctx.signal,
    );
    const plans = matches.filter((p) => p.intent === 'plan');
    const wanted = plans.flatMap((p) => (p.goal ?? []).map((ref) => ({ ref, type: 'Goal' })));
    // Only the plan shown, and only once agreed, can carry an akkoord worth a search.
    const shown = latestPlan(plans);
    const approvable = shown && isAgreedPlan(shown) ? referencesTo([shown]) : [];
    const [resolve, approvals] = await Promise.all([this.resolver(included, wanted, ctx.signal), this.approvalsOf(included, approvable, ctx.signal)]);
    // Who approved: the agent's display, else its Patient or RelatedPerson (one more search, only then).
    const approval = shown ? approvals.get(resourceKey(shown) ?? '') : undefined;
    if (!approval || approval.by) return toTreatmentPlan(plans, resolve, approvals);
    const people = await this.resolver(
      included,
      [
        { ref: approval.who, type: 'Patient' },
        { ref: approval.who, type: 'RelatedPerson' },
      ],
      ctx.signal,
    );
    return toTreatmentPlan(plans, (ref: Reference | undefined, type: string) => resolve(ref, type) ?? people(ref, type), approvals);
  }

  async listTreatmentTeam(clientId: string, ctx: AdapterRequestContext): Promise<EhrTeamMember[]> {
    const { matches } = await this.search<CareTeam>('CareTeam', [['patient', `Patient/${clientId}`]], ctx.signal);
    return toTeamMembers(matches);
  }

  async getTreatmentEffort(clientId: string, ctx: AdapterRequestContext): Promise<EhrTreatmentEffort | null> {
    const [plans, encounters] = await Promise.all([
      this.search<CarePlan>('CarePlan', [['patient', `Patient/${clientId}`]], ctx.signal),
      this.search<Encounter>(
        'Encounter',
        [
          ['patient', `Patient/${clientId}`],
          ['status', 'finished'],
        ],
        ctx.signal,
      ),
    ]);
    return toTreatmentEffort(plans.matches, encounters.matches);
  }

  async listSessionReports(clientId: string, ctx: AdapterRequestContext): Promise<EhrSessionReport[]> {
    const { matches, included } = await this.search<DocumentReference>(
      'DocumentReference',
      [
        ['patient', `Patient/${clientId}`],
        ['_revinclude', 'Provenance:target'],
      ],
      ctx.signal,
    );
    const reports = matches.filter((d) => d.status === 'current' && isSessionReport(d));
    const approvals = await this.approvalsOf(included, referencesTo(reports), ctx.signal);
    return reports.map((d) => toSessionReport(d, approvals));
  }

  async listDocuments(clientId: string, ctx: AdapterRequestContext): Promise<EhrDocument[]> {
    const { matches, included } = await this.search<DocumentReference>(
      'DocumentReference',
      [
        ['patient', `Patient/${clientId}`],
        ['_include', 'DocumentReference:author'],
        ['_revinclude', 'Provenance:target'],
      ],
      ctx.signal,
    );
    // The client's own story (shared from the portal) is the client's, not a document of the organisation's.
    const docs = matches.filter((d) => d.status === 'current' && !isSessionReport(d) && !isClientStory(d));
    // Author names only matter where the reference carries no display.
    const wanted = docs.flatMap((d) => (d.author?.[0] && !d.author[0].display ? [{ ref: d.author[0], type: 'Practitioner' }] : []));
    const [resolve, approvals] = await Promise.all([this.resolver(included, wanted, ctx.signal), this.approvalsOf(included, referencesTo(docs), ctx.signal)]);
    return docs.map((d) => toDocument(d, resolve, approvals));
  }

  async getDocumentContent(clientId: string, documentId: string, ctx: AdapterRequestContext): Promise<EhrDocumentContent | null> {
    const doc = await this.read<DocumentReference>('DocumentReference', documentId, ctx.signal);
    // A document of another client is "no such document", never its content.
    if (!doc || referenceId(doc.subject, 'Patient') !== clientId) return null;
    const attachment = doc.content?.[0]?.attachment;
    if (!attachment) return null;
    const name = attachment.title ?? doc.description ?? 'document';
    const mediaType = attachment.contentType ?? 'application/octet-stream';
    if (attachment.data) {
      const bytes = Buffer.from(attachment.data, 'base64');
      return { name, mediaType, size: bytes.length, stream: Readable.from([bytes]) };
    }
    if (!attachment.url) return null;
    const url = new URL(attachment.url, this.base);
    // Our token goes only to our FHIR server; an attachment elsewhere is fetched without it.
    const own = url.origin === this.base.origin;
    // The call's signal covers getting the answer, not streaming it: cockatiel's timeout aborts
    // its signal as soon as this method returns, which would cut the body off mid-download. The
    // stream is ended by its consumer instead (destroying the Readable cancels the fetch body).
    const download = new AbortController();
    const abort = (): void => download.abort(ctx.signal?.reason);
    if (ctx.signal?.aborted) abort();
    ctx.signal?.addEventListener('abort', abort, { once: true });
    let res: Response;
    try {
      res = await this.send(url, { accept: `${mediaType}, */*;q=0.5`, signal: download.signal, authenticate: own });
    } finally {
      ctx.signal?.removeEventListener('abort', abort);
    }
    if (res.status === 404 || res.status === 410) return null;
    if (!res.ok || !res.body) throw new FhirHttpError(res.status, url.pathname);
    const length = Number(res.headers.get('content-length'));
    return {
      name,
      mediaType: res.headers.get('content-type')?.split(';')[0]?.trim() || mediaType,
      ...(Number.isFinite(length) && length > 0 ? { size: length } : {}),
      stream: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    };
  }

  async listAppointments(clientId: string, window: TimeWindow, ctx: AdapterRequestContext): Promise<EhrAppointment[]> {
    // Reports point at their appointment (DocumentReference.context.related); _revinclude brings
    // them along in the same round trip. A server that ignores it leaves reportId empty: the link
    // is a convenience, not worth a second search on every agenda screen.
    const params: Param[] = [
      ['patient', `Patient/${clientId}`],
      ['_include', 'Appointment:location'],
      ['_revinclude', 'DocumentReference:related'],
    ];
    if (window.from) params.push(['date', `ge${window.from}`]);
    if (window.to) params.push(['date', `lt${window.to}`]);
    const { matches, included } = await this.search<Appointment>('Appointment', params, ctx.signal);
    const shown = matches.filter((a) => a.status !== 'cancelled' && a.status !== 'entered-in-error' && a.status !== 'noshow');
    const wanted = shown.flatMap((a) =>
      (a.participant ?? []).flatMap((p) => (referenceId(p.actor, 'Location') && !p.actor?.display ? [{ ref: p.actor, type: 'Location' }] : [])),
    );
    const resolve = await this.resolver(included, wanted, ctx.signal);
    const reports = reportsByAppointment(included);
    const from = window.from ? Date.parse(window.from) : -Infinity;
    const to = window.to ? Date.parse(window.to) : Infinity;
    return shown
      .flatMap((a): EhrAppointment[] => {
        const appointment = toAppointment(a, resolve, clientId);
        return appointment ? [{ ...appointment, reportId: reports.get(appointment.externalId) ?? null }] : [];
      })
      .filter((a) => Date.parse(a.end) >= from && Date.parse(a.start) < to)
      .sort((a, b) => compareTimes(a.start, b.start));
  }

  /** One request for the whole batch (`_id=a,b,c`), as the gateway's DataLoader expects. */
  async getPractitioners(ids: readonly string[], ctx: AdapterRequestContext): Promise<EhrPractitioner[]> {
    const unique = [...new Set(ids)];
    if (!unique.length) return [];
    const { matches } = await this.search<Practitioner>(
      'Practitioner',
      [
        ['_id', unique.join(',')],
        ['_count', String(unique.length)],
      ],
      ctx.signal,
    );
    return matches.map(toPractitioner);
  }

  /**
   * A portal message becomes a Communication about the patient to the chosen practitioners. A
   * conditional create on the message id (If-None-Exist) makes it idempotent: the outbox may send
   * the same message again after a timeout, and the server keeps one Communication.
   */
  async sendMessage(clientId: string, message: EhrOutboundMessage, ctx: AdapterRequestContext): Promise<void> {
    const communication: Communication = {
      resourceType: 'Communication',
      identifier: [{ system: PORTAL_MESSAGE_SYSTEM, value: message.messageId }],
      status: 'completed',
      subject: { reference: `Patient/${clientId}` },
      // The author may be the client, a parent or a network member: named, not referenced.
      sender: { display: message.authorName },
      recipient: message.recipientPractitionerIds.map((id) => ({ reference: `Practitioner/${id}` })),
      topic: { coding: [{ system: PORTAL_CONVERSATION_SYSTEM, code: message.conversationId }], text: message.subject },
      sent: message.sentAt,
      payload: [{ contentString: message.body }, ...(await this.attachmentPayloads(message))],
    };
    const url = new URL('Communication', this.base);
    const res = await this.send(url, {
      accept: FHIR_JSON,
      signal: ctx.signal,
      authenticate: true,
      json: communication,
      ifNoneExist: `identifier=${PORTAL_MESSAGE_SYSTEM}|${message.messageId}`,
    });
    await res.body?.cancel();
    if (!res.ok) throw new FhirHttpError(res.status, url.pathname);
  }

  /**
   * Each attachment as a payload: its bytes inline (Attachment.data) up to the inline limit, so the
   * EHR keeps them with the message; a larger one is named, with a note that it is in the portal.
   */
  private async attachmentPayloads(message: EhrOutboundMessage): Promise<NonNullable<Communication['payload']>> {
    const limit = this.options.inlineAttachmentMaxBytes ?? 20 * 1024 * 1024;
    const payloads: NonNullable<Communication['payload']> = [];
    for (const a of message.attachments ?? []) {
      if (a.size > limit) {
        payloads.push({ contentString: `Bijlage "${a.name}" (${a.mediaType}, ${a.size} bytes) staat in het cliëntportaal.` });
        continue;
      }
      const bytes = await buffer(await a.content());
      payloads.push({ contentAttachment: { contentType: a.mediaType, title: a.name, size: a.size, data: bytes.toString('base64') } });
    }
    return payloads;
  }

  /**
   * The Communication(s) carrying the message (found by the portal's message identifier) become
   * `entered-in-error` without their payload: the text is gone from the EHR as from the portal.
   */
  async withdrawMessage(clientId: string, messageId: string, ctx: AdapterRequestContext): Promise<void> {
    const { matches } = await this.search<Communication>(
      'Communication',
      [
        ['identifier', `${PORTAL_MESSAGE_SYSTEM}|${messageId}`],
        ['subject', `Patient/${clientId}`],
      ],
      ctx.signal,
    );
    for (const found of matches) {
      if (found.status === 'entered-in-error' && !found.payload?.length) continue;
      const { payload: _text, ...rest } = found;
      const url = new URL(`Communication/${found.id}`, this.base);
      const res = await this.send(url, {
        accept: FHIR_JSON,
        signal: ctx.signal,
        authenticate: true,
        json: { ...rest, status: 'entered-in-error' },
        method: 'PUT',
      });
      await res.body?.cancel();
      if (!res.ok) throw new FhirHttpError(res.status, url.pathname);
    }
  }

  /**
   * The client's akkoord: a Provenance on the DocumentReference or CarePlan (README), created once
   * per approved version by a conditional create on its tag, so a retry adds none. A plan on hold
   * then becomes active, with If-Match: a practitioner's change in between is read again, not lost.
   * An active plan is left as it is; a document that no longer asks is done if akkoord was given.
   */
  async approve(clientId: string, approval: EhrApproval, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const signal = ctx.signal;
    if (approval.target !== 'TREATMENT_PLAN') {
      const doc = await this.read<DocumentReference>('DocumentReference', approval.itemId, signal);
      if (
        !doc ||
        referenceId(doc.subject, 'Patient') !== clientId ||
        doc.status !== 'current' ||
        isSessionReport(doc) !== (approval.target === 'SESSION_REPORT')
      ) {
        return writeRefused('NOT_FOUND', 'The client has no such document or report.');
      }
      if (doc.docStatus === 'preliminary') {
        await this.createOnce(toApprovalProvenance(clientId, doc, approval), `_tag=${PORTAL_APPROVAL_SYSTEM}|${approvalTag(doc)}`, signal);
        return { done: true };
      }
      const given = await this.approvalsOf([], referencesTo([doc]), signal);
      return given.size ? { done: true } : writeRefused('NOT_CHANGEABLE', 'This document does not ask for approval.');
    }
    for (let attempt = 1; ; attempt++) {
      const plan = await this.clientPlan(clientId, approval.itemId, signal);
      if (!plan) return writeRefused('NOT_FOUND', 'The client has no such treatment plan.');
      if (plan.status === 'active') return { done: true };
      if (plan.status !== 'on-hold') return writeRefused('NOT_CHANGEABLE', 'The treatment plan does not wait for approval.');
      await this.createOnce(toApprovalProvenance(clientId, plan, approval), `_tag=${PORTAL_APPROVAL_SYSTEM}|${approvalTag(plan)}`, signal);
      if (await this.update({ ...plan, status: 'active' }, signal, attempt)) return { done: true };
    }
  }

  /**
   * A Goal (identifier = the portal's goal id, conditional create) referenced from CarePlan.goal;
   * the plan is written with If-Match on the version read, so a concurrent change is read again.
   */
  async addTreatmentGoal(clientId: string, goal: EhrNewGoal, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    let created: Goal | undefined;
    for (let attempt = 1; ; attempt++) {
      const plan = await this.clientPlan(clientId, goal.planId, ctx.signal);
      if (!plan) return writeRefused('NOT_FOUND', 'The client has no such treatment plan.');
      if (!isOpenPlan(plan)) return writeRefused('NOT_CHANGEABLE', 'The treatment plan is approved: its goals can no longer change.');
      created ??= (await this.createOnce(toPortalGoal(clientId, goal), `identifier=${PORTAL_GOAL_SYSTEM}|${goal.goalId}`, ctx.signal)).resource;
      const next = withGoal(plan, `Goal/${created.id}`);
      if (next === plan || (await this.update(next, ctx.signal, attempt))) return { done: true, id: created.id };
    }
  }

  /**
   * Cancels a goal the client added (lifecycleStatus cancelled) and takes it out of CarePlan.goal,
   * both with If-Match; refused once the plan is approved or for a practitioner's goal. A goal
   * already cancelled and out of the plan is done (a retry).
   */
  async removeTreatmentGoal(clientId: string, removal: EhrGoalRemoval, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    for (let attempt = 1; ; attempt++) {
      const [plan, goal] = await Promise.all([this.clientPlan(clientId, removal.planId, ctx.signal), this.read<Goal>('Goal', removal.goalId, ctx.signal)]);
      if (!plan || !goal || referenceId(goal.subject, 'Patient') !== clientId) return writeRefused('NOT_FOUND', 'The client has no such goal.');
      const ref = `Goal/${goal.id}`;
      if (!(plan.goal ?? []).some((g) => referenceKey(g) === ref))
        return isGoneGoal(goal) ? { done: true } : writeRefused('NOT_FOUND', 'The goal is not part of this plan.');
      if (!isOpenPlan(plan)) return writeRefused('NOT_CHANGEABLE', 'The treatment plan is approved: its goals can no longer change.');
      if (!isClientGoal(goal)) return writeRefused('NOT_CHANGEABLE', 'Only goals the client added can be removed.');
      if (!isGoneGoal(goal) && !(await this.update({ ...goal, lifecycleStatus: 'cancelled', statusDate: dutchDate(removal.at) }, ctx.signal, attempt)))
        continue;
      if (await this.update(withoutGoal(plan, ref), ctx.signal, attempt)) return { done: true };
    }
  }

  /**
   * An upcoming Appointment of the patient becomes `cancelled` with the reason (If-Match on the
   * version read); one that started already, or is not the patient's, is refused; one cancelled
   * already is done.
   */
  async cancelAppointment(clientId: string, cancellation: EhrAppointmentCancellation, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    for (let attempt = 1; ; attempt++) {
      const appointment = await this.read<Appointment>('Appointment', cancellation.appointmentId, ctx.signal);
      if (!appointment || !(appointment.participant ?? []).some((p) => referenceId(p.actor, 'Patient') === clientId))
        return writeRefused('NOT_FOUND', 'No such appointment.');
      if (appointment.status === 'cancelled') return { done: true };
      if (!['proposed', 'pending', 'booked'].includes(appointment.status) || !appointment.start || Date.parse(appointment.start) <= Date.parse(cancellation.at))
        return writeRefused('NOT_CHANGEABLE', 'This appointment can no longer be called off through the portal.');
      const cancelled: Appointment = {
        ...appointment,
        status: 'cancelled',
        cancelationReason: {
          text: cancellation.reason ? `Afgezegd door ${cancellation.by.name}: ${cancellation.reason}` : `Afgezegd door ${cancellation.by.name}`,
        },
      };
      if (await this.update(cancelled, ctx.signal, attempt)) return { done: true };
    }
  }

  /**
   * The client's document as a DocumentReference, the client as author, created once per portal
   * document id (a conditional create on its identifier): the bytes inline up to the inline limit,
   * a larger file as a Binary of its own that the DocumentReference points at.
   */
  async uploadDocument(clientId: string, upload: EhrUploadedDocument, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const identifier = `identifier=${PORTAL_DOCUMENT_SYSTEM}|${upload.documentId}`;
    const limit = this.options.inlineAttachmentMaxBytes ?? 20 * 1024 * 1024;
    if (upload.size <= limit) {
      const bytes = await buffer(await upload.content());
      const { resource } = await this.createOnce(toUploadedDocument(clientId, upload, { bytes }), identifier, ctx.signal);
      return { done: true, id: resource.id };
    }
    // Larger: the bytes as a Binary of their own, streamed as they are (no base64 in memory), then the
    // DocumentReference pointing at it. Filed already (a retry after a lost answer): nothing more.
    const filed = (await this.search<DocumentReference>('DocumentReference', [...new URLSearchParams(identifier)] as Param[], ctx.signal)).matches[0];
    if (filed?.id) return { done: true, id: filed.id };
    const binaryId = await this.postBinary(clientId, upload.mediaType, await upload.content(), ctx.signal);
    try {
      const { resource } = await this.createOnce(toUploadedDocument(clientId, upload, { url: `Binary/${binaryId}` }), identifier, ctx.signal);
      return { done: true, id: resource.id };
    } catch (err) {
      // The server refused the DocumentReference outright (a 4xx but a conflict or too many requests):
      // nothing points at the Binary, so it goes again rather than stay as the client's bytes without
      // a document. Any other failure may have filed it (a lost answer): the Binary stays (it names
      // the patient as its security context, so the EHR's own clean-up can find one left over).
      if (definitelyRefused(err)) await this.deleteBinary(binaryId, ctx.signal).catch(() => undefined);
      throw err;
    }
  }

  private async deleteBinary(id: string, signal?: AbortSignal): Promise<void> {
    const url = new URL(`Binary/${encodeURIComponent(id)}`, this.base);
    const res = await this.send(url, { accept: FHIR_JSON, signal, authenticate: true, method: 'DELETE' });
    await res.body?.cancel();
    if (!res.ok && res.status !== 404 && res.status !== 410) throw new FhirHttpError(res.status, url.pathname);
  }

  /** FHIR's raw Binary create: the bytes with their own Content-Type and the patient as X-Security-Context; answers the Binary's id. */
  private async postBinary(clientId: string, mediaType: string, content: NodeJS.ReadableStream, signal?: AbortSignal): Promise<string> {
    const url = new URL('Binary', this.base);
    const res = await this.send(url, {
      accept: FHIR_JSON,
      signal,
      authenticate: true,
      raw: { contentType: mediaType, content, headers: { 'x-security-context': `Patient/${clientId}`, prefer: 'return=representation' } },
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new FhirHttpError(res.status, url.pathname);
    }
    const text = await res.text();
    const answered = text ? (JSON.parse(text) as Resource) : undefined;
    const id = answered?.resourceType === 'Binary' ? answered.id : /\/Binary\/([^/]+)/.exec(res.headers.get('location') ?? '')?.[1];
    if (!id) throw new Error('FHIR server created a Binary without saying its id');
    return id;
  }

  /** The story's DocumentReference: a conditional update on the portal's identifier creates or replaces it (withdrawn: entered in error, no text). */
  async shareClientStory(clientId: string, story: EhrClientStory, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    return this.putByIdentifier(toStoryDocument(clientId, story), { identifier: `${PORTAL_STORY_SYSTEM}|${clientId}` }, ctx.signal);
  }

  /** The patient's Consents, one per topic (the newest where a topic has several). */
  async listConsents(clientId: string, ctx: AdapterRequestContext): Promise<EhrConsent[]> {
    const { matches } = await this.search<Consent>('Consent', [['patient', `Patient/${clientId}`]], ctx.signal);
    const byTopic = new Map<string, EhrConsent>();
    for (const consent of matches.map(fromConsent)) {
      if (!consent) continue;
      const seen = byTopic.get(consent.topic);
      if (!seen || (consent.changedAt ?? '') > (seen.changedAt ?? '')) byTopic.set(consent.topic, consent);
    }
    return [...byTopic.values()];
  }

  /** One Consent per client and topic: a conditional update on the portal identifier and the patient creates or replaces it. */
  async setConsent(clientId: string, choice: EhrConsentChoice, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const query = { identifier: `${PORTAL_CONSENT_SYSTEM}|${choice.topic}`, patient: `Patient/${clientId}` };
    return this.putByIdentifier(toConsent(clientId, choice), query, ctx.signal);
  }

  /**
   * The Tasks whose focus is a Questionnaire (the practitioner's assignments), with their
   * Questionnaires (_include) and the portal's responses to them (identifier = the Task).
   * Cancelled, rejected and mistaken Tasks are left out.
   */
  async listQuestionnaireAssignments(clientId: string, ctx: AdapterRequestContext): Promise<EhrQuestionnaireAssignment[]> {
    const [tasks, responses] = await Promise.all([
      this.search<Task>(
        'Task',
        [
          // subject (Task.for) rather than patient: the latter needs resolve(), which not every server evaluates in search.
          ['subject', `Patient/${clientId}`],
          ['_include', 'Task:focus'],
        ],
        ctx.signal,
      ),
      this.search<QuestionnaireResponse>('QuestionnaireResponse', [['patient', `Patient/${clientId}`]], ctx.signal),
    ]);
    // The focused Questionnaires: from _include, or (a server that ignores it) in one more search.
    const questionnaireOf = await this.resolver(
      tasks.included,
      tasks.matches.map((t) => ({ ref: t.focus, type: 'Questionnaire' })),
      ctx.signal,
    );
    const answered = new Map(
      responses.matches.flatMap((qr) =>
        qr.identifier?.system === PORTAL_ASSIGNMENT_SYSTEM && qr.identifier.value ? [[qr.identifier.value, qr] as const] : [],
      ),
    );
    return tasks.matches.flatMap((task) => {
      if (!isListedTask(task.status)) return [];
      const questionnaire = questionnaireOf<Questionnaire>(task.focus, 'Questionnaire');
      return questionnaire && task.id ? [toAssignment(task, questionnaire, answered.get(task.id))] : [];
    });
  }

  /**
   * The assignment's QuestionnaireResponse (identifier = the assignment): created once, replaced
   * on every save with If-Match; once completed it is read-only, and sending the same answers again
   * is done (a retried "save and send").
   */
  async saveQuestionnaireAnswers(clientId: string, input: EhrQuestionnaireAnswers, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const response = toQuestionnaireResponse(clientId, input);
    const identifier = `${PORTAL_ASSIGNMENT_SYSTEM}|${input.assignmentId}`;
    for (let attempt = 1; ; attempt++) {
      const { matches } = await this.search<QuestionnaireResponse>(
        'QuestionnaireResponse',
        [
          ['identifier', identifier],
          ['patient', `Patient/${clientId}`],
        ],
        ctx.signal,
      );
      const existing = matches.find((qr) => qr.identifier?.system === PORTAL_ASSIGNMENT_SYSTEM && qr.identifier.value === input.assignmentId);
      if (!existing) {
        const made = await this.createOnce(response, `identifier=${identifier}`, ctx.signal);
        // Another save created it first: replace that one on the next pass.
        if (made.created) return { done: true, id: made.resource.id };
        if (attempt >= CONFLICT_ATTEMPTS) throw new FhirHttpError(412, 'QuestionnaireResponse');
        continue;
      }
      if (existing.status === 'completed' || existing.status === 'amended') {
        return response.status === 'completed' && sameAnswers(existing, response)
          ? { done: true, id: existing.id }
          : writeRefused('NOT_CHANGEABLE', 'This questionnaire was sent: it can no longer be changed.');
      }
      if (await this.update({ ...response, id: existing.id, meta: existing.meta }, ctx.signal, attempt)) return { done: true, id: existing.id };
    }
  }

  notificationToEvent(notification: unknown): EhrNotificationEvent {
    return fhirNotificationToEvent(this.name, notification);
  }

  async ping(signal?: AbortSignal): Promise<void> {
    const url = new URL('metadata', this.base);
    const res = await this.send(url, { accept: FHIR_JSON, signal, authenticate: true });
    await res.body?.cancel();
    if (!res.ok) throw new FhirHttpError(res.status, url.pathname);
  }

  /** Episodes from a `_revinclude`, or one extra search when the server ignored it. */
  private async episodesOf(patientId: string, included: Resource[], signal?: AbortSignal): Promise<EpisodeOfCare[]> {
    const mine = (r: Resource): r is EpisodeOfCare => r.resourceType === 'EpisodeOfCare' && referenceId(r.patient, 'Patient') === patientId;
    const episodes = included.filter(mine);
    if (episodes.length) return episodes;
    return (await this.search<EpisodeOfCare>('EpisodeOfCare', [['patient', `Patient/${patientId}`]], signal)).matches;
  }

  /**
   * Client approvals of `targets` ("DocumentReference/d1"): the Provenances a `_revinclude` brought,
   * else one `Provenance?target=…` search for exactly those resources, by POST as a hundred
   * references outgrow some servers' URL limits. A bundle without any Provenance cannot tell an
   * ignored `_revinclude` (Medplum's MemoryRepository) from "none yet", so it pays that search.
   */
  private async approvalsOf(included: Resource[], targets: string[], signal?: AbortSignal): Promise<Approvals> {
    if (!targets.length) return new Map();
    const provenances = included.filter((r) => r.resourceType === 'Provenance');
    if (provenances.length) return approvalsByTarget(provenances);
    const { matches } = await this.search<Provenance>('Provenance', [['target', targets.join(',')]], signal, { byPost: true });
    return approvalsByTarget(matches);
  }

  /**
   * A resolver over the bundle's resources; references it cannot resolve are fetched in one
   * `_id` search per type (for servers that ignore `_include`).
   */
  private async resolver(included: Resource[], wanted: { ref: Reference | undefined; type: string }[], signal?: AbortSignal): Promise<Resolve> {
    const known = new Map<string, Resource>();
    for (const r of included) if (r.id) known.set(`${r.resourceType}/${r.id}`, r);
    const missing = new Map<string, Set<string>>();
    for (const { ref, type } of wanted) {
      const id = referenceId(ref, type);
      if (id && !known.has(`${type}/${id}`)) missing.set(type, (missing.get(type) ?? new Set()).add(id));
    }
    await Promise.all(
      [...missing.entries()].map(async ([type, ids]) => {
        const { matches } = await this.search<Resource>(type, [['_id', [...ids].join(',')]], signal);
        for (const r of matches) if (r.id) known.set(`${r.resourceType}/${r.id}`, r);
      }),
    );
    return <T extends { resourceType: string }>(ref: Reference | undefined, type: string): T | undefined => {
      const id = referenceId(ref, type);
      return id ? (known.get(`${type}/${id}`) as T | undefined) : undefined;
    };
  }

  /** A conditional update (PUT on search criteria, the portal's identifier): creates the resource or replaces the one it finds. */
  private async putByIdentifier(resource: Resource, criteria: Record<string, string>, signal?: AbortSignal): Promise<EhrWriteResult> {
    const url = new URL(`${resource.resourceType}?${new URLSearchParams(criteria).toString()}`, this.base);
    const { status, resource: stored } = await this.writeResource<Resource>('PUT', url, resource, signal);
    // 412: the criteria matched more than one (the server will not choose).
    if (status === 412) throw new FhirHttpError(status, url.pathname);
    return { done: true, ...(stored?.id ? { id: stored.id } : {}) };
  }

  /** The client's CarePlan with intent plan by id, or null. */
  private async clientPlan(clientId: string, planId: string, signal?: AbortSignal): Promise<CarePlan | null> {
    const plan = await this.read<CarePlan>('CarePlan', planId, signal);
    return plan && plan.intent === 'plan' && referenceId(plan.subject, 'Patient') === clientId ? plan : null;
  }

  /**
   * A conditional create (If-None-Exist): answers the resource created, or the one that already
   * matched (200), so a retried write finds what the first attempt made. A server that answers
   * without a body is searched with the same criteria.
   */
  private async createOnce<T extends Resource>(
    resource: T,
    ifNoneExist: string,
    signal?: AbortSignal,
  ): Promise<{ resource: T & { id: string }; created: boolean }> {
    const url = new URL(resource.resourceType, this.base);
    const { status, resource: answered } = await this.writeResource<T>('POST', url, resource, signal, { ifNoneExist });
    // 412 here: several resources match the criteria, which a portal identifier should never do.
    if (status === 412) throw new FhirHttpError(status, url.pathname);
    const found = answered?.id ? answered : (await this.search<T>(resource.resourceType, [...new URLSearchParams(ifNoneExist)] as Param[], signal)).matches[0];
    if (!found?.id) throw new Error(`FHIR server created a ${resource.resourceType} it cannot find again`);
    return { resource: found as T & { id: string }, created: status === 201 };
  }

  /**
   * PUT of a resource read before, with If-Match on the version read (where the server gave one):
   * true when written, false on 412 (changed meanwhile; the caller reads again). After
   * CONFLICT_ATTEMPTS the conflict is a failure: the upstream keeps changing under us.
   */
  private async update(resource: Resource, signal: AbortSignal | undefined, attempt: number): Promise<boolean> {
    const url = new URL(`${resource.resourceType}/${encodeURIComponent(resource.id ?? '')}`, this.base);
    const version = resource.meta?.versionId;
    const { status } = await this.writeResource('PUT', url, resource, signal, version ? { ifMatch: `W/"${version}"` } : {});
    if (status !== 412) return true;
    if (attempt >= CONFLICT_ATTEMPTS) throw new FhirHttpError(status, url.pathname);
    return false;
  }

  /** POST or PUT of a resource: the status, and the resource the server answered with if any. 412 is answered, other failures thrown. */
  private async writeResource<T extends Resource>(
    method: 'POST' | 'PUT',
    url: URL,
    resource: Resource,
    signal: AbortSignal | undefined,
    conditions: { ifNoneExist?: string; ifMatch?: string } = {},
  ): Promise<{ status: number; resource?: T }> {
    const res = await this.send(url, { accept: FHIR_JSON, signal, authenticate: true, json: resource, method, ...conditions });
    if (!res.ok) {
      await res.body?.cancel();
      if (res.status === 412) return { status: res.status };
      throw new FhirHttpError(res.status, url.pathname);
    }
    const text = await res.text();
    const answered = text ? (JSON.parse(text) as Resource) : undefined;
    return { status: res.status, ...(answered?.resourceType === resource.resourceType ? { resource: answered as T } : {}) };
  }

  private async read<T extends Resource>(type: string, id: string, signal?: AbortSignal): Promise<T | null> {
    const url = new URL(`${type}/${encodeURIComponent(id)}`, this.base);
    const res = await this.send(url, { accept: FHIR_JSON, signal, authenticate: true });
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new FhirHttpError(res.status, url.pathname);
    }
    const resource = (await res.json()) as Resource;
    return resource.resourceType === type ? (resource as T) : null;
  }

  /**
   * A search with its `next` pages followed; entries with search.mode include go to `included`.
   * `byPost` searches by POST `_search` (FHIR's form-encoded search): a BSN then never appears in a
   * URL and so never in the access logs of proxies and servers on the way, and a long list of
   * values does not hit a URL length limit.
   */
  private async search<T extends Resource>(type: string, params: Param[], signal?: AbortSignal, options: { byPost?: boolean } = {}): Promise<SearchResult<T>> {
    const query = new URLSearchParams(params);
    if (!query.has('_count')) query.set('_count', String(this.pageSize));
    const first = options.byPost ? new URL(`${type}/_search`, this.base) : new URL(`${type}?${query.toString()}`, this.base);
    const matches: T[] = [];
    const included: Resource[] = [];
    const { bundles, complete } = await readPages(first, this.base, this.maxPages, async (url, page) => {
      const res: Response = await this.send(url, { accept: FHIR_JSON, signal, authenticate: true, ...(page === 0 && options.byPost ? { form: query } : {}) });
      if (!res.ok) {
        await res.body?.cancel();
        throw new FhirHttpError(res.status, url.pathname);
      }
      return (await res.json()) as Bundle;
    });
    if (!complete) throw new Error(`FHIR search ${type} has more than ${this.maxPages} pages`);
    for (const bundle of bundles)
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource;
        if (!resource) continue;
        // Without search.mode, the resource type tells a match from an include.
        const isMatch = entry.search?.mode ? entry.search.mode === 'match' : resource.resourceType === type;
        if (isMatch) matches.push(resource as T);
        else included.push(resource);
      }
    return { matches, included };
  }

  /** One HTTP exchange: GET, POST with a form body (search by POST), or POST of a resource (conditional create). */
  private async send(
    url: URL,
    init: {
      accept: string;
      signal?: AbortSignal;
      authenticate: boolean;
      form?: URLSearchParams;
      json?: Resource;
      ifNoneExist?: string;
      ifMatch?: string;
      method?: 'POST' | 'PUT' | 'DELETE';
      /** Bytes streamed as they are (a raw Binary create), with their own content type and headers. */
      raw?: { contentType: string; content: NodeJS.ReadableStream; headers: Record<string, string> };
    },
  ): Promise<Response> {
    // The portal's trace goes on to the FHIR server (W3C traceparent), so its logs and traces continue it.
    const headers: Record<string, string> = { accept: init.accept, ...traceHeadersOf(init.signal) };
    if (init.authenticate) {
      const token = await this.tokens.get(init.signal);
      if (token) headers.authorization = `Bearer ${token}`;
    }
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (init.json) {
      headers['content-type'] = FHIR_JSON;
      // Writes read back what the server stored (ids, versions for the next If-Match).
      headers.prefer = 'return=representation';
    }
    if (init.ifNoneExist) headers['if-none-exist'] = init.ifNoneExist;
    if (init.ifMatch) headers['if-match'] = init.ifMatch;
    if (init.raw) Object.assign(headers, init.raw.headers, { 'content-type': init.raw.contentType });
    const body = init.form ? init.form.toString() : init.json ? JSON.stringify(init.json) : undefined;
    const res = await this.fetchFn(
      url,
      init.raw
        ? { method: 'POST', headers, body: Readable.toWeb(Readable.from(init.raw.content as AsyncIterable<Uint8Array>)), signal: init.signal, duplex: 'half' }
        : body !== undefined
          ? { method: init.method ?? 'POST', headers, body, signal: init.signal }
          : { method: init.method ?? 'GET', headers, signal: init.signal },
    );
    // An expired or revoked token: drop it, so the registry's retry fetches a fresh one.
    if (res.status === 401 && init.authenticate) this.tokens.invalidate();
    return res;
  }
}

/** The access token per FHIR_AUTH: none, a fixed bearer, or client_credentials cached until expiry (fhir-http.ts). */
class TokenSource {
  private readonly cache?: TokenCache;

  constructor(
    private readonly auth: FhirAuth,
    fetchFn: typeof fetch,
  ) {
    if (auth.kind === 'client_credentials') this.cache = new TokenCache((signal) => fetchToken(auth, fetchFn, signal));
  }

  async get(signal?: AbortSignal): Promise<string | undefined> {
    if (this.auth.kind === 'none') return undefined;
    if (this.auth.kind === 'bearer') return this.auth.token;
    return this.cache!.get(signal);
  }

  invalidate(): void {
    this.cache?.invalidate();
  }
}

async function fetchToken(auth: Extract<FhirAuth, { kind: 'client_credentials' }>, fetchFn: typeof fetch, signal: AbortSignal): Promise<IssuedToken> {
  const res = await fetchFn(auth.tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    signal,
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new FhirHttpError(res.status, 'token endpoint');
  }
  return issuedToken(res, 'token endpoint');
}

/** Read-modify-write passes before a resource that keeps changing under us counts as a failure. */
const CONFLICT_ATTEMPTS = 3;

/** A refusal that says the server did not store the resource: a 4xx but 408 (timeout), 409 (conflict) and 429 (too many). */
function definitelyRefused(err: unknown): boolean {
  return err instanceof FhirHttpError && err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status);
}

/** Goals may change until the client approves: a draft or a plan on hold, not an agreed or withdrawn one. */
function isOpenPlan(plan: CarePlan): boolean {
  return !isAgreedPlan(plan) && plan.status !== 'entered-in-error';
}

/** "DocumentReference/d1" for each resource, as a `target` search and Provenance.target name them. */
function referencesTo(resources: Resource[]): string[] {
  return resources.flatMap((r) => resourceKey(r) ?? []);
}

/** FHIR_AUTH as parsed config → the adapter's auth. */
export function fhirAuthFrom(config: { FHIR_AUTH: string; FHIR_TOKEN_URL?: string; FHIR_CLIENT_ID?: string; FHIR_CLIENT_SECRET?: string }): FhirAuth {
  if (config.FHIR_AUTH.startsWith('bearer:')) return { kind: 'bearer', token: config.FHIR_AUTH.slice('bearer:'.length) };
  if (config.FHIR_AUTH === 'client_credentials') {
    return {
      kind: 'client_credentials',
      tokenUrl: config.FHIR_TOKEN_URL ?? '',
      clientId: config.FHIR_CLIENT_ID ?? '',
      clientSecret: config.FHIR_CLIENT_SECRET ?? '',
    };
  }
  return { kind: 'none' };
}
