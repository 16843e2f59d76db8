import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Action, authorize, CHILD_DECIDES_FROM_AGE, PARENT_ACCESS } from '../../auth/access';
import { ageInYears } from '../../auth/portal-rules';
import type { GatewayContext } from '../../graphql/context';
import { NotFoundError } from '../../errors';
import { Client } from '../clients/client.types';
import { Consent } from './consent.types';

const consentId = (clientId: string, topic: string) => `portal:${clientId}:${topic}`;

/** Portal-owned consents. The EHR's own consents (treatment, data sharing) need a port method first. */
@Resolver(() => Client)
export class ConsentResolver {
  @FieldResolver(() => [Consent], { nullable: true })
  async consents(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<Consent[]> {
    await authorize(ctx, c.id, Action.VIEW_CONSENTS);
    const profile = await ctx.ehr.first(c.id, 'getClient', (a, id, actx) => a.getClient(id, actx));
    const age = ageInYears(profile?.birthDate);
    if (age === null || age < CHILD_DECIDES_FROM_AGE) return [];
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
    return { id, topic: 'Ouders met gezag zien mijn portaal', description: null, granted: row.granted, changedAt: row.changedAt };
  }
}
