import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { GatewayContext } from '../../graphql/context';
import { approveDossierItem, DOCUMENT_APPROVAL, TREATMENT_PLAN_APPROVAL } from './approvals.service';
import { Document, TreatmentPlan } from './dossier.types';

/** The client's akkoord on a treatment plan or a document (approvals.service.ts). */
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
}
