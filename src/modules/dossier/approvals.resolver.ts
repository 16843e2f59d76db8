import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { GatewayContext } from '../../graphql/context';
import { approveDossierItem, DOCUMENT_APPROVAL, REPORT_APPROVAL, TREATMENT_PLAN_APPROVAL } from './approvals.service';
import { Document, SessionReport, TreatmentPlan } from './dossier.types';
import { addTreatmentGoal, removeTreatmentGoal } from './treatment-goals';

/** The client's akkoord on a treatment plan, a document or a session report (approvals.service.ts), and the client's own goals in the plan (treatment-goals.ts). */
@Resolver()
export class ApprovalsResolver {
  @Mutation(() => TreatmentPlan)
  approveTreatmentPlan(@Arg('planId', () => ID) planId: string, @Ctx() ctx: GatewayContext): Promise<TreatmentPlan> {
    return approveDossierItem(ctx, TREATMENT_PLAN_APPROVAL, planId);
  }

  @Mutation(() => Document)
  approveDocument(@Arg('documentId', () => ID) documentId: string, @Ctx() ctx: GatewayContext): Promise<Document> {
    return approveDossierItem(ctx, DOCUMENT_APPROVAL, documentId);
  }

  @Mutation(() => TreatmentPlan, {
    description: 'Adds the client’s own goal to the treatment plan until it is approved (then FORBIDDEN, reason PLAN_APPROVED).',
  })
  addTreatmentGoal(@Arg('clientId', () => ID) clientId: string, @Arg('description') description: string, @Ctx() ctx: GatewayContext): Promise<TreatmentPlan> {
    return addTreatmentGoal(ctx, clientId, description);
  }

  @Mutation(() => TreatmentPlan, { description: 'Takes out a goal the client’s side added (TreatmentGoal.removable), until the plan is approved.' })
  removeTreatmentGoal(@Arg('goalId', () => ID) goalId: string, @Ctx() ctx: GatewayContext): Promise<TreatmentPlan> {
    return removeTreatmentGoal(ctx, goalId);
  }

  @Mutation(() => SessionReport, { description: 'The akkoord on a session report that asks for one (SessionReport.needsApproval), as for documents.' })
  approveReport(@Arg('reportId', () => ID) reportId: string, @Ctx() ctx: GatewayContext): Promise<SessionReport> {
    return approveDossierItem(ctx, REPORT_APPROVAL, reportId);
  }
}
