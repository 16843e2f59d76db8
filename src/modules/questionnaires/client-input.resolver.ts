import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requireViewer, type GatewayContext } from '../../graphql/context';
import { NotAvailableError } from '../../errors';
import { AnswerInput, QuestionnaireAssignment } from './questionnaire.types';

/**
 * What a client writes back to the EHR: answers are a later issue (the EHR port can write them;
 * goals are the dossier module's, the diary and story the journal module's); approvals are the dossier module's (approvals.resolver.ts).
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
}
