import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import { requireViewer, type GatewayContext } from '../../graphql/context';
import { NotAvailableError } from '../../errors';
import { TreatmentPlan } from '../dossier/dossier.types';
import { AnswerInput, QuestionnaireAssignment } from './questionnaire.types';

/**
 * What a client writes back to the EHR: answers and goals are a later issue (the EHR port can
 * write both; the diary and story are the journal module's); approvals are the dossier module's (approvals.resolver.ts).
 * Until then each asks the gate first, so a refusal stays a refusal, and then says it is not there.
 */
@Resolver()
export class ClientInputResolver {
  @Mutation(() => QuestionnaireAssignment)
  saveQuestionnaireAnswers(
    @Arg('assignmentId', () => ID) _assignmentId: string,
    @Arg('answers', () => [AnswerInput]) _answers: AnswerInput[],
    @Arg('submit', { defaultValue: false }) _submit: boolean,
    @Ctx() ctx: GatewayContext,
  ): QuestionnaireAssignment {
    requireViewer(ctx);
    throw new NotAvailableError('Questionnaires');
  }

  @Mutation(() => TreatmentPlan)
  async addTreatmentGoal(
    @Arg('clientId', () => ID) clientId: string,
    @Arg('description') _description: string,
    @Ctx() ctx: GatewayContext,
  ): Promise<TreatmentPlan> {
    await authorize(ctx, clientId, Action.CHANGE_TREATMENT_GOALS);
    throw new NotAvailableError('Changing treatment goals');
  }

  @Mutation(() => TreatmentPlan)
  removeTreatmentGoal(@Arg('goalId', () => ID) _goalId: string, @Ctx() ctx: GatewayContext): TreatmentPlan {
    requireViewer(ctx);
    throw new NotAvailableError('Changing treatment goals');
  }
}
