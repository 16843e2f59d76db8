import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requireViewer, type GatewayContext } from '../graphql/context';
import { NotAvailableError } from '../graphql/errors';
import { DateScalar } from '../graphql/scalars';
import { LoginChallenge, Portal, Session } from '../modules/portal/portal.types';

@Resolver()
export class AuthResolver {
  @Mutation(() => LoginChallenge, { description: 'Step 1 of a password login: always answers a challenge; the code goes out by e-mail or SMS.' })
  login(@Arg('email') _email: string, @Arg('password') _password: string): LoginChallenge {
    throw new NotAvailableError('Login with an own account');
  }

  @Mutation(() => Session, { description: 'Step 2: the 6-digit code, valid 5 minutes, a few tries.' })
  verifyLoginCode(@Arg('challengeId', () => ID) _challengeId: string, @Arg('code') _code: string): Session {
    throw new NotAvailableError('Login with an own account');
  }

  @Mutation(() => Boolean)
  resendLoginCode(@Arg('challengeId', () => ID) _challengeId: string): boolean {
    throw new NotAvailableError('Login with an own account');
  }

  @Mutation(() => Session)
  async refreshSession(@Arg('refreshToken') refreshToken: string, @Ctx() ctx: GatewayContext): Promise<Session> {
    const issued = await ctx.services.sessions.refresh(refreshToken);
    return { accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: issued.expiresAt };
  }

  @Mutation(() => Boolean, { description: 'Ends this session: its access and refresh tokens stop working at once.' })
  async logout(@Ctx() ctx: GatewayContext): Promise<boolean> {
    const viewer = requireViewer(ctx);
    await ctx.services.sessions.revoke(viewer.sessionId, 'logout');
    return true;
  }

  @Mutation(() => Portal, { description: "Links the logged-in account to a client record: the letter's activation code plus birth date." })
  activatePortal(@Arg('activationCode') _code: string, @Arg('birthDate', () => DateScalar) _birthDate: string): Portal {
    throw new NotAvailableError('Portal activation with a code');
  }
}
