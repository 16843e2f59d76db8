import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Permission, PortalRelation } from '../../auth/permissions';
import { DateTimeScalar } from '../../graphql/scalars';

@ObjectType()
export class NotificationSettings {
  @Field() newMessage!: boolean;
  @Field() newDocument!: boolean;
  @Field() newAppointment!: boolean;
  @Field() newQuestionnaire!: boolean;
}

@InputType()
export class NotificationSettingsInput {
  @Field(() => Boolean, { nullable: true }) newMessage?: boolean | null;
  @Field(() => Boolean, { nullable: true }) newDocument?: boolean | null;
  @Field(() => Boolean, { nullable: true }) newAppointment?: boolean | null;
  @Field(() => Boolean, { nullable: true }) newQuestionnaire?: boolean | null;
}

@ObjectType()
export class Portal {
  // client is resolved by PortalResolver
  @Field(() => PortalRelation) relation!: PortalRelation;
  @Field() isAdmin!: boolean;
  @Field(() => [Permission]) permissions!: Permission[];
  clientId!: string;
}

@ObjectType()
export class Viewer {
  @Field(() => ID) id!: string;
  @Field() displayName!: string;
  @Field(() => String, { nullable: true }) email?: string | null;
  // portals, preferredPortal, notificationSettings are resolved by ViewerResolver
  preferredClientId!: string | null;
}

@ObjectType()
export class Session {
  @Field() accessToken!: string;
  @Field() refreshToken!: string;
  @Field(() => DateTimeScalar) expiresAt!: Date;
  @Field({ description: 'The password must be replaced (changePassword) before any client data is served.' }) mustChangePassword!: boolean;
}

export enum CodeChannel {
  EMAIL = 'EMAIL',
  SMS = 'SMS',
}
registerEnumType(CodeChannel, { name: 'CodeChannel' });

@ObjectType()
export class LoginChallenge {
  @Field(() => ID) challengeId!: string;
  @Field(() => CodeChannel) channel!: CodeChannel;
  @Field() maskedDestination!: string;
  @Field(() => DateTimeScalar) expiresAt!: Date;
}
