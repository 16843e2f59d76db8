import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';
import { SyncStatus } from '../messages/message.types';

@ObjectType({ description: 'dagboek' })
export class DiaryEntry {
  @Field(() => ID) id!: string;
  @Field() text!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field() author!: string;
}

@ObjectType({ description: 'Mijn Verhaal: shared with the care organisation only after explicit consent' })
export class ClientStory {
  @Field() text!: string;
  @Field() sharedWithOrganisation!: boolean;
  @Field(() => DateTimeScalar) updatedAt!: Date;
  @Field(() => SyncStatus, {
    nullable: true,
    description: 'Shared or withdrawn and not yet taken by the care organisation’s system: PENDING, FAILED; null otherwise.',
  })
  syncStatus?: SyncStatus | null;
}
