import { Arg, ID, Mutation, Resolver } from 'type-graphql';
import { Permission } from '../../auth/abilities';
import { NotAvailableError } from '../../graphql/errors';
import { Portal } from '../portal/portal.types';
import { Invitation, InvitationInput, NetworkMember } from './network.types';

/** The personal network (care-page admins only): a later issue. */
@Resolver()
export class NetworkResolver {
  @Mutation(() => Invitation)
  inviteNetworkMember(@Arg('clientId', () => ID) _clientId: string, @Arg('input', () => InvitationInput) _input: InvitationInput): Invitation {
    throw new NotAvailableError('The personal network');
  }

  @Mutation(() => Portal)
  acceptInvitation(@Arg('token') _token: string): Portal {
    throw new NotAvailableError('The personal network');
  }

  @Mutation(() => NetworkMember)
  setNetworkPermissions(
    @Arg('memberId', () => ID) _memberId: string,
    @Arg('permissions', () => [Permission]) _permissions: Permission[],
    @Arg('admin', () => Boolean, { nullable: true }) _admin?: boolean | null,
  ): NetworkMember {
    throw new NotAvailableError('The personal network');
  }

  @Mutation(() => Boolean)
  removeNetworkMember(@Arg('memberId', () => ID) _memberId: string): boolean {
    throw new NotAvailableError('The personal network');
  }
}
