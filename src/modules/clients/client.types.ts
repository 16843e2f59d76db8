import { Field, ID, Int, ObjectType } from 'type-graphql';
import { connectionOf } from '../../graphql/connection';
import { DateTimeScalar } from '../../graphql/scalars';

/** One client's portal; every field beyond id is resolved (and authorised) by ClientResolver. */
@ObjectType()
export class Client {
  @Field(() => ID) id!: string;
}

@ObjectType()
export class AccessLogEntry {
  @Field(() => ID, { description: 'The line itself (a line never changes)' }) id!: string;
  @Field(() => DateTimeScalar) at!: Date;
  @Field() actor!: string;
  @Field() actorRole!: string;
  @Field() action!: string;
  @Field() resource!: string;
  @Field(() => String, { nullable: true, description: 'The person on whose behalf the actor acted' }) onBehalfOf?: string | null;
  @Field({ description: 'Whether emergency access (break-the-glass) was used' }) emergencyAccess!: boolean;
}

export const AccessLogConnection = connectionOf(AccessLogEntry, 'AccessLog');

@ObjectType()
export class ActivityOverview {
  @Field(() => DateTimeScalar, { nullable: true }) since?: Date | null;
  @Field(() => Int) newDocuments!: number;
  @Field(() => Int) newReports!: number;
  @Field(() => Int) appointmentsHeld!: number;
  @Field(() => Int) newMessages!: number;
  @Field(() => Int) newDiaryEntries!: number;
}

@ObjectType()
export class Dashboard {
  @Field(() => ID, { description: "The client's id (one dashboard per client): a key for normalised client caches" })
  id!: string;
  @Field(() => Int) upcomingAppointmentCount!: number;
  @Field(() => Int) dossierPartCount!: number;
  // nextAppointment and activity are resolved by DashboardResolver
  clientId!: string;
}
