import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { PortalRelation } from '../../auth/abilities';
import { ageInYears } from '../../auth/portal-rules';
import { authorizeClientAccess, type GatewayContext } from '../../graphql/context';
import { ForbiddenError, NotFoundError } from '../../graphql/errors';
import { Client } from '../clients/client.types';
import { Consent } from './consent.types';
import { PARENT_ACCESS } from './consents.service';

const consentId = (clientId: string, topic: string) => `portal:${clientId}:${topic}`;

/** Portal-owned consents. The EHR's own consents (treatment, data sharing) need a port method first. */
@Resolver(() => Client)
export class ConsentResolver {
  @FieldResolver(() => [Consent])
  async consents(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<Consent[]> {
    await authorizeClientAccess(ctx, c.id);
    const profile = await ctx.ehr.first(c.id, 'getClient', (a, id, actx) => a.getClient(id, actx));
    const age = ageInYears(profile?.birthDate);
    if (age === null || age < 16) return [];
    const row = await ctx.services.consents.get(c.id, PARENT_ACCESS);
    return [
      {
        id: consentId(c.id, PARENT_ACCESS),
        topic: 'Ouders met gezag zien mijn portaal',
        description: 'Vanaf 16 jaar beslist u zelf of uw ouders uw portaal mogen zien (WGBO).',
        granted: row?.granted ?? false,
        changedAt: row?.changedAt ?? null,
      },
    ];
  }
}

@Resolver()
export class ConsentMutationResolver {
  @Mutation(() => Consent)
  async setConsent(@Arg('consentId', () => ID) id: string, @Arg('granted') granted: boolean, @Ctx() ctx: GatewayContext): Promise<Consent> {
    const match = /^portal:([^:]+):([A-Z_]+)$/.exec(id);
    if (!match || match[2] !== PARENT_ACCESS) throw new NotFoundError('No such consent.');
    const clientId = match[1]!;
    const { access } = await authorizeClientAccess(ctx, clientId, undefined, { write: true });
    // Only the client decides this one: not the parents it is about, not a network member.
    if (access.relation !== PortalRelation.SELF) throw new ForbiddenError('Only the client can change this consent.', { reason: 'CLIENT_ONLY' });
    const account = await ctx.account();
    const [row] = await Promise.all([
      ctx.services.consents.set(clientId, PARENT_ACCESS, granted, account.id),
      ctx.audit({ action: 'U', eventType: 'consent.update', resource: `Toestemming: ouders zien portaal (${granted ? 'gegeven' : 'ingetrokken'})`, clientId, consentApplied: true }, access),
    ]);
    return { id, topic: 'Ouders met gezag zien mijn portaal', description: null, granted: row.granted, changedAt: row.changedAt };
  }
}
