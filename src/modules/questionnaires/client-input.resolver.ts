import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import { requireViewer, type GatewayContext } from '../../graphql/context';
import { NotAvailableError } from '../../errors';
import { TreatmentPlan } from '../dossier/dossier.types';
import { ClientStory, DiaryEntry } from '../journal/journal.types';
import { AnswerInput, QuestionnaireAssignment } from './questionnaire.types';

/**
 * What a client writes back: answers, goals, diary and story are a later issue (the EHR port can
 * write answers and goals); approvals are the dossier module's (approvals.resolver.ts).
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

  @Mutation(() => DiaryEntry)
  async addDiaryEntry(@Arg('clientId', () => ID) clientId: string, @Arg('text') _text: string, @Ctx() ctx: GatewayContext): Promise<DiaryEntry> {
    await authorize(ctx, clientId, Action.WRITE_JOURNAL);
    throw new NotAvailableError('The diary');
  }

  @Mutation(() => ClientStory)
  async saveClientStory(
    @Arg('clientId', () => ID) clientId: string,
    @Arg('text') _text: string,
    @Arg('shareWithOrganisation') _share: boolean,
    @Ctx() ctx: GatewayContext,
  ): Promise<ClientStory> {
    await authorize(ctx, clientId, Action.WRITE_JOURNAL);
    throw new NotAvailableError('The client story');
  }
}
