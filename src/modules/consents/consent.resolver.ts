import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Action, authorize, CHILD_DECIDES_FROM_AGE, PARENT_ACCESS } from '../../auth/access';
import { ageInYears } from '../../auth/portal-rules';
import type { GatewayContext } from '../../graphql/context';
import { ConflictError, NotAvailableError, NotFoundError } from '../../errors';
import { actor, openWrites, syncStatusOf } from '../ehr/client-items';
import { Client } from '../clients/client.types';
import { Consent } from './consent.types';
import { SyncStatus } from '../messages/message.types';

const PARENT_ACCESS_TOPIC = 'Ouders met gezag zien mijn portaal';
const PARENT_ACCESS_TEXT = 'Vanaf 16 jaar beslist u zelf of uw ouders uw portaal mogen zien (WGBO).';
const portalConsentId = (clientId: string, topic: string) => `portal:${clientId}:${topic}`;
/** An EHR's consent: its client, its source and its topic, so a change knows where it goes. */
const ehrConsentId = (clientId: string, source: string, topic: string) => `ehr:${clientId}:${source}:${topic}`;

type EhrConsentRow = Consent & { source: string; topicCode: string };

/** The EHRs' consents of the client (toestemming: sharing with the GP, research, …), each source's own. */
async function ehrConsents(ctx: GatewayContext, clientId: string): Promise<EhrConsentRow[]> {
  const [rows, waiting] = await Promise.all([fromEhrs(ctx, clientId), openWrites(ctx, clientId, 'setConsent')]);
  // A change the EHR has not taken yet shows as made, with its state.
  return rows.map((c) => {
    const w = waiting.get(c.id);
    if (!w) return c;
    return {
      ...c,
      granted: w.input.granted === true,
      changedAt: w.at ? new Date(w.at) : c.changedAt,
      syncStatus: syncStatusOf(w.status),
    };
  });
}

function fromEhrs(ctx: GatewayContext, clientId: string): Promise<EhrConsentRow[]> {
  return ctx.ehr.collect(
    clientId,
    'listConsents',
    (a, id, c) => (a.listConsents ? a.listConsents(id, c) : Promise.resolve([])),
    (c, source) => ({
      id: ehrConsentId(clientId, source, c.topic),
      topic: c.description ?? c.topic,
      description: c.description ?? null,
      granted: c.granted,
      changedAt: c.changedAt ? new Date(c.changedAt) : null,
      source,
      topicCode: c.topic,
    }),
  );
}

/**
 * The client's consents: the EHRs' own (read and written back through the adapter) and the one
 * the portal owns (a child from 16 deciding whether the parents see the portal). Only the client
 * changes them (CHANGE_CONSENT): not a network member, not a parent. Every change is logged.
 */
@Resolver(() => Client)
export class ConsentResolver {
  @FieldResolver(() => [Consent], { nullable: true })
  async consents(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<Consent[]> {
    const { access } = await authorize(ctx, c.id, Action.VIEW_CONSENTS);
    const [profile, fromEhr] = await Promise.all([
      ctx.ehr.first(c.id, 'getClient', (a, id, actx) => a.getClient(id, actx)),
      ehrConsents(ctx, c.id),
      ctx.audit({ action: 'R', eventType: 'consents.read', resource: 'Toestemmingen', clientId: c.id }, access),
    ]);
    const consents: Consent[] = fromEhr.map(({ id, topic, description, granted, changedAt, syncStatus }) => ({
      id,
      topic,
      description,
      granted,
      changedAt,
      syncStatus,
    }));
    const age = ageInYears(profile?.birthDate);
    if (age === null || age < CHILD_DECIDES_FROM_AGE) return consents;
    const row = await ctx.services.consents.get(c.id, PARENT_ACCESS);
    return [
      {
        id: portalConsentId(c.id, PARENT_ACCESS),
        topic: PARENT_ACCESS_TOPIC,
        description: PARENT_ACCESS_TEXT,
        granted: row?.granted ?? false,
        changedAt: row?.changedAt ?? null,
      },
      ...consents,
    ];
  }
}

@Resolver()
export class ConsentMutationResolver {
  @Mutation(() => Consent)
  async setConsent(@Arg('consentId', () => ID) id: string, @Arg('granted') granted: boolean, @Ctx() ctx: GatewayContext): Promise<Consent> {
    const ehr = /^ehr:([^:]+):([^:]+):(.+)$/.exec(id);
    if (ehr) return setEhrConsent(ctx, id, ehr[1], ehr[2], ehr[3], granted);
    const match = /^portal:([^:]+):([A-Z_]+)$/.exec(id);
    if (!match || match[2] !== PARENT_ACCESS) throw new NotFoundError('No such consent.');
    const clientId = match[1];
    // Only the client decides this one: not the parents it is about, not a network member.
    const { access } = await authorize(ctx, clientId, Action.CHANGE_CONSENT);
    const account = await ctx.account();
    const row = await ctx.services.consents.set(clientId, PARENT_ACCESS, granted, account.id);
    await ctx.audit(
      {
        action: 'U',
        eventType: 'consent.update',
        resource: `Toestemming: ouders zien portaal (${granted ? 'gegeven' : 'ingetrokken'})`,
        clientId,
        consentApplied: true,
      },
      access,
    );
    return { id, topic: PARENT_ACCESS_TOPIC, description: PARENT_ACCESS_TEXT, granted: row.granted, changedAt: row.changedAt };
  }
}

/** A consent of the EHR, changed by the client and written back to that EHR (one consent per topic there). */
async function setEhrConsent(ctx: GatewayContext, id: string, clientId: string, source: string, topic: string, granted: boolean): Promise<Consent> {
  const { access } = await authorize(ctx, clientId, Action.CHANGE_CONSENT);
  const current = (await ehrConsents(ctx, clientId)).find((c) => c.id === id);
  if (!current) throw new NotFoundError('No such consent.');
  if (!ctx.services.registry.adapter(source)?.setConsent) throw new NotAvailableError('Changing consents at this care organisation');
  const externalClientId = (await ctx.ehr.clientSources(clientId)).find((s) => s.source === source)!.externalId;
  const choice = { topic, description: current.description ?? undefined, granted, by: await actor(ctx, access), at: new Date().toISOString() };
  // Through the EHR write outbox: tried at once, kept and retried while the EHR is away.
  const write = await ctx.services.ehrWrites.enqueueAlone({ clientId, source, externalClientId, method: 'setConsent', subject: id, input: choice });
  const outcome = await ctx.services.ehrWrites.tryNow(write);
  if (outcome.state === 'refused') {
    if (outcome.refusal === 'NOT_FOUND') throw new NotFoundError('No such consent.');
    await ctx.ehr.forget(clientId, source, 'listConsents');
    const now = (await ehrConsents(ctx, clientId).catch(() => [])).find((c) => c.id === id) ?? current;
    // The consent as it is now leaves with the refusal: logged as the read it is.
    await ctx.audit({ action: 'R', eventType: 'consents.read', resource: 'Toestemmingen', clientId }, access);
    throw new ConflictError(`The care organisation's system refused the change: ${outcome.reason}`, {
      id,
      granted: now.granted,
      changedAt: now.changedAt?.toISOString() ?? null,
    });
  }
  await ctx.audit(
    {
      action: 'U',
      eventType: 'consent.update',
      resource: `Toestemming: ${current.topic} (${granted ? 'gegeven' : 'ingetrokken'})`,
      clientId,
      consentApplied: true,
    },
    access,
  );
  if (outcome.state === 'pending')
    return { id, topic: current.topic, description: current.description, granted, changedAt: new Date(choice.at), syncStatus: SyncStatus.PENDING };
  await ctx.ehr.forget(clientId, source, 'listConsents');
  // The EHR took it: a re-read that fails now (the EHR just degraded) answers the change as made, not an error.
  const fresh = (await ehrConsents(ctx, clientId).catch(() => [])).find((c) => c.id === id);
  const shown = fresh ?? { ...current, granted, changedAt: new Date(choice.at) };
  return { id, topic: shown.topic, description: shown.description, granted: shown.granted, changedAt: shown.changedAt };
}
