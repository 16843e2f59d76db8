import type { EhrApprovalTarget } from '../../../adapters/ports';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { BadUserInputError, ConflictError, NotAvailableError, NotFoundError } from '../../errors';
import { parseGlobalId } from '../ehr/global-id';
import { dossierReads } from './dossier.service';
import { TreatmentPlanStatus, type Document, type SessionReport, type TreatmentPlan } from './dossier.types';
import type { EhrWriteStatus } from '../ehr/ehr-write.entity';
import { actor, locateInDossiers, openWrites, syncStatusOf } from '../ehr/client-items';

type ApprovalState = 'ASKS' | 'APPROVED' | 'ASKS_NOTHING';

/** One kind of dossier item the client can give akkoord on: how it is read, judged and logged. */
interface Approvable<T extends { id: string }> {
  target: EhrApprovalTarget;
  /** The EHR part it is read (and cached) as. */
  part: string;
  /** For messages: "document", "treatment plan". */
  noun: string;
  eventType: string;
  resource(item: T): string;
  /** The client's items of this kind, as the dossier shows them. */
  read(ctx: GatewayContext, clientId: string): Promise<T[]>;
  state(item: T): ApprovalState;
  /** The item with an akkoord given at `at` that the EHR has not taken yet. */
  pending(item: T, at: string, status: EhrWriteStatus): T;
}

export const DOCUMENT_APPROVAL: Approvable<Document> = {
  target: 'DOCUMENT',
  part: 'listDocuments',
  noun: 'document',
  eventType: 'dossier.document.approve',
  resource: (d) => `Akkoord op document: ${d.name}`,
  read: (ctx, clientId) => dossierReads.documents(ctx, clientId),
  state: (d) => (d.approvedAt ? 'APPROVED' : d.needsApproval ? 'ASKS' : 'ASKS_NOTHING'),
  pending: (d, at, status) => ({ ...d, approvedAt: d.approvedAt ?? at, syncStatus: syncStatusOf(status) }),
};

export const REPORT_APPROVAL: Approvable<SessionReport> = {
  target: 'SESSION_REPORT',
  part: 'listSessionReports',
  noun: 'session report',
  eventType: 'dossier.report.approve',
  resource: (r) => `Akkoord op verslag: ${r.title}`,
  read: (ctx, clientId) => dossierReads.reports(ctx, clientId),
  state: (r) => (r.approvedAt ? 'APPROVED' : r.needsApproval ? 'ASKS' : 'ASKS_NOTHING'),
  pending: (r, at, status) => ({ ...r, approvedAt: r.approvedAt ?? at, syncStatus: syncStatusOf(status) }),
};

export const TREATMENT_PLAN_APPROVAL: Approvable<TreatmentPlan> = {
  target: 'TREATMENT_PLAN',
  part: 'getTreatmentPlan',
  noun: 'treatment plan',
  eventType: 'dossier.treatmentplan.approve',
  resource: () => 'Akkoord op behandelplan',
  read: async (ctx, clientId) => {
    const plan = await dossierReads.treatmentPlan(ctx, clientId);
    return plan ? [plan] : [];
  },
  // An agreed plan stays agreed (also one the EHR set active itself): approving it again changes nothing.
  state: (p) =>
    p.approvedAt || p.status === TreatmentPlanStatus.APPROVED ? 'APPROVED' : p.status === TreatmentPlanStatus.AWAITING_APPROVAL ? 'ASKS' : 'ASKS_NOTHING',
  pending: (p, at, status) => ({ ...p, status: TreatmentPlanStatus.APPROVED, approvedAt: p.approvedAt ?? at, syncStatus: syncStatusOf(status) }),
};

/**
 * The client's akkoord on a plan, document or session report, given by the client, a parent or representative, or
 * a network member with PLANS_APPROVE (also for documents). The id names the item's EHR, not its
 * client: it is looked for among the clients whose dossier the viewer may see (no one else's is
 * read), so an id outside them is NOT_FOUND. Approving what is approved answers it unchanged.
 * The write is logged, goes to the item's EHR under the registry's write policy, and the client's
 * cached part is dropped, so the answer (read again) and every later read show the akkoord.
 */
export async function approveDossierItem<T extends { id: string }>(ctx: GatewayContext, kind: Approvable<T>, id: string): Promise<T> {
  const { clientId, item, source } = await locateInDossiers(ctx, id, kind.noun, Action.APPROVE_PLAN, (clientId) => kind.read(ctx, clientId));
  const { access } = await authorize(ctx, clientId, Action.APPROVE_PLAN);
  const state = kind.state(item);
  if (state === 'ASKS_NOTHING') throw new BadUserInputError(`This ${kind.noun} does not ask for approval.`, { reason: 'NOT_APPROVABLE' });
  if (state === 'APPROVED') {
    await ctx.audit({ action: 'R', eventType: kind.eventType, resource: kind.resource(item), clientId, treatmentRelationship: true }, access);
    return item;
  }
  // An akkoord given already and on its way: the same answer, no second write.
  const waiting = (await pendingApprovals(ctx, clientId)).get(id);
  if (waiting) {
    await ctx.audit({ action: 'R', eventType: kind.eventType, resource: kind.resource(item), clientId, treatmentRelationship: true }, access);
    return kind.pending(item, waiting.at ?? new Date().toISOString(), waiting.status);
  }
  if (!ctx.services.registry.adapter(source)?.approve) throw new NotAvailableError(`Approving a ${kind.noun} of this care organisation`);
  const externalClientId = (await ctx.ehr.clientSources(clientId)).find((s) => s.source === source)!.externalId;
  const itemId = parseGlobalId(id)!.externalId;
  const by = await actor(ctx, access);
  const at = new Date().toISOString();
  // Through the EHR write outbox: tried at once, kept and retried while the EHR is away.
  const write = await ctx.services.ehrWrites.enqueueAlone({
    clientId,
    source,
    externalClientId,
    method: 'approve',
    subject: id,
    input: { target: kind.target, itemId, by, at },
  });
  const outcome = await ctx.services.ehrWrites.tryNow(write);
  if (outcome.state === 'refused') {
    if (outcome.refusal === 'NOT_FOUND') throw new NotFoundError(`No such ${kind.noun}.`);
    throw new ConflictError(`The care organisation's system refused the approval: ${outcome.reason}`);
  }
  // Logged once the portal holds it (the EHR took it, or it is on its way): the log says what happened, not what was tried.
  await ctx.audit({ action: 'U', eventType: kind.eventType, resource: kind.resource(item), clientId, treatmentRelationship: true }, access);
  if (outcome.state === 'pending') return kind.pending(item, at, 'pending');
  await ctx.ehr.forget(clientId, source, kind.part);
  // The EHR's own record of the akkoord (its time); should the read miss it or fail (the EHR took it), the akkoord just given.
  const fresh = (await kind.read(ctx, clientId).catch(() => [])).find((x) => x.id === id);
  return fresh ?? { ...item, approvedAt: at };
}

/** The client's akkoorden the EHR has not taken yet, by item id (read once per request and client). */
function pendingApprovals(ctx: GatewayContext, clientId: string) {
  return openWrites(ctx, clientId, 'approve');
}

/**
 * Items as the client sees them: an akkoord given and not yet taken by the EHR shows as given, with
 * `syncStatus` PENDING (FAILED once the outbox gave up), so a read right after it does not take it back.
 */
export async function withPendingApprovals<T extends { id: string }>(ctx: GatewayContext, clientId: string, kind: Approvable<T>, items: T[]): Promise<T[]> {
  if (!items.length) return items;
  const waiting = await pendingApprovals(ctx, clientId);
  if (!waiting.size) return items;
  return items.map((item) => {
    const w = waiting.get(item.id);
    return w ? kind.pending(item, w.at ?? new Date().toISOString(), w.status) : item;
  });
}
