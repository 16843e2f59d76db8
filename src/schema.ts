import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { type EventBus, InProcessEventBus, typeGraphqlPubSub } from './events/event-bus';
import { answerEventsAsTheyAre } from './graphql/execution/live-execution';
import { AuthResolver } from './modules/identity/auth.resolver';
import { ClientResolver } from './modules/clients/client.resolver';
import { ConsentMutationResolver, ConsentResolver } from './modules/consents/consent.resolver';
import { DashboardResolver } from './modules/dashboard/dashboard.resolver';
import { AgendaMutationResolver, AppointmentResolver, ClientAppointmentsResolver } from './modules/appointments/appointments.resolver';
import {
  DocumentResolver,
  DossierResolver,
  EffortActivityResolver,
  MedicationResolver,
  SessionReportResolver,
  TeamMemberResolver,
  TreatmentPlanResolver,
} from './modules/dossier/dossier.resolver';
import { ClientConversationsResolver, ConversationResolver, MessageAttachmentsResolver, MessagesResolver } from './modules/messages/messages.resolver';
import { NetworkFieldResolver, NetworkResolver } from './modules/network/network.resolver';
import { PortalResolver, ViewerResolver } from './modules/portal/portal.resolver';
import { ClientQuestionnairesResolver, QuestionnaireMutationResolver } from './modules/questionnaires/questionnaires.resolver';
import { DocumentUploadResolver } from './modules/dossier/document-upload';
import { JournalMutationResolver, JournalResolver } from './modules/journal/journal.resolver';
import { ApprovalsResolver } from './modules/dossier/approvals.resolver';
import { ClientVideoResolver, VideoResolver } from './modules/video/video.resolver';
import { ClientEhealthResolver, EhealthResolver } from './modules/ehealth/ehealth.resolver';

export const resolvers = [
  ViewerResolver,
  PortalResolver,
  AuthResolver,
  ClientResolver,
  ConsentResolver,
  ConsentMutationResolver,
  DashboardResolver,
  DossierResolver,
  ClientAppointmentsResolver,
  AgendaMutationResolver,
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
  ClientQuestionnairesResolver,
  DocumentUploadResolver,
  QuestionnaireMutationResolver,
  JournalResolver,
  JournalMutationResolver,
  ApprovalsResolver,
  NetworkResolver,
  NetworkFieldResolver,
  ClientVideoResolver,
  VideoResolver,
  ClientEhealthResolver,
  EhealthResolver,
] as const;

/** Builds the executable schema from the resolvers (the same code emits schema/schema.graphql). */
export async function buildGatewaySchema(bus: EventBus = new InProcessEventBus()): Promise<GraphQLSchema> {
  const schema = await buildSchema({ resolvers: [...resolvers], validate: false, pubSub: typeGraphqlPubSub(bus) });
  answerEventsAsTheyAre(schema);
  return schema;
}
