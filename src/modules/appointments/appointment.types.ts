import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';
import { SyncStatus } from '../messages/message.types';

export enum AppointmentWindow {
  UPCOMING = 'UPCOMING',
  PAST = 'PAST',
  ALL = 'ALL',
}
registerEnumType(AppointmentWindow, { name: 'AppointmentWindow' });

@ObjectType({ simpleResolvers: true })
export class Practitioner {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => String, { nullable: true, description: 'e.g. Psychotherapeut, Psychiater, GZ-psycholoog' }) profession?: string | null;
  @Field(() => String, { nullable: true }) phone?: string | null;
  @Field(() => String, { nullable: true }) email?: string | null;
}

@ObjectType({ simpleResolvers: true })
export class Appointment {
  @Field(() => ID) id!: string;
  @Field(() => DateTimeScalar) start!: string;
  @Field(() => DateTimeScalar) end!: string;
  @Field({ description: 'e.g. Diagnostiek, Behandeling' }) type!: string;
  /** Filled in by whoever lists appointments, from one batch (withPractitioners): no resolver per item. */
  @Field(() => Practitioner) practitioner!: Practitioner;
  // report is resolved by AppointmentResolver
  @Field(() => String, { nullable: true }) location?: string | null;
  @Field() online!: boolean;
  @Field({ description: 'Which adapter (care organisation) it came from' }) source!: string;
  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'Called off in the portal and not yet taken by the care organisation’s system (see syncStatus); the appointment leaves the agenda once it did.',
  })
  cancelledAt?: string | null;
  @Field(() => SyncStatus, {
    nullable: true,
    description: 'A cancellation on its way to the care organisation’s system: PENDING (kept and retried), FAILED; null otherwise.',
  })
  syncStatus?: SyncStatus | null;

  clientId!: string;
  practitionerId!: string;
  reportId?: string | null;
  /** Shown only to viewers with AGENDA_VIEW_ORGANISATION (the client is not a participant). */
  organisationOnly?: boolean;
}

/** An appointment as the dossier service reads it, before its practitioner is filled in. */
export type AppointmentRecord = Omit<Appointment, 'practitioner'>;
