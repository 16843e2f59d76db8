import { Field, ID, ObjectType } from 'type-graphql';
import { Practitioner } from '../appointments/appointment.types';
import { DateTimeScalar } from '../../graphql/scalars';

@ObjectType()
export class VideoCallStatus {
  @Field(() => ID, { description: "The client's id: one video room per client, so a pushed status replaces Client.videoCall in a normalised cache" })
  id!: string;
  @Field() ready!: boolean;
  @Field(() => Practitioner, { nullable: true }) practitioner?: Practitioner | null;
  @Field(() => String, { nullable: true, description: 'only while ready' }) joinUrl?: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) readySince?: Date | null;
  /** Not in the schema: the global practitioner id the `practitioner` field resolves. */
  practitionerId?: string | null;
}
