import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateScalar, DateTimeScalar } from '../../graphql/scalars';
import { SyncStatus } from '../messages/message.types';

/** The client's record as the EHRs hold it; each part is resolved (and logged) on its own. */
@ObjectType({ simpleResolvers: true })
export class Dossier {
  @Field(() => ID, { description: "The client's id (one dossier per client): a key for normalised client caches" })
  id!: string;
  clientId!: string;
}

@ObjectType({ simpleResolvers: true })
export class DossierOverview {
  @Field() dossierNumber!: string;
  @Field(() => DateScalar, { nullable: true }) registrationDate?: string | null;
  @Field(() => String, { nullable: true }) registrationReason?: string | null;
  @Field(() => String, { nullable: true }) diagnosis?: string | null;
  @Field(() => String, { nullable: true, description: 'zorgvraagtypering' }) careDemandType?: string | null;
  @Field({ description: 'Which adapter (care organisation) it came from' }) source!: string;
  @Field(() => String, {
    nullable: true,
    description: 'The client’s name as the care organisation has it (read-only: corrections go through the practitioner)',
  })
  name?: string | null;
  @Field(() => DateScalar, { nullable: true }) birthDate?: string | null;
  @Field(() => String, { nullable: true, description: 'As the care organisation records it (e.g. vrouw, man)' }) gender?: string | null;
}

@ObjectType({ simpleResolvers: true })
export class IntakeItem {
  @Field() question!: string;
  @Field(() => String, { nullable: true }) answer?: string | null;
}
@ObjectType({ simpleResolvers: true })
export class IntakeSection {
  @Field() title!: string;
  @Field(() => [IntakeItem]) items!: IntakeItem[];
}
@ObjectType({ simpleResolvers: true })
export class IntakeReport {
  @Field(() => [IntakeSection]) sections!: IntakeSection[];
  @Field() source!: string;
}

@ObjectType({ simpleResolvers: true })
export class Medication {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) dosage?: string | null;
  @Field(() => DateScalar, { nullable: true }) since?: string | null;
  @Field(() => DateScalar, { nullable: true }) until?: string | null;
  @Field() source!: string;
  prescriberId?: string | null;
}

@ObjectType({ simpleResolvers: true })
export class Allergy {
  @Field(() => ID) id!: string;
  @Field() substance!: string;
  @Field(() => String, { nullable: true }) reaction?: string | null;
  @Field(() => DateScalar, { nullable: true }) recordedAt?: string | null;
  @Field() source!: string;
}

@ObjectType({ simpleResolvers: true })
export class Insurance {
  @Field(() => ID) id!: string;
  @Field({ description: 'The health insurer (zorgverzekeraar)' }) insurer!: string;
  @Field(() => String, { nullable: true }) policyNumber?: string | null;
  @Field(() => DateScalar, { nullable: true }) from?: string | null;
  @Field(() => DateScalar, { nullable: true }) until?: string | null;
  @Field() source!: string;
}

@ObjectType({ simpleResolvers: true })
export class ContraIndication {
  @Field(() => ID) id!: string;
  @Field() description!: string;
  @Field(() => DateScalar, { nullable: true }) recordedAt?: string | null;
  @Field() source!: string;
}

export enum TreatmentPlanStatus {
  DRAFT = 'DRAFT',
  AWAITING_APPROVAL = 'AWAITING_APPROVAL',
  APPROVED = 'APPROVED',
  FINAL = 'FINAL',
}
registerEnumType(TreatmentPlanStatus, { name: 'TreatmentPlanStatus' });

@ObjectType({ simpleResolvers: true })
export class TreatmentGoal {
  @Field(() => ID) id!: string;
  @Field() description!: string;
  @Field() addedBy!: string;
  @Field({ description: 'The client’s side added it and the plan is not approved yet: removeTreatmentGoal may take it out.' }) removable!: boolean;
  @Field(() => SyncStatus, {
    nullable: true,
    description: 'Added and not yet taken by the care organisation’s system: PENDING (kept and retried), FAILED; null otherwise.',
  })
  syncStatus?: SyncStatus | null;
}

@ObjectType({ description: 'behandelplan', simpleResolvers: true })
export class TreatmentPlan {
  @Field(() => ID) id!: string;
  @Field(() => TreatmentPlanStatus) status!: TreatmentPlanStatus;
  @Field(() => String, { nullable: true }) careQuestion?: string | null;
  @Field(() => String, { nullable: true }) problemDescription?: string | null;
  @Field(() => String, { nullable: true }) indication?: string | null;
  @Field(() => String, { nullable: true }) explanation?: string | null;
  @Field(() => [TreatmentGoal]) goals!: TreatmentGoal[];
  @Field(() => DateTimeScalar) createdAt!: string;
  @Field(() => DateTimeScalar, { nullable: true }) finalisedAt?: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) approvedAt?: string | null;
  @Field(() => String, { nullable: true }) approvedBy?: string | null;
  @Field() source!: string;
  @Field(() => SyncStatus, {
    nullable: true,
    description: 'An akkoord given and not yet taken by the care organisation’s system: PENDING (kept and retried), FAILED; null otherwise.',
  })
  syncStatus?: SyncStatus | null;
  responsiblePractitionerIds!: string[];
}

export enum TeamRole {
  LEAD = 'LEAD',
  DEPUTY_LEAD = 'DEPUTY_LEAD',
  CO_PRACTITIONER = 'CO_PRACTITIONER',
}
registerEnumType(TeamRole, {
  name: 'TeamRole',
  valuesConfig: {
    LEAD: { description: 'regiebehandelaar' },
    DEPUTY_LEAD: { description: 'waarnemend regiebehandelaar' },
    CO_PRACTITIONER: { description: 'medebehandelaar' },
  },
});

@ObjectType({ simpleResolvers: true })
export class TeamMember {
  @Field(() => TeamRole) role!: TeamRole;
  @Field(() => DateScalar) from!: string;
  @Field(() => DateScalar, { nullable: true }) until?: string | null;
  @Field() active!: boolean;
  @Field() source!: string;
  practitionerId!: string;
}

@ObjectType({ simpleResolvers: true })
export class EffortActivity {
  @Field(() => DateScalar) date!: string;
  @Field(() => Int) minutes!: number;
  @Field() activity!: string;
  @Field() consultType!: string;
  practitionerId!: string;
}

@ObjectType({ description: 'behandelinzet', simpleResolvers: true })
export class TreatmentEffort {
  @Field(() => Int) plannedMinutes!: number;
  @Field(() => Int) realisedMinutes!: number;
  @Field(() => [EffortActivity]) activities!: EffortActivity[];
}

@ObjectType({ description: 'verslaglegging', simpleResolvers: true })
export class SessionReport {
  @Field(() => ID) id!: string;
  @Field(() => DateTimeScalar) date!: string;
  @Field() title!: string;
  @Field(() => String, { nullable: true }) body?: string | null;
  @Field() needsApproval!: boolean;
  @Field(() => DateTimeScalar, { nullable: true }) approvedAt?: string | null;
  @Field() source!: string;
  @Field(() => SyncStatus, {
    nullable: true,
    description: 'An akkoord given and not yet taken by the care organisation’s system: PENDING (kept and retried), FAILED; null otherwise.',
  })
  syncStatus?: SyncStatus | null;
  authorId?: string | null;
}

@ObjectType({ simpleResolvers: true })
export class Document {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() mediaType!: string;
  @Field() uploadedBy!: string;
  @Field(() => DateTimeScalar) uploadedAt!: string;
  @Field() needsApproval!: boolean;
  @Field(() => DateTimeScalar, { nullable: true }) approvedAt?: string | null;
  @Field() source!: string;
  @Field(() => SyncStatus, {
    nullable: true,
    description: 'An akkoord given and not yet taken by the care organisation’s system: PENDING (kept and retried), FAILED; null otherwise.',
  })
  syncStatus?: SyncStatus | null;
  clientId!: string;
  externalId!: string;
}
