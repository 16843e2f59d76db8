import { ArgsType, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
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
  @Field({ description: 'What kind of event and data, e.g. dossier.medications.read (what `dataKinds` filters on)' }) eventType!: string;
  @Field({ description: 'Whether the access rested on a consent (the client’s, or a child’s for a parent)' }) consentApplied!: boolean;
}

/** The NEN 7513 actions, as the filter names them (values their names, as every enum of the schema: the compiled answers serve them as they are). */
export enum AccessLogAction {
  CREATE = 'CREATE',
  READ = 'READ',
  UPDATE = 'UPDATE',
  DELETE = 'DELETE',
  EXECUTE = 'EXECUTE',
}

/** The code the access log stores for each action (C, R, U, D, E). */
export const ACCESS_LOG_CODE = { CREATE: 'C', READ: 'R', UPDATE: 'U', DELETE: 'D', EXECUTE: 'E' } as const satisfies Record<AccessLogAction, string>;
registerEnumType(AccessLogAction, { name: 'AccessLogAction', description: 'NEN 7513 action: C(reate), R(ead), U(pdate), D(elete), E(xecute)' });

/** Which lines of the access log (NEN 7513 §9: the client filters by period); every argument optional, all given must hold. */
@ArgsType()
export class AccessLogFilterArgs {
  @Field(() => DateTimeScalar, { nullable: true, description: 'Lines at or after this time' }) from?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Lines before this time' }) to?: Date | null;
  @Field(() => [AccessLogAction], { nullable: true, description: 'Only these actions' }) actions?: AccessLogAction[] | null;
  @Field(() => [String], {
    nullable: true,
    description: 'Only these kinds of data: an eventType or the start of one before a dot (dossier, dossier.medications, messages); at most 10',
  })
  dataKinds?: string[] | null;
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
