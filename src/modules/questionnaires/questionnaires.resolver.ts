import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { openWrites } from '../ehr/client-items';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { Client } from '../clients/client.types';
import { assignments, present, saveAnswers } from './questionnaires';
import { AnswerInput, QuestionnaireAssignment, QuestionnaireStatus } from './questionnaire.types';

/** Questionnaires the practitioner assigned (Karify, Caren): read with their drafts, filled in page by page, sent once. */
@Resolver(() => Client)
export class ClientQuestionnairesResolver {
  @FieldResolver(() => [QuestionnaireAssignment], { nullable: true })
  async questionnaires(
    @Root() c: Client,
    @Ctx() ctx: GatewayContext,
    @Arg('status', () => QuestionnaireStatus, { nullable: true }) status?: QuestionnaireStatus,
  ): Promise<QuestionnaireAssignment[]> {
    const { access } = await authorize(ctx, c.id, Action.VIEW_QUESTIONNAIRES);
    const [list, drafts, writes] = await Promise.all([
      assignments(ctx, c.id),
      ctx.services.questionnaires.drafts(c.id),
      // Answers sent and not taken yet: from the request's one read of the client's open writes.
      openWrites(ctx, c.id, 'saveQuestionnaireAnswers'),
      ctx.audit({ action: 'R', eventType: 'questionnaires.read', resource: 'Vragenlijsten', clientId: c.id, treatmentRelationship: true }, access),
    ]);
    return list
      .map((a) => present(a, drafts.get(a.id), writes.get(a.id)))
      .filter((a) => !status || a.status === status)
      .sort((a, b) => b.assignedAt.getTime() - a.assignedAt.getTime());
  }
}

@Resolver()
export class QuestionnaireMutationResolver {
  @Mutation(() => QuestionnaireAssignment, {
    description:
      'Saves answers (a draft, resumed on any device); with submit: true sends them to the care organisation, after which the questionnaire is read-only.',
  })
  saveQuestionnaireAnswers(
    @Arg('assignmentId', () => ID) assignmentId: string,
    @Arg('answers', () => [AnswerInput]) answers: AnswerInput[],
    @Arg('submit', { defaultValue: false }) submit: boolean,
    @Ctx() ctx: GatewayContext,
  ): Promise<QuestionnaireAssignment> {
    return saveAnswers(ctx, assignmentId, answers, submit);
  }
}
