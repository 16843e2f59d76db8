import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';

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
}
