import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import type {
  AdapterRequestContext,
  EhrAdapter,
  EhrAppointment,
  EhrApproval,
  EhrClient,
  EhrConsentChoice,
  EhrDocumentContent,
  EhrGoalRemoval,
  EhrNewGoal,
  EhrOutboundMessage,
  EhrPractitioner,
  EhrQuestionnaireAnswers,
  EhrQuestionnaireAssignment,
  EhrConsent,
  EhrClientStory,
  EhrUploadedDocument,
  EhrAppointmentCancellation,
  EhrInsurance,
  EhrTreatmentPlan,
  EhrWriteResult,
  TimeWindow,
} from '../ports';
import { writeRefused } from '../ports';
import { buildDemoData, type DemoClientRecord, type DemoData } from './demo-data';

export interface DemoAdapterOptions {
  /** Simulated upstream latency per call (benchmarks). */
  delayMs?: number;
  data?: DemoData;
}

/** The embedded demo EHR: realistic Dutch demo data held in memory. */
export class DemoEhrAdapter implements EhrAdapter {
  readonly name: string;
  readonly data: DemoData;
  readonly sentMessages: {
    clientId: string;
    message: EhrOutboundMessage;
    withdrawn?: boolean;
    files?: { name: string; mediaType: string; bytes: Buffer }[];
  }[] = [];
  /** Consent choices per client and topic (the latest wins), as the EHR would keep them. */
  readonly consents = new Map<string, Map<string, EhrConsentChoice>>();
  /** Questionnaire answers per client and assignment, as last saved. */
  readonly questionnaireAnswers = new Map<string, EhrQuestionnaireAnswers>();
  private readonly removedGoals = new Set<string>();
  /** Counts calls per method, so tests and benchmarks can see batching at work. */
  readonly calls = new Map<string, number>();
  private readonly delayMs: number;

  constructor(options: DemoAdapterOptions = {}, name = 'demo') {
    this.name = name;
    this.data = options.data ?? buildDemoData();
    this.delayMs = options.delayMs ?? 0;
  }

  async findClientByBsn(bsn: string, ctx: AdapterRequestContext): Promise<EhrClient | null> {
    await this.enter('findClientByBsn', ctx);
    const found = this.data.clients.find((c) => c.client.bsn === bsn);
    return found ? publicClient(found) : null;
  }

  async getClient(externalId: string, ctx: AdapterRequestContext): Promise<EhrClient | null> {
    const found = await this.record(externalId, ctx, 'getClient');
    return found ? publicClient(found) : null;
  }

  async findChildrenOfParent(parentBsn: string, ctx: AdapterRequestContext): Promise<EhrClient[]> {
    await this.enter('findChildrenOfParent', ctx);
    const ids = this.data.parents[parentBsn] ?? [];
    return this.data.clients.filter((c) => ids.includes(c.client.externalId)).map(publicClient);
  }

  async getDossierOverview(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'getDossierOverview'))?.overview ?? null;
  }
  async getIntakeReport(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'getIntakeReport'))?.intake ?? null;
  }
  async listMedications(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'listMedications'))?.medications ?? [];
  }
  async listAllergies(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'listAllergies'))?.allergies ?? [];
  }
  async listInsurance(clientId: string, ctx: AdapterRequestContext): Promise<EhrInsurance[]> {
    return (await this.record(clientId, ctx, 'listInsurance'))?.insurance ?? [];
  }
  async listContraIndications(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'listContraIndications'))?.contraIndications ?? [];
  }
  async getTreatmentPlan(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'getTreatmentPlan'))?.plan ?? null;
  }
  async listTreatmentTeam(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'listTreatmentTeam'))?.team ?? [];
  }
  async getTreatmentEffort(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'getTreatmentEffort'))?.effort ?? null;
  }
  async listSessionReports(clientId: string, ctx: AdapterRequestContext) {
    return (await this.record(clientId, ctx, 'listSessionReports'))?.reports ?? [];
  }
  async listDocuments(clientId: string, ctx: AdapterRequestContext) {
    const docs = (await this.record(clientId, ctx, 'listDocuments'))?.documents ?? [];
    return docs.map(({ content: _content, ...doc }) => doc);
  }

  async getDocumentContent(clientId: string, documentId: string, ctx: AdapterRequestContext): Promise<EhrDocumentContent | null> {
    const doc = (await this.record(clientId, ctx, 'getDocumentContent'))?.documents.find((d) => d.externalId === documentId);
    if (!doc) return null;
    const bytes = doc.bytes ?? minimalPdf(doc.content);
    return { name: doc.name, mediaType: doc.mediaType, size: bytes.length, stream: Readable.from([bytes]) };
  }

  async listAppointments(clientId: string, window: TimeWindow, ctx: AdapterRequestContext): Promise<EhrAppointment[]> {
    const all = (await this.record(clientId, ctx, 'listAppointments'))?.appointments ?? [];
    const from = window.from ? Date.parse(window.from) : -Infinity;
    const to = window.to ? Date.parse(window.to) : Infinity;
    return all.filter((a) => Date.parse(a.end) >= from && Date.parse(a.start) < to);
  }

  async getPractitioners(ids: readonly string[], ctx: AdapterRequestContext): Promise<EhrPractitioner[]> {
    await this.enter('getPractitioners', ctx);
    const wanted = new Set(ids);
    return this.data.practitioners.filter((p) => wanted.has(p.externalId));
  }

  async sendMessage(clientId: string, message: EhrOutboundMessage, ctx: AdapterRequestContext): Promise<void> {
    await this.enter('sendMessage', ctx);
    if (this.sentMessages.some((m) => m.message.messageId === message.messageId)) return;
    // The demo EHR keeps attachments' bytes, as a real one would (and as tests check).
    const files = [];
    for (const a of message.attachments ?? []) {
      files.push({ name: a.name, mediaType: a.mediaType, bytes: await buffer(await a.content()) });
    }
    this.sentMessages.push({ clientId, message, files });
  }

  async withdrawMessage(clientId: string, messageId: string, ctx: AdapterRequestContext): Promise<void> {
    await this.enter('withdrawMessage', ctx);
    const copy = this.sentMessages.find((m) => m.clientId === clientId && m.message.messageId === messageId);
    if (copy) Object.assign(copy, { withdrawn: true, message: { ...copy.message, body: '' } });
  }

  /** The akkoord is kept in memory for this process: the item reads approved from then on. */
  async approve(clientId: string, approval: EhrApproval, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const record = await this.record(clientId, ctx, 'approve');
    if (!record) return writeRefused('NOT_FOUND', 'No such client.');
    if (approval.target === 'TREATMENT_PLAN') {
      const plan = record.plan;
      if (!plan || plan.externalId !== approval.itemId) return writeRefused('NOT_FOUND', 'The client has no such treatment plan.');
      if (plan.status === 'APPROVED' || (plan.status === 'FINAL' && plan.approvedAt)) return { done: true };
      if (plan.status !== 'AWAITING_APPROVAL') return writeRefused('NOT_CHANGEABLE', 'The treatment plan does not wait for approval.');
      record.plan = { ...plan, status: 'APPROVED', approvedAt: approval.at, approvedBy: approval.by.name };
      return { done: true };
    }
    return approval.target === 'DOCUMENT' ? approveIn(record.documents, approval) : approveIn(record.reports, approval);
  }

  async addTreatmentGoal(clientId: string, goal: EhrNewGoal, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const record = await this.record(clientId, ctx, 'addTreatmentGoal');
    const plan = record?.plan;
    if (!record || !plan || plan.externalId !== goal.planId) return writeRefused('NOT_FOUND', 'The client has no such treatment plan.');
    if (!isOpenPlan(plan)) return writeRefused('NOT_CHANGEABLE', 'The treatment plan is approved: its goals can no longer change.');
    if (!plan.goals.some((g) => g.externalId === goal.goalId) && !this.removedGoals.has(`${clientId}:${goal.goalId}`)) {
      record.plan = { ...plan, goals: [...plan.goals, { externalId: goal.goalId, description: goal.description, addedBy: goal.addedBy.name, byClient: true }] };
    }
    return { done: true, id: goal.goalId };
  }

  async removeTreatmentGoal(clientId: string, removal: EhrGoalRemoval, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const record = await this.record(clientId, ctx, 'removeTreatmentGoal');
    const plan = record?.plan;
    if (!record || !plan || plan.externalId !== removal.planId) return writeRefused('NOT_FOUND', 'The client has no such treatment plan.');
    const goal = plan.goals.find((g) => g.externalId === removal.goalId);
    if (!goal) return this.removedGoals.has(`${clientId}:${removal.goalId}`) ? { done: true } : writeRefused('NOT_FOUND', 'The goal is not part of this plan.');
    if (!isOpenPlan(plan)) return writeRefused('NOT_CHANGEABLE', 'The treatment plan is approved: its goals can no longer change.');
    if (!goal.byClient) return writeRefused('NOT_CHANGEABLE', 'Only goals the client added can be removed.');
    this.removedGoals.add(`${clientId}:${removal.goalId}`);
    record.plan = { ...plan, goals: plan.goals.filter((g) => g !== goal) };
    return { done: true };
  }

  /** The demo organisation's rule: not within 24 hours of the start (call instead), never one held already. */
  async cancelAppointment(clientId: string, cancellation: EhrAppointmentCancellation, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const record = await this.record(clientId, ctx, 'cancelAppointment');
    if (!record) return writeRefused('NOT_FOUND', 'No such client.');
    if (this.cancelled.has(`${clientId}:${cancellation.appointmentId}`)) return { done: true };
    const appointment = record.appointments.find((a) => a.externalId === cancellation.appointmentId);
    if (!appointment) return writeRefused('NOT_FOUND', 'No such appointment.');
    const hoursAhead = (Date.parse(appointment.start) - Date.parse(cancellation.at)) / 3_600_000;
    if (hoursAhead < 24) return writeRefused('NOT_CHANGEABLE', 'Within 24 hours of the appointment it can only be called off by phone.');
    record.appointments = record.appointments.filter((a) => a !== appointment);
    this.cancelled.set(`${clientId}:${cancellation.appointmentId}`, cancellation);
    return { done: true };
  }

  /** Cancelled appointments, per client and appointment. */
  readonly cancelled = new Map<string, EhrAppointmentCancellation>();

  async uploadDocument(clientId: string, upload: EhrUploadedDocument, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    const record = await this.record(clientId, ctx, 'uploadDocument');
    if (!record) return writeRefused('NOT_FOUND', 'No such client.');
    if (record.documents.some((d) => d.externalId === upload.documentId)) return { done: true, id: upload.documentId };
    const bytes = await buffer(await upload.content());
    record.documents.push({
      externalId: upload.documentId,
      name: upload.title,
      mediaType: upload.mediaType,
      uploadedBy: upload.uploadedBy.name,
      uploadedAt: upload.at,
      needsApproval: false,
      approvedAt: null,
      content: '',
      bytes,
    });
    return { done: true, id: upload.documentId };
  }

  /** The client stories shared with the organisation, per client (the latest; shared false once withdrawn). */
  readonly stories = new Map<string, EhrClientStory>();

  async shareClientStory(clientId: string, story: EhrClientStory, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    if (!(await this.record(clientId, ctx, 'shareClientStory'))) return writeRefused('NOT_FOUND', 'No such client.');
    this.stories.set(clientId, story);
    return { done: true, id: `story:${clientId}` };
  }

  /** The record's consents, as the client's later choices (setConsent) changed them. */
  async listConsents(clientId: string, ctx: AdapterRequestContext): Promise<EhrConsent[]> {
    const record = await this.record(clientId, ctx, 'listConsents');
    const chosen = this.consents.get(clientId) ?? new Map<string, EhrConsentChoice>();
    const listed = (record?.consents ?? []).map((c) => {
      const choice = chosen.get(c.topic);
      return choice ? { ...c, granted: choice.granted, changedAt: choice.at } : c;
    });
    const added = [...chosen.values()]
      .filter((c) => !listed.some((l) => l.topic === c.topic))
      .map((c) => ({ topic: c.topic, description: c.description ?? null, granted: c.granted, changedAt: c.at }));
    return [...listed, ...added];
  }

  async setConsent(clientId: string, choice: EhrConsentChoice, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    if (!(await this.record(clientId, ctx, 'setConsent'))) return writeRefused('NOT_FOUND', 'No such client.');
    const mine = this.consents.get(clientId) ?? new Map<string, EhrConsentChoice>();
    mine.set(choice.topic, choice);
    this.consents.set(clientId, mine);
    return { done: true, id: `${clientId}:${choice.topic}` };
  }

  /** The assignments as the EHR has them: one whose answers were sent (COMPLETED) is completed, with those answers. */
  async listQuestionnaireAssignments(clientId: string, ctx: AdapterRequestContext): Promise<EhrQuestionnaireAssignment[]> {
    const record = await this.record(clientId, ctx, 'listQuestionnaireAssignments');
    return (record?.questionnaires ?? []).map((q) => {
      const sent = this.questionnaireAnswers.get(`${clientId}:${q.externalId}`);
      if (sent?.status !== 'COMPLETED') return q;
      return { ...q, completedAt: sent.at, answers: sent.answers.map((a) => ({ questionId: a.questionId, value: a.value })) };
    });
  }

  async saveQuestionnaireAnswers(clientId: string, answers: EhrQuestionnaireAnswers, ctx: AdapterRequestContext): Promise<EhrWriteResult> {
    if (!(await this.record(clientId, ctx, 'saveQuestionnaireAnswers'))) return writeRefused('NOT_FOUND', 'No such client.');
    const key = `${clientId}:${answers.assignmentId}`;
    const saved = this.questionnaireAnswers.get(key);
    if (saved?.status === 'COMPLETED') {
      const same =
        answers.status === 'COMPLETED' &&
        JSON.stringify(saved.answers.map((a) => [a.questionId, a.value])) === JSON.stringify(answers.answers.map((a) => [a.questionId, a.value]));
      return same ? { done: true, id: key } : writeRefused('NOT_CHANGEABLE', 'This questionnaire was sent: it can no longer be changed.');
    }
    this.questionnaireAnswers.set(key, answers);
    return { done: true, id: key };
  }

  async ping(): Promise<void> {}

  private async record(externalId: string, ctx: AdapterRequestContext, method: string): Promise<DemoClientRecord | undefined> {
    await this.enter(method, ctx);
    return this.data.clients.find((c) => c.client.externalId === externalId);
  }

  private async enter(method: string, ctx: AdapterRequestContext): Promise<void> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    // Only a simulated wait can outlast the gateway's deadline; an answer from memory has nothing to abort.
    if (this.delayMs > 0) {
      await new Promise((r) => setTimeout(r, this.delayMs));
      ctx.signal?.throwIfAborted();
    }
  }
}

/** A document or report that asks for akkoord gets approvedAt once; approving it again changes nothing. */
function approveIn<T extends { externalId: string; needsApproval: boolean; approvedAt?: string | null }>(list: T[], approval: EhrApproval): EhrWriteResult {
  const index = list.findIndex((item) => item.externalId === approval.itemId);
  const item = list[index];
  if (!item) return writeRefused('NOT_FOUND', 'The client has no such document or report.');
  if (item.approvedAt) return { done: true };
  if (!item.needsApproval) return writeRefused('NOT_CHANGEABLE', 'This document does not ask for approval.');
  list[index] = { ...item, approvedAt: approval.at };
  return { done: true };
}

/** The client may change goals until approving. */
function isOpenPlan(plan: EhrTreatmentPlan): boolean {
  return plan.status === 'DRAFT' || plan.status === 'AWAITING_APPROVAL';
}

function publicClient(record: DemoClientRecord): EhrClient {
  const { bsn: _bsn, ...client } = record.client;
  return client;
}

/** A one-page PDF with a line of text, so downloads open in a viewer. */
function minimalPdf(text: string): Buffer {
  const safe = text.replace(/[()\\]/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  const stream = `BT /F1 12 Tf 72 720 Td (${safe}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
