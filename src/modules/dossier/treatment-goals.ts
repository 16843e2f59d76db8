import { randomUUID } from 'node:crypto';
import { Action, authorize } from '../../auth/access';
import type { PortalAccess } from '../../auth/permissions';
import type { GatewayContext } from '../../graphql/context';
import { BadUserInputError, ConflictError, ForbiddenError, NotAvailableError, NotFoundError } from '../../errors';
import { globalId, parseGlobalId } from '../ehr/global-id';
import type { EhrWriteRequest } from '../ehr/ehr-writes';
import { actor, locateInDossiers, openWrites, syncStatusOf } from '../ehr/client-items';
import { dossierReads } from './dossier.service';
import { TreatmentPlanStatus, type TreatmentGoal, type TreatmentPlan } from './dossier.types';

/** A goal's text: what the client wants to reach, in their words. */
export const GOAL_MAX = 500;

const isApproved = (plan: TreatmentPlan) => plan.status === TreatmentPlanStatus.APPROVED || Boolean(plan.approvedAt);
const planApproved = () =>
  new ForbiddenError('The treatment plan is approved: its goals are fixed now. Talk to your practitioner to change them.', { reason: 'PLAN_APPROVED' });

function checkGoal(description: string): string {
  const text = description.trim();
  const length = [...text].length;
  if (length === 0 || length > GOAL_MAX)
    throw new BadUserInputError(
      length ? `The goal is ${length} characters; at most ${GOAL_MAX} are allowed.` : `The goal is empty: write 1 to ${GOAL_MAX} characters.`,
      {
        field: 'description',
        limit: GOAL_MAX,
      },
    );
  return text;
}

/** The plan written to, read again after the EHR took the change (this request and the cache forget the old one). */
async function reread(ctx: GatewayContext, clientId: string, source: string): Promise<TreatmentPlan> {
  await ctx.ehr.forget(clientId, source, 'getTreatmentPlan');
  const plan = await dossierReads.treatmentPlan(ctx, clientId);
  if (!plan) throw new NotFoundError('The treatment plan is no longer there.');
  return withPendingGoals(ctx, clientId, plan);
}

/** Through the EHR write outbox: tried at once; a refusal by the plan's rules is PLAN_APPROVED; 'pending' while the EHR is away. */
async function written<I>(ctx: GatewayContext, access: PortalAccess, request: EhrWriteRequest<I>): Promise<'delivered' | 'pending'> {
  const outcome = await ctx.services.ehrWrites.tryNow(await ctx.services.ehrWrites.enqueueAlone(request));
  if (outcome.state === 'refused') {
    if (outcome.refusal === 'NOT_CHANGEABLE') throw planApproved();
    // The plan as the EHR has it now (changed meanwhile), so the page shows it without asking again.
    await ctx.ehr.forget(request.clientId, request.source, 'getTreatmentPlan');
    const now = await dossierReads.treatmentPlan(ctx, request.clientId).catch(() => null);
    // The plan leaves with the refusal: logged as the read it is.
    if (now) {
      const clientId = request.clientId;
      await ctx.audit({ action: 'R', eventType: 'dossier.treatmentplan.read', resource: 'Behandelplan', clientId, treatmentRelationship: true }, access);
    }
    throw new ConflictError(
      `The care organisation's system refused the change: ${outcome.reason}`,
      now ? { status: now.status, goals: now.goals.map((g) => ({ id: g.id, description: g.description })) } : undefined,
    );
  }
  return outcome.state;
}

/**
 * The plan as the client sees it: goals added and not yet taken by the EHR are in it (syncStatus
 * PENDING, FAILED once a dead letter), goals removed and not yet taken are out.
 */
export async function withPendingGoals(ctx: GatewayContext, clientId: string, plan: TreatmentPlan): Promise<TreatmentPlan> {
  const [adds, removes] = await Promise.all([openWrites(ctx, clientId, 'addTreatmentGoal'), openWrites(ctx, clientId, 'removeTreatmentGoal')]);
  if (!adds.size && !removes.size) return plan;
  const goals: TreatmentGoal[] = plan.goals.filter((g) => !removes.has(g.id));
  for (const [id, w] of adds) {
    if (goals.some((g) => g.id === id)) continue;
    const input = w.input as { description?: string; addedBy?: { name?: string } };
    goals.push({
      id,
      description: input.description ?? '',
      addedBy: input.addedBy?.name ?? '',
      removable: false,
      syncStatus: syncStatusOf(w.status),
    });
  }
  return { ...plan, goals };
}

/**
 * Adds the client's own goal to their treatment plan (behandelplan) until it is approved: by the
 * client, a parent with authority or a representative (CHANGE_TREATMENT_GOALS; never a network
 * member). The goal's id is chosen here, so a retried write makes one goal (the port's writes are
 * idempotent). Logged once the EHR took it.
 */
export async function addTreatmentGoal(ctx: GatewayContext, clientId: string, description: string): Promise<TreatmentPlan> {
  const { access } = await authorize(ctx, clientId, Action.CHANGE_TREATMENT_GOALS);
  const text = checkGoal(description);
  const plan = await dossierReads.treatmentPlan(ctx, clientId);
  if (!plan) throw new NotFoundError('There is no treatment plan to add a goal to yet.');
  if (isApproved(plan)) throw planApproved();
  if (!ctx.services.registry.adapter(plan.source)?.addTreatmentGoal) throw new NotAvailableError('Adding goals to a treatment plan of this care organisation');
  const externalClientId = (await ctx.ehr.clientSources(clientId)).find((s) => s.source === plan.source)!.externalId;
  const by = await actor(ctx, access);
  const goal = { goalId: randomUUID(), planId: parseGlobalId(plan.id)!.externalId, description: text, addedBy: by, at: new Date().toISOString() };
  const outcome = await written(ctx, access, {
    clientId,
    source: plan.source,
    externalClientId,
    method: 'addTreatmentGoal',
    subject: globalId(plan.source, goal.goalId),
    input: goal,
  });
  await ctx.audit(
    { action: 'C', eventType: 'dossier.treatmentplan.goal.add', resource: 'Behandelplan: doel toegevoegd', clientId, treatmentRelationship: true },
    access,
  );
  if (outcome === 'pending') return withPendingGoals(ctx, clientId, plan);
  const added: TreatmentGoal = { id: globalId(plan.source, goal.goalId), description: text, addedBy: by.name, removable: true, syncStatus: null };
  // The EHR took it: should the re-read fail (the EHR just degraded), the plan as changed, not an error that makes the person add it twice.
  return reread(ctx, clientId, plan.source).catch(() => withPendingGoals(ctx, clientId, { ...plan, goals: [...plan.goals, added] }));
}

/**
 * Takes out a goal the client's side added, until the plan is approved. The goal is looked for
 * among the plans of the clients whose dossier the viewer may see (as approvals are), then the
 * change is asked of that client's gate; a practitioner's goal is not the client's to remove.
 */
export async function removeTreatmentGoal(ctx: GatewayContext, goalId: string): Promise<TreatmentPlan> {
  const plans = new Map<string, TreatmentPlan>();
  const { clientId, item, source } = await locateInDossiers<TreatmentGoal>(ctx, goalId, 'treatment goal', Action.CHANGE_TREATMENT_GOALS, async (id) => {
    const plan = await dossierReads.treatmentPlan(ctx, id);
    if (plan) plans.set(id, plan);
    return plan?.goals ?? [];
  });
  const { access } = await authorize(ctx, clientId, Action.CHANGE_TREATMENT_GOALS);
  const plan = plans.get(clientId)!;
  if (isApproved(plan)) throw planApproved();
  if (!item.removable)
    throw new ForbiddenError('This goal was set by your practitioner; only goals you added can be removed.', { reason: 'GOAL_NOT_REMOVABLE' });
  if (!ctx.services.registry.adapter(source)?.removeTreatmentGoal)
    throw new NotAvailableError('Removing goals from a treatment plan of this care organisation');
  const externalClientId = (await ctx.ehr.clientSources(clientId)).find((s) => s.source === source)!.externalId;
  const removal = {
    planId: parseGlobalId(plan.id)!.externalId,
    goalId: parseGlobalId(goalId)!.externalId,
    removedBy: await actor(ctx, access),
    at: new Date().toISOString(),
  };
  const outcome = await written(ctx, access, { clientId, source, externalClientId, method: 'removeTreatmentGoal', subject: goalId, input: removal });
  await ctx.audit(
    { action: 'D', eventType: 'dossier.treatmentplan.goal.remove', resource: 'Behandelplan: doel verwijderd', clientId, treatmentRelationship: true },
    access,
  );
  if (outcome === 'pending') return withPendingGoals(ctx, clientId, plan);
  // As for an added goal: the EHR took it, so a failed re-read answers the plan without it.
  return reread(ctx, clientId, source).catch(() => withPendingGoals(ctx, clientId, { ...plan, goals: plan.goals.filter((g) => g.id !== goalId) }));
}
