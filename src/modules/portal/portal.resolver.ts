import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import { requireViewer, type GatewayContext } from '../../graphql/context';
import { effectivePermissions } from '../../auth/permissions';
import { Client } from '../clients/client.types';
import { NotificationSettings, NotificationSettingsInput, Portal, Viewer } from './portal.types';

@Resolver(() => Viewer)
export class ViewerResolver {
  @Query(() => Viewer, { description: 'Who is logged in, and which portals (client records) this account may open.' })
  async me(@Ctx() ctx: GatewayContext): Promise<Viewer> {
    requireViewer(ctx);
    const account = await ctx.account();
    return { id: account.id, displayName: account.displayName, email: account.email, preferredClientId: account.preferredClientId };
  }

  @FieldResolver(() => [Portal], { description: 'Own portal first, if the viewer is a client.' })
  async portals(@Ctx() ctx: GatewayContext): Promise<Portal[]> {
    return (await ctx.portals()).map(toPortal);
  }

  @FieldResolver(() => Portal, { nullable: true })
  async preferredPortal(@Root() viewer: Viewer, @Ctx() ctx: GatewayContext): Promise<Portal | null> {
    const found = (await ctx.portals()).find((p) => p.clientId === viewer.preferredClientId);
    return found ? toPortal(found) : null;
  }

  @FieldResolver(() => NotificationSettings)
  async notificationSettings(@Ctx() ctx: GatewayContext): Promise<NotificationSettings> {
    const a = await ctx.account();
    return {
      newMessage: a.notifyNewMessage,
      newDocument: a.notifyNewDocument,
      newAppointment: a.notifyNewAppointment,
      newQuestionnaire: a.notifyNewQuestionnaire,
    };
  }

  @Mutation(() => Viewer, { description: 'Stores the portal that opens first; a parent switches with client(id).' })
  async setPreferredPortal(@Arg('clientId', () => ID) clientId: string, @Ctx() ctx: GatewayContext): Promise<Viewer> {
    const viewer = requireViewer(ctx);
    await authorize(ctx, clientId, Action.VIEW_PORTAL);
    await ctx.services.accounts.setPreferredPortal(viewer.accountId, clientId);
    const account = await ctx.account();
    return { id: account.id, displayName: account.displayName, email: account.email, preferredClientId: clientId };
  }

  @Mutation(() => NotificationSettings, { description: 'Which changes send an e-mail.' })
  async updateNotificationSettings(
    @Arg('input', () => NotificationSettingsInput) input: NotificationSettingsInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<NotificationSettings> {
    const viewer = requireViewer(ctx);
    await ctx.services.accounts.updateNotificationSettings(viewer.accountId, {
      notifyNewMessage: input.newMessage ?? undefined,
      notifyNewDocument: input.newDocument ?? undefined,
      notifyNewAppointment: input.newAppointment ?? undefined,
      notifyNewQuestionnaire: input.newQuestionnaire ?? undefined,
    });
    const a = (await ctx.services.accounts.findById(viewer.accountId))!;
    return {
      newMessage: a.notifyNewMessage,
      newDocument: a.notifyNewDocument,
      newAppointment: a.notifyNewAppointment,
      newQuestionnaire: a.notifyNewQuestionnaire,
    };
  }
}

@Resolver(() => Portal)
export class PortalResolver {
  @FieldResolver(() => Client)
  client(@Root() portal: Portal): Client {
    return { id: portal.clientId };
  }
}

function toPortal(access: { clientId: string; relation: Portal['relation']; permissions: readonly Portal['permissions'][number][]; isAdmin: boolean }): Portal {
  return { clientId: access.clientId, relation: access.relation, isAdmin: access.isAdmin, permissions: effectivePermissions(access) };
}
