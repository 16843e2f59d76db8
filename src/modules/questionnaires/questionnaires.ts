import type { EhrQuestion, EhrQuestionnaireAssignment } from '../../../adapters/ports';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { BadUserInputError, ConflictError, NotAvailableError, NotFoundError } from '../../errors';
import { actor, locateInDossiers } from '../dossier/approvals.service';
import { globalId, parseGlobalId } from '../ehr/global-id';
import { QuestionnaireStatus, QuestionType, type AnswerInput, type QuestionnaireAssignment } from './questionnaire.types';
import type { DraftAnswers } from './questionnaires.service';

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

/** As served: a completed one shows what was sent (read-only), an open one the draft saved so far. */
export function present(a: Assignment, draft: DraftAnswers | undefined): QuestionnaireAssignment {
  const sent = a.completedAt ? new Map((a.answers ?? []).map((x) => [x.questionId, x.value])) : null;
  return {
    id: a.id,
    title: a.title,
    status: a.completedAt ? QuestionnaireStatus.COMPLETED : QuestionnaireStatus.OPEN,
    assignedAt: new Date(a.assignedAt),
    submittedAt: a.completedAt ? new Date(a.completedAt) : null,
    pages: a.pages.map((p) => ({
      title: p.title ?? null,
      questions: p.questions.map((q) => ({
        id: q.id,
        text: q.text,
        type: q.type as QuestionType,
        options: q.options ?? null,
        required: q.required,
        answer: (sent ? sent.get(q.id) : draft?.[q.id]) ?? null,
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
  if (item.completedAt) throw new ConflictError('This questionnaire was sent: it can no longer be changed.');
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
    return present(item, draft);
  }
  const missing = [...questions.values()].filter((q) => q.required && !draft[q.id]).map((q) => q.id);
  if (missing.length) throw new BadUserInputError(`Answer every required question before sending (${missing.length} open).`, { field: 'answers', missing });
  if (!ctx.services.registry.adapter(item.source)?.saveQuestionnaireAnswers) throw new NotAvailableError('Sending questionnaires to this care organisation');
  const externalClientId = (await ctx.ehr.clientSources(clientId)).find((s) => s.source === item.source)!.externalId;
  const sent = {
    assignmentId: parseGlobalId(item.id)!.externalId,
    questionnaire: item.questionnaire,
    status: 'COMPLETED' as const,
    answers: [...questions.values()].map((q) => ({ questionId: q.id, question: q.text, type: q.type, value: draft[q.id] ?? null })),
    by: await actor(ctx, access),
    at: new Date().toISOString(),
  };
  const result = await ctx.ehr.write(item.source, 'saveQuestionnaireAnswers', (adapter, c) => adapter.saveQuestionnaireAnswers!(externalClientId, sent, c));
  if (!result.done) {
    if (result.refusal === 'NOT_FOUND') throw new NotFoundError('No such questionnaire.');
    throw new ConflictError(`The care organisation's system refused the answers: ${result.reason}`);
  }
  await ctx.services.questionnaires.removeDraft(clientId, item.id);
  await ctx.audit(
    { action: 'C', eventType: 'questionnaire.submit', resource: `Vragenlijst ingevuld: ${item.title}`, clientId, treatmentRelationship: true },
    access,
  );
  await ctx.ehr.forget(clientId, item.source, 'listQuestionnaireAssignments');
  const fresh = (await assignments(ctx, clientId)).find((a) => a.id === item.id);
  return present(fresh ?? { ...item, completedAt: sent.at, answers: sent.answers }, undefined);
}
