import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';
import { SyncStatus } from '../messages/message.types';

@ObjectType({ description: 'toestemming' })
export class Consent {
  @Field(() => ID) id!: string;
  @Field() topic!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field() granted!: boolean;
  @Field(() => DateTimeScalar, { nullable: true }) changedAt?: Date | null;
  @Field(() => SyncStatus, {
    nullable: true,
    description: 'A change not yet taken by the care organisation’s system: PENDING (kept and retried), FAILED; null otherwise.',
  })
  syncStatus?: SyncStatus | null;
}
