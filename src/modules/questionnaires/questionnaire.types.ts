import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';
import { SyncStatus } from '../messages/message.types';

export enum QuestionnaireStatus {
  OPEN = 'OPEN',
  COMPLETED = 'COMPLETED',
}
registerEnumType(QuestionnaireStatus, { name: 'QuestionnaireStatus' });

export enum QuestionType {
  TEXT = 'TEXT',
  CHOICE = 'CHOICE',
  SCALE = 'SCALE',
  DATE = 'DATE',
  BOOLEAN = 'BOOLEAN',
}
registerEnumType(QuestionType, { name: 'QuestionType' });

@ObjectType()
export class Question {
  @Field(() => ID) id!: string;
  @Field() text!: string;
  @Field(() => QuestionType) type!: QuestionType;
  @Field(() => [String], { nullable: true }) options?: string[] | null;
  @Field() required!: boolean;
  @Field(() => String, { nullable: true }) answer?: string | null;
}

@ObjectType()
export class QuestionnairePage {
  @Field(() => String, { nullable: true }) title?: string | null;
  @Field(() => [Question]) questions!: Question[];
}

@ObjectType()
export class QuestionnaireAssignment {
  @Field(() => ID) id!: string;
  @Field() title!: string;
  @Field(() => QuestionnaireStatus) status!: QuestionnaireStatus;
  @Field(() => DateTimeScalar) assignedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) submittedAt?: Date | null;
  @Field(() => [QuestionnairePage]) pages!: QuestionnairePage[];
  @Field(() => SyncStatus, {
    nullable: true,
    description: 'Sent answers the care organisation’s system has not taken yet: PENDING (kept and retried), FAILED; null otherwise.',
  })
  syncStatus?: SyncStatus | null;
}

@InputType()
export class AnswerInput {
  @Field(() => ID) questionId!: string;
  @Field(() => String, { nullable: true }) value?: string | null;
}
