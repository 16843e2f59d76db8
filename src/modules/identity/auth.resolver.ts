import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requireViewer, type GatewayContext } from '../../graphql/context';
import { DateScalar } from '../../graphql/scalars';
import { effectivePermissions } from '../../auth/permissions';
import { CodeChannel, LoginChallenge, Portal, Session } from '../portal/portal.types';
import type { IssuedSession } from './sessions.service';

const toSession = (s: IssuedSession, mustChangePassword = false): Session => ({
  accessToken: s.accessToken,
  refreshToken: s.refreshToken,
  expiresAt: s.expiresAt,
  mustChangePassword,
});

@Resolver()
export class AuthResolver {
  @Mutation(() => LoginChallenge, { description: 'Step 1 of a password login: always answers a challenge; the code goes out by e-mail or SMS.' })
  async login(@Arg('email') email: string, @Arg('password') password: string, @Ctx() ctx: GatewayContext): Promise<LoginChallenge> {
    const c = await ctx.services.ownAccounts.login(email, password, ctx.ip);
    return { challengeId: c.challengeId, channel: c.channel as CodeChannel, maskedDestination: c.maskedDestination, expiresAt: c.expiresAt };
  }

  @Mutation(() => Session, { description: 'Step 2: the 6-digit code, valid 5 minutes, a few tries.' })
  async verifyLoginCode(@Arg('challengeId', () => ID) challengeId: string, @Arg('code') code: string, @Ctx() ctx: GatewayContext): Promise<Session> {
    const s = await ctx.services.ownAccounts.verifyLoginCode(challengeId, code.trim(), ctx.ip);
    return toSession(s, s.mustChangePassword);
  }

  @Mutation(() => Boolean, { description: 'Sends a new code (after a short cool-down); the old one stops working.' })
  resendLoginCode(@Arg('challengeId', () => ID) challengeId: string, @Ctx() ctx: GatewayContext): Promise<boolean> {
    return ctx.services.ownAccounts.resendLoginCode(challengeId);
  }

  @Mutation(() => Session)
  async refreshSession(@Arg('refreshToken') refreshToken: string, @Ctx() ctx: GatewayContext): Promise<Session> {
    return toSession(await ctx.services.sessions.refresh(refreshToken));
  }

  @Mutation(() => Boolean, { description: 'Ends this session: its access and refresh tokens stop working at once.' })
  async logout(@Ctx() ctx: GatewayContext): Promise<boolean> {
    const viewer = requireViewer(ctx);
    await ctx.services.sessions.revoke(viewer.sessionId, 'logout');
    return true;
  }

  @Mutation(() => Session, { description: 'Sets a new password; every other session of the account ends. Answers a fresh session.' })
  async changePassword(@Arg('currentPassword') currentPassword: string, @Arg('newPassword') newPassword: string, @Ctx() ctx: GatewayContext): Promise<Session> {
    const viewer = requireViewer(ctx);
    return toSession(await ctx.services.ownAccounts.changePassword(viewer.accountId, currentPassword, newPassword));
  }

  @Mutation(() => Boolean, { description: 'Mails a single-use reset link (30 minutes) if the account exists; always answers true.' })
  async requestPasswordReset(@Arg('email') email: string, @Ctx() ctx: GatewayContext): Promise<boolean> {
    await ctx.services.ownAccounts.requestPasswordReset(email, ctx.ip);
    return true;
  }

  @Mutation(() => Boolean, { description: 'Sets a new password with the token from the reset mail; ends every session of the account.' })
  async resetPassword(@Arg('token') token: string, @Arg('newPassword') newPassword: string, @Ctx() ctx: GatewayContext): Promise<boolean> {
    await ctx.services.ownAccounts.resetPassword(token, newPassword);
    return true;
  }

  @Mutation(() => Boolean, { description: 'Sends an SMS code to a new phone number; the number is used once confirmed.' })
  async requestPhoneNumberChange(@Arg('phone') phone: string, @Ctx() ctx: GatewayContext): Promise<boolean> {
    await ctx.services.ownAccounts.requestPhoneChange(requireViewer(ctx).accountId, phone);
    return true;
  }

  @Mutation(() => Boolean, { description: 'Confirms the new phone number with the SMS code; every other session of the account ends.' })
  async confirmPhoneNumber(@Arg('code') code: string, @Ctx() ctx: GatewayContext): Promise<boolean> {
    const viewer = requireViewer(ctx);
    await ctx.services.ownAccounts.confirmPhoneChange(viewer.accountId, viewer.sessionId, code);
    return true;
  }

  @Mutation(() => Boolean, { description: 'Where login codes go: EMAIL, or SMS to a confirmed phone number.' })
  async setLoginCodeChannel(@Arg('channel', () => CodeChannel) channel: CodeChannel, @Ctx() ctx: GatewayContext): Promise<boolean> {
    await ctx.services.ownAccounts.setCodeChannel(requireViewer(ctx).accountId, channel);
    return true;
  }

  @Mutation(() => Portal, { description: "Links the logged-in account to a client record: the letter's activation code plus birth date." })
  async activatePortal(
    @Arg('activationCode') activationCode: string,
    @Arg('birthDate', () => DateScalar) birthDate: string,
    @Ctx() ctx: GatewayContext,
  ): Promise<Portal> {
    const viewer = requireViewer(ctx);
    const linked = await ctx.services.ownAccounts.activatePortal(viewer.accountId, activationCode, birthDate);
    const access = { clientId: linked.clientId, relation: linked.relation, permissions: [], isAdmin: true };
    return { clientId: linked.clientId, relation: linked.relation, isAdmin: true, permissions: effectivePermissions(access) };
  }
}
