import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Permission } from '../../auth/permissions';
import { DateTimeScalar } from '../../graphql/scalars';

export enum NetworkMemberStatus {
  INVITED = 'INVITED',
  ACTIVE = 'ACTIVE',
  EXPIRED = 'EXPIRED',
}
registerEnumType(NetworkMemberStatus, { name: 'NetworkMemberStatus' });

@ObjectType()
export class NetworkMember {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() email!: string;
  @Field() admin!: boolean;
  @Field(() => [Permission]) permissions!: Permission[];
  @Field(() => NetworkMemberStatus) status!: NetworkMemberStatus;
}

@InputType()
export class InvitationInput {
  @Field() name!: string;
  @Field() email!: string;
  @Field() language!: string;
  @Field(() => [Permission]) permissions!: Permission[];
  @Field(() => String, { nullable: true }) message?: string | null;
}

@ObjectType()
export class Invitation {
  @Field(() => ID) id!: string;
  @Field() email!: string;
  @Field(() => DateTimeScalar) expiresAt!: Date;
  @Field(() => NetworkMember) member!: NetworkMember;
}
