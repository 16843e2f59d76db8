import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { effectivePermissions, Permission, PortalRelation } from '../../auth/permissions';
import { Action, authorize } from '../../auth/access';
import { requireViewer, type GatewayContext } from '../../graphql/context';
import { Client } from '../clients/client.types';
import { Portal, Session } from '../portal/portal.types';
import { Invitation, InvitationInput, NetworkMember, NetworkMemberStatus } from './network.types';

const toMember = (m: { id: string; name: string; email: string; admin: boolean; permissions: Permission[]; status: string }): NetworkMember => ({
  ...m,
  status: m.status as NetworkMemberStatus,
});

/** The personal network (Caren): only the client's side and care-page admins manage it. */
@Resolver(() => Client)
export class NetworkFieldResolver {
  @FieldResolver(() => [NetworkMember], { nullable: true, description: 'FORBIDDEN unless the viewer is admin of this care page.' })
  async network(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<NetworkMember[]> {
    await authorize(ctx, c.id, Action.VIEW_NETWORK);
    return (await ctx.services.network.members(c.id)).map(toMember);
  }
}

@Resolver()
export class NetworkResolver {
  @Mutation(() => Invitation, { description: 'Invites someone by e-mail with chosen rights; the link is valid 3 days.' })
  async inviteNetworkMember(
    @Arg('clientId', () => ID) clientId: string,
    @Arg('input', () => InvitationInput) input: InvitationInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<Invitation> {
    const { access } = await authorize(ctx, clientId, Action.MANAGE_NETWORK);
    const account = await ctx.account();
    // The line says what happened: written once the invitation exists, never for a refused one.
    const { invitation, member } = await ctx.services.network.invite(clientId, account.id, input);
    await ctx.audit({ action: 'C', eventType: 'network.invite', resource: 'Persoonlijk netwerk: uitnodiging', clientId, consentApplied: true }, access);
    return { id: invitation.id, email: invitation.email, expiresAt: invitation.expiresAt, member: toMember(member) };
  }

  @Mutation(() => Portal, { description: 'The logged-in account accepts an invitation and joins the network.' })
  async acceptInvitation(@Arg('token') token: string, @Ctx() ctx: GatewayContext): Promise<Portal> {
    const viewer = requireViewer(ctx);
    const joined = await ctx.services.network.accept(token, viewer.accountId);
    const access = { clientId: joined.clientId, relation: PortalRelation.NETWORK_MEMBER, permissions: joined.permissions, isAdmin: joined.admin };
    return { clientId: joined.clientId, relation: access.relation, isAdmin: access.isAdmin, permissions: effectivePermissions(access) };
  }

  @Mutation(() => Session, { description: 'Registers a new own account with an invitation link (which confirms the e-mail address) and accepts it.' })
  async registerWithInvitation(
    @Arg('token') token: string,
    @Arg('displayName') displayName: string,
    @Arg('password') password: string,
    @Ctx() ctx: GatewayContext,
  ): Promise<Session> {
    const s = await ctx.services.network.register(token, displayName, password);
    return { accessToken: s.accessToken, refreshToken: s.refreshToken, expiresAt: s.expiresAt, mustChangePassword: false };
  }

  @Mutation(() => NetworkMember, { description: 'Changes a member’s rights at any time; an admin can make another member admin.' })
  async setNetworkPermissions(
    @Arg('memberId', () => ID) memberId: string,
    @Arg('permissions', () => [Permission]) permissions: Permission[],
    @Arg('admin', () => Boolean, { nullable: true }) admin: boolean | null | undefined,
    @Ctx() ctx: GatewayContext,
  ): Promise<NetworkMember> {
    const target = await ctx.services.network.find(memberId);
    const { access } = await authorize(ctx, target.clientId, Action.MANAGE_NETWORK);
    const member = await ctx.services.network.setPermissions(target, permissions, admin);
    await ctx.audit(
      { action: 'U', eventType: 'network.permissions', resource: 'Persoonlijk netwerk: rechten', clientId: target.clientId, consentApplied: true },
      access,
    );
    return toMember(member);
  }

  @Mutation(() => Boolean, { description: 'Removes a member (their access ends at once) or withdraws an invitation.' })
  async removeNetworkMember(@Arg('memberId', () => ID) memberId: string, @Ctx() ctx: GatewayContext): Promise<boolean> {
    const target = await ctx.services.network.find(memberId);
    const { access } = await authorize(ctx, target.clientId, Action.MANAGE_NETWORK);
    await ctx.services.network.remove(target);
    await ctx.audit(
      { action: 'D', eventType: 'network.remove', resource: 'Persoonlijk netwerk: lid verwijderd', clientId: target.clientId, consentApplied: true },
      access,
    );
    return true;
  }
}
