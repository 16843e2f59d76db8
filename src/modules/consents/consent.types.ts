import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';

@ObjectType({ description: 'toestemming' })
export class Consent {
  @Field(() => ID) id!: string;
  @Field() topic!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field() granted!: boolean;
  @Field(() => DateTimeScalar, { nullable: true }) changedAt?: Date | null;
}
