import type { EhrQuestion, EhrQuestionnaireAssignment } from '../../../adapters/ports';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { BadUserInputError, ConflictError, NotAvailableError, NotFoundError } from '../../errors';
import { actor, locateInDossiers, syncStatusOf } from '../ehr/client-items';
import { globalId, parseGlobalId } from '../ehr/global-id';
import { QuestionnaireStatus, QuestionType, type AnswerInput, type QuestionnaireAssignment } from './questionnaire.types';
import type { Draft, DraftAnswers } from './questionnaires.service';
import type { OpenWrite } from '../ehr/ehr-writes';

type Assignment = EhrQuestionnaireAssignment & { id: string; source: string };

/** An open answer's length. */
export const ANSWER_MAX = 2000;

/** The client's assignments from every EHR that has them (an adapter without questionnaires has none). */
export function assignments(ctx: GatewayContext, clientId: string): Promise<Assignment[]> {
  return ctx.ehr.collect(
    clientId,
    'listQuestionnaireAssignments',
    (a, id, c) => (a.listQuestionnaireAssignments ? a.listQuestionnaireAssignments(id, c) : Promise.resolve([])),
    (q, source) => ({ ...q, id: globalId(source, q.externalId), source }),
  );
}

/**
 * As served: a completed one shows what was sent (read-only), an open one the draft saved so far;
 * answers sent and not yet taken by the EHR show as completed with `syncStatus` PENDING (FAILED
 * once the outbox gave up on them).
 */
export function present(a: Assignment, draft: Draft | undefined, write?: Pick<OpenWrite, 'status'>): QuestionnaireAssignment {
  const waiting = !a.completedAt && draft?.submittedAt ? draft : undefined;
  const sent = a.completedAt ? new Map((a.answers ?? []).map((x) => [x.questionId, x.value])) : null;
  const syncStatus = waiting ? syncStatusOf(write?.status ?? 'pending') : null;
  return {
    id: a.id,
    title: a.title,
    status: a.completedAt || waiting ? QuestionnaireStatus.COMPLETED : QuestionnaireStatus.OPEN,
    assignedAt: new Date(a.assignedAt),
    submittedAt: a.completedAt ? new Date(a.completedAt) : (waiting?.submittedAt ?? null),
    syncStatus,
    pages: a.pages.map((p) => ({
      title: p.title ?? null,
      questions: p.questions.map((q) => ({
        id: q.id,
        text: q.text,
        type: q.type as QuestionType,
        options: q.options ?? null,
        required: q.required,
        answer: (sent ? sent.get(q.id) : draft?.answers[q.id]) ?? null,
      })),
    })),
  };
}

/** The value as it is kept, or the reason it cannot be an answer to this question. */
function checkAnswer(q: EhrQuestion, raw: string | null | undefined): string | null {
  const value = raw?.trim() ?? '';
  if (!value) return null;
  const refuse = (why: string) => {
    throw new BadUserInputError(`The answer to “${q.text}” ${why}.`, { field: 'answers', questionId: q.id });
  };
  switch (q.type) {
    case 'CHOICE':
    case 'SCALE':
      if (q.options?.length) {
        if (!q.options.includes(value)) refuse(`must be one of: ${q.options.join(', ')}`);
      } else if (q.type === 'SCALE' && !/^-?\d+(\.\d+)?$/.test(value)) refuse('must be a number');
      break;
    case 'BOOLEAN':
      if (value !== 'true' && value !== 'false') refuse('must be true or false');
      break;
    case 'DATE':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) refuse('must be a date, YYYY-MM-DD');
      break;
    case 'TEXT':
      if ([...value].length > ANSWER_MAX) refuse(`is longer than ${ANSWER_MAX} characters`);
      break;
  }
  return value;
}

/**
 * Saves answers to an assigned questionnaire (a draft in the portal, resumed on any device), and
 * with `submit` sends them to the EHR (a completed QuestionnaireResponse, author the viewer,
 * source the client): then every required question needs an answer, and from then on the
 * assignment is read-only (CONFLICT). By the client, a parent with authority or a representative,
 * or a network member with QUESTIONNAIRES_FILL (and DOSSIER_VIEW).
 */
export async function saveAnswers(ctx: GatewayContext, assignmentId: string, input: AnswerInput[], submit: boolean): Promise<QuestionnaireAssignment> {
  const { clientId, item } = await locateInDossiers(ctx, assignmentId, 'questionnaire', Action.FILL_QUESTIONNAIRES, (id) => assignments(ctx, id));
  const { access } = await authorize(ctx, clientId, Action.FILL_QUESTIONNAIRES);
  const drafts = await ctx.services.questionnaires.drafts(clientId);
  const sentAt = item.completedAt ?? drafts.get(item.id)?.submittedAt?.toISOString();
  if (sentAt) throw new ConflictError('This questionnaire was sent: it can no longer be changed.', { status: 'COMPLETED', completedAt: sentAt });
  const questions = new Map(item.pages.flatMap((p) => p.questions).map((q) => [q.id, q]));
  const answers: DraftAnswers = {};
  for (const a of input) {
    const q = questions.get(a.questionId);
    if (!q) throw new BadUserInputError(`This questionnaire has no question ${a.questionId}.`, { field: 'answers', questionId: a.questionId });
    answers[q.id] = checkAnswer(q, a.value);
  }
  const account = await ctx.account();
  // Saved first, whatever follows: a refused or failed send loses nothing of what was filled in.
  const draft = await ctx.services.questionnaires.saveDraft(clientId, item.id, answers, account.id);
  if (!submit) {
    await ctx.audit(
      { action: 'U', eventType: 'questionnaire.save', resource: `Vragenlijst opgeslagen: ${item.title}`, clientId, treatmentRelationship: true },
      access,
    );
    return present(item, { answers: draft, submittedAt: null });
  }
  const missing = [...questions.values()].filter((q) => q.required && !draft[q.id]).map((q) => q.id);
  if (missing.length) throw new BadUserInputError(`Answer every required question before sending (${missing.length} open).`, { field: 'answers', missing });
  if (!ctx.services.registry.adapter(item.source)?.saveQuestionnaireAnswers) throw new NotAvailableError('Sending questionnaires to this care organisation');
  const externalClientId = (await ctx.ehr.clientSources(clientId)).find((s) => s.source === item.source)!.externalId;
  const at = new Date();
  const sent = {
    assignmentId: parseGlobalId(item.id)!.externalId,
    questionnaire: item.questionnaire,
    status: 'COMPLETED' as const,
    answers: [...questions.values()].map((q) => ({ questionId: q.id, question: q.text, type: q.type, value: draft[q.id] ?? null })),
    by: await actor(ctx, access),
    at: at.toISOString(),
  };
  // Sent as far as the client is concerned: the draft waits read-only and the write is in the outbox, in one transaction.
  const write = await ctx.services.questionnaires.submit(clientId, item.id, draft, at, (tx) =>
    ctx.services.ehrWrites.enqueue(tx, { clientId, source: item.source, externalClientId, method: 'saveQuestionnaireAnswers', subject: item.id, input: sent }),
  );
  await ctx.audit(
    { action: 'C', eventType: 'questionnaire.submit', resource: `Vragenlijst ingevuld: ${item.title}`, clientId, treatmentRelationship: true },
    access,
  );
  const outcome = await ctx.services.ehrWrites.tryNow(write);
  if (outcome.state === 'refused') {
    await ctx.services.questionnaires.reopen(clientId, item.id);
    if (outcome.refusal === 'NOT_FOUND') throw new NotFoundError('No such questionnaire.');
    throw new ConflictError(`The care organisation's system refused the answers: ${outcome.reason}`);
  }
  if (outcome.state === 'pending') return present(item, { answers: draft, submittedAt: at }, { status: 'pending' });
  await ctx.ehr.forget(clientId, item.source, 'listQuestionnaireAssignments');
  // The EHR took them: a re-read that fails now answers the questionnaire as sent, not an error.
  const fresh = (await assignments(ctx, clientId).catch(() => [])).find((a) => a.id === item.id);
  return present(fresh ?? { ...item, completedAt: sent.at, answers: sent.answers }, undefined);
}
