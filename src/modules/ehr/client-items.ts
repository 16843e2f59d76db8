import type { EhrActor } from '../../../adapters/ports';
import { Action, decide, Reason } from '../../auth/access';
import { PortalRelation, type PortalAccess } from '../../auth/permissions';
import type { GatewayContext } from '../../graphql/context';
import { ForbiddenError, NotFoundError } from '../../errors';
import type { EhrWriteStatus } from './ehr-write.entity';
import type { EhrWriteMethod, OpenWrite } from './ehr-writes';
import { SyncStatus } from '../messages/message.types';
import { parseGlobalId } from './global-id';

// What every write of the client's to an EHR needs: the item it is about (found among the clients
// the viewer may see), who writes it, as the EHR records them (approvals, goals, questionnaires,
// consents, the story, documents, appointments), and the writes still on their way that reads show.

/**
 * The client whose item this is, among those whose dossier the viewer may see now (the relation,
 * DOSSIER_VIEW and the portal rules, as every read is gated) and whose records include the id's
 * EHR: no other client's dossier is read. A viewer who may see no dossier at all is refused
 * outright; one whose every dossier is closed to them (treatment ended, the child decides) hears why.
 */
export async function locateInDossiers<T extends { id: string }>(
  ctx: GatewayContext,
  id: string,
  noun: string,
  /** What the viewer wants to do with it, named in the refusal when no dossier is open to them. */
  action: Action,
  read: (clientId: string) => Promise<T[]>,
  /** What the viewer must be able to see of a client for it to be searched (the dossier; the agenda for appointments). */
  see: Action = Action.VIEW_DOSSIER,
): Promise<{ clientId: string; item: T; source: string }> {
  const portals = await ctx.portals();
  const gates = await Promise.all(portals.map((p) => decide(ctx, p.clientId, see)));
  const open = gates.flatMap((g) => ('access' in g ? [g.access.clientId] : []));
  if (!open.length) {
    // The gate's own reason where it has one beyond the missing right (treatment ended, the child decides).
    const told = gates.find((g): g is ForbiddenError => g instanceof ForbiddenError && g.extensions.reason !== Reason.NO_PERMISSION);
    if (told) throw told;
    throw new ForbiddenError(`You have no permission for this part of the portal (${action}).`, { reason: Reason.NO_PERMISSION, action });
  }
  const parsed = parseGlobalId(id);
  if (!parsed) throw new NotFoundError(`No such ${noun}.`);
  const holders = await Promise.all(
    open.map(async (clientId) => ((await ctx.ehr.clientSources(clientId)).some((s) => s.source === parsed.source) ? [clientId] : [])),
  );
  const searched = await Promise.allSettled(holders.flat().map(async (clientId) => ({ clientId, item: (await read(clientId)).find((x) => x.id === id) })));
  for (const r of searched) if (r.status === 'fulfilled' && r.value.item) return { clientId: r.value.clientId, item: r.value.item, source: parsed.source };
  // An EHR that did not answer cannot say the item is not there.
  const failed = searched.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  throw new NotFoundError(`No such ${noun}.`);
}

const ACTOR_KIND: Record<PortalRelation, EhrActor['kind']> = {
  [PortalRelation.SELF]: 'CLIENT',
  [PortalRelation.PARENT]: 'PARENT',
  [PortalRelation.REPRESENTATIVE]: 'REPRESENTATIVE',
  [PortalRelation.NETWORK_MEMBER]: 'NETWORK_MEMBER',
};

export async function actor(ctx: GatewayContext, access: PortalAccess): Promise<EhrActor> {
  return { name: (await ctx.account()).displayName, kind: ACTOR_KIND[access.relation] };
}

/**
 * A client's writes of one method the EHR has not taken yet, by subject (what a read overlays):
 * every method's read in one query per request and client, read again once this instance stored
 * or tried a write meanwhile (a mutation that reads, writes and answers sees its own write).
 */
export async function openWrites(ctx: GatewayContext, clientId: string, method: EhrWriteMethod): Promise<Map<string, OpenWrite>> {
  const writes = ctx.services.ehrWrites;
  const all = await ctx.once(`open-writes:${clientId}:${writes.generation}`, () => writes.openAll(clientId));
  return all.get(method) ?? new Map();
}

/** What a write the EHR has not taken yet shows beside its item: FAILED once a dead letter, PENDING while it waits. */
export const syncStatusOf = (status: EhrWriteStatus): SyncStatus => (status === 'failed' ? SyncStatus.FAILED : SyncStatus.PENDING);
