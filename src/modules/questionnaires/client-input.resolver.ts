import { Arg, ID, Mutation, Resolver } from 'type-graphql';
import { NotAvailableError } from '../../graphql/errors';
import { Document, TreatmentPlan } from '../dossier/dossier.types';
import { ClientStory, DiaryEntry } from '../journal/journal.types';
import { AnswerInput, QuestionnaireAssignment } from './questionnaire.types';

/** What a client writes back (answers, goals, approvals, diary, story): a later issue. */
@Resolver()
export class ClientInputResolver {
  @Mutation(() => QuestionnaireAssignment)
  saveQuestionnaireAnswers(
    @Arg('assignmentId', () => ID) _assignmentId: string,
    @Arg('answers', () => [AnswerInput]) _answers: AnswerInput[],
    @Arg('submit', { defaultValue: false }) _submit: boolean,
  ): QuestionnaireAssignment {
    throw new NotAvailableError('Questionnaires');
  }

  @Mutation(() => TreatmentPlan)
  addTreatmentGoal(@Arg('clientId', () => ID) _clientId: string, @Arg('description') _description: string): TreatmentPlan {
    throw new NotAvailableError('Changing treatment goals');
  }

  @Mutation(() => TreatmentPlan)
  removeTreatmentGoal(@Arg('goalId', () => ID) _goalId: string): TreatmentPlan {
    throw new NotAvailableError('Changing treatment goals');
  }

  @Mutation(() => TreatmentPlan)
  approveTreatmentPlan(@Arg('planId', () => ID) _planId: string): TreatmentPlan {
    throw new NotAvailableError('Approving the treatment plan');
  }

  @Mutation(() => Document)
  approveDocument(@Arg('documentId', () => ID) _documentId: string): Document {
    throw new NotAvailableError('Approving documents');
  }

  @Mutation(() => DiaryEntry)
  addDiaryEntry(@Arg('clientId', () => ID) _clientId: string, @Arg('text') _text: string): DiaryEntry {
    throw new NotAvailableError('The diary');
  }

  @Mutation(() => ClientStory)
  saveClientStory(@Arg('clientId', () => ID) _clientId: string, @Arg('text') _text: string, @Arg('shareWithOrganisation') _share: boolean): ClientStory {
    throw new NotAvailableError('The client story');
  }
}
