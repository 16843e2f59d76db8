import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../graphql/scalars';

/** A module's state, from its Koppeltaal Task's FHIR status. */
export enum EhealthModuleStatus {
  /** requested, received, accepted, ready */
  ASSIGNED = 'ASSIGNED',
  IN_PROGRESS = 'IN_PROGRESS',
  ON_HOLD = 'ON_HOLD',
  COMPLETED = 'COMPLETED',
  /** cancelled, rejected, failed, entered-in-error */
  CANCELLED = 'CANCELLED',
}
registerEnumType(EhealthModuleStatus, { name: 'EhealthModuleStatus' });

@ObjectType({ description: 'An online module (psycho-education, exercises) the care organisation assigned through Koppeltaal 2.0.' })
export class EhealthModule {
  @Field(() => ID, { description: 'The Koppeltaal Task' }) id!: string;
  @Field() title!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => EhealthModuleStatus) status!: EhealthModuleStatus;
  @Field(() => Int, { nullable: true, description: '0–100, where the module reports it' }) progress?: number | null;
  @Field(() => DateTimeScalar, { nullable: true }) lastModified?: Date | null;
  @Field({ description: 'Whether launchEhealthModule may open it now (assigned, in progress or completed, with a launch address)' })
  launchable!: boolean;
}

@ObjectType()
export class FormField {
  @Field() name!: string;
  @Field() value!: string;
}

@ObjectType({ description: 'What the browser posts (a form, method POST) to open the module: HTI 2.0 form-post launch.' })
export class EhealthLaunch {
  @Field({ description: "The module's launch URL (the form's action)" }) url!: string;
  @Field() method!: string;
  @Field(() => [FormField], { description: 'The form fields: `token`, the signed HTI launch token' }) fields!: FormField[];
  @Field(() => DateTimeScalar, { description: 'The token is refused after this; launch again for a new one' }) expiresAt!: Date;
}
