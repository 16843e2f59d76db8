import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { type EventBus, InProcessEventBus, typeGraphqlPubSub } from '../events/event-bus';
import { AuthResolver } from '../auth/auth.resolver';
import { ClientResolver } from '../modules/clients/client.resolver';
import { ConsentMutationResolver, ConsentResolver } from '../modules/consents/consent.resolver';
import { DashboardResolver } from '../modules/dashboard/dashboard.resolver';
import {
  AppointmentResolver,
  DocumentResolver,
  DossierResolver,
  EffortActivityResolver,
  MedicationResolver,
  SessionReportResolver,
  TeamMemberResolver,
  TreatmentPlanResolver,
} from '../modules/dossier/dossier.resolver';
import { ClientConversationsResolver, ConversationResolver, MessageAttachmentsResolver, MessagesResolver } from '../modules/messages/messages.resolver';
import { NetworkFieldResolver, NetworkResolver } from '../modules/network/network.resolver';
import { PortalResolver, ViewerResolver } from '../modules/portal/portal.resolver';
import { ClientInputResolver } from '../modules/questionnaires/client-input.resolver';
import { ClientVideoResolver, VideoResolver } from '../modules/video/video.resolver';

export const resolvers = [
  ViewerResolver,
  PortalResolver,
  AuthResolver,
  ClientResolver,
  ConsentResolver,
  ConsentMutationResolver,
  DashboardResolver,
  DossierResolver,
  AppointmentResolver,
  MedicationResolver,
  TreatmentPlanResolver,
  TeamMemberResolver,
  EffortActivityResolver,
  SessionReportResolver,
  DocumentResolver,
  MessagesResolver,
  ClientConversationsResolver,
  ConversationResolver,
  MessageAttachmentsResolver,
  ClientInputResolver,
  NetworkResolver,
  NetworkFieldResolver,
  ClientVideoResolver,
  VideoResolver,
] as const;

/** Builds the executable schema from the resolvers (the same code emits schema/schema.graphql). */
export async function buildGatewaySchema(bus: EventBus = new InProcessEventBus()): Promise<GraphQLSchema> {
  const schema = await buildSchema({ resolvers: [...resolvers], validate: false, pubSub: typeGraphqlPubSub(bus) });
  answerEventsAsTheyAre(schema);
  return schema;
}

/**
 * Every subscription field answers its event as it is: the work (authorisation, reading, what
 * each viewer may see) happens in its `subscribe`, and its method only returns `@Root()`.
 * type-graphql's resolver for it would answer a promise whatever the method does (its argument
 * validation is async even when switched off), and then no event could be rendered for its
 * sockets synchronously. The methods stay for type-graphql to declare the fields and arguments.
 */
export function answerEventsAsTheyAre(schema: GraphQLSchema): void {
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) field.resolve = (event: unknown) => event;
}
