import type { BrowserOrigins } from '../../http/origins';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { IsNull, LessThan, type DataSource } from 'typeorm';
import { z } from 'zod';
import type { MailPort } from '../../../adapters/ports';
import { type Permission, PortalRelation, permissionSetProblem } from '../../auth/permissions';
import type { AccountsService } from '../identity/accounts.service';
import type { OwnAccountsService } from '../identity/own-accounts.service';
import { passwordProblem } from '../identity/password';
import type { IssuedSession, SessionsService } from '../identity/sessions.service';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, UpstreamUnavailableError } from '../../errors';
import { InvitationEntity } from './invitation.entity';

/** FORBIDDEN reason: the logged-in account's e-mail address is not the one the invitation was sent to. */
export const INVITATION_FOR_ANOTHER_ADDRESS = 'INVITATION_FOR_ANOTHER_ADDRESS';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const INVITATION_DAYS = 3;
/** Pending and expired invitations disappear after about a month (Caren). */
const FORGET_AFTER_DAYS = 30;

/** A member or pending invitation, found by its id: which client's network it is in. */
export interface MemberRef {
  memberId: string;
  kind: 'link' | 'inv';
  id: string;
  clientId: string;
  admin: boolean;
}

export type MemberStatus = 'INVITED' | 'ACTIVE' | 'EXPIRED';

const statusOf = (invitation: { expiresAt: Date }, now: Date): MemberStatus => (invitation.expiresAt > now ? 'INVITED' : 'EXPIRED');
export interface Member {
  id: string;
  name: string;
  email: string;
  admin: boolean;
  permissions: Permission[];
  status: MemberStatus;
}

const invitationInput = z.object({
  name: z.string().trim().min(1, 'name is required').max(200, 'name is at most 200 characters'),
  email: z.email('email is not a valid e-mail address').max(254),
  language: z.enum(['nl', 'en'], { message: "language is 'nl' or 'en'" }),
  message: z.string().trim().max(1000, 'message is at most 1000 characters').nullish(),
});

export interface NetworkServiceOptions {
  db: DataSource;
  accounts: AccountsService;
  ownAccounts: OwnAccountsService;
  sessions: SessionsService;
  mail: MailPort;
  /** The portal frontend's pages (the link in the mail). */
  origins: Pick<BrowserOrigins, 'page'>;
}

/**
 * The personal network of a client's care page (Caren): an admin invites people by e-mail with
 * chosen rights; the invitation link (3 days, single use) lets someone with an account accept it,
 * or someone without one register with it (the link confirms the e-mail address).
 */
export class NetworkService {
  constructor(private readonly deps: NetworkServiceOptions) {}

  private get invitations() {
    return this.deps.db.getRepository(InvitationEntity);
  }

  async members(clientId: string): Promise<Member[]> {
    await this.invitations.delete({ clientId, acceptedAt: IsNull(), expiresAt: LessThan(new Date(Date.now() - FORGET_AFTER_DAYS * 86_400_000)) });
    const [links, invitations] = await Promise.all([
      this.deps.accounts.networkMembers(clientId),
      this.invitations.find({ where: { clientId }, order: { createdAt: 'ASC' } }),
    ]);
    const now = new Date();
    return [
      ...links.map(({ link, account }) => ({
        id: `link:${link.id}`,
        name: account?.displayName ?? 'Onbekend',
        email: account?.email ?? '',
        admin: link.isAdmin,
        permissions: link.permissions,
        status: 'ACTIVE' as const,
      })),
      ...invitations
        .filter((i) => !i.acceptedAt)
        .map((i) => ({
          id: `inv:${i.id}`,
          name: i.name,
          email: i.email,
          admin: i.admin,
          permissions: i.permissions,
          status: statusOf(i, now),
        })),
    ];
  }

  async invite(
    clientId: string,
    invitedBy: string,
    input: { name: string; email: string; language: string; permissions: Permission[]; message?: string | null },
  ): Promise<{ invitation: InvitationEntity; member: Member }> {
    const parsed = invitationInput.safeParse(input);
    if (!parsed.success) throw new BadUserInputError(parsed.error.issues[0].message);
    const problem = permissionSetProblem(input.permissions);
    if (problem) throw new BadUserInputError(`The permissions do not fit together: ${problem}.`);
    const email = parsed.data.email.toLowerCase();
    const token = randomBytes(32).toString('base64url');
    const invitation: InvitationEntity = {
      id: randomUUID(),
      clientId,
      invitedBy,
      name: parsed.data.name,
      email,
      language: parsed.data.language,
      permissions: [...new Set(input.permissions)],
      admin: false,
      tokenHash: sha256(token),
      expiresAt: new Date(Date.now() + INVITATION_DAYS * 86_400_000),
      acceptedAt: null,
      createdAt: new Date(),
    };
    await this.invitations.insert(invitation);
    const inviter = await this.deps.accounts.findById(invitedBy);
    const link = this.deps.origins.page(`/uitnodiging?token=${token}`);
    const personal = parsed.data.message ? `\n\n${parsed.data.message}\n` : '\n';
    try {
      await this.deps.mail.send({
        to: email,
        subject: parsed.data.language === 'en' ? 'You are invited to a care page' : 'Uitnodiging voor een zorgpagina',
        text:
          parsed.data.language === 'en'
            ? `${inviter?.displayName ?? 'Someone'} invites you to their personal network on the care page.${personal}\nAccept within 3 days: ${link}`
            : `${inviter?.displayName ?? 'Iemand'} nodigt u uit voor het persoonlijk netwerk op de zorgpagina.${personal}\nAccepteer binnen 3 dagen: ${link}`,
      });
    } catch (err) {
      // Not listed as invited with a link nobody received: gone again, and the inviter is told to try again.
      await this.invitations.delete({ id: invitation.id, acceptedAt: IsNull() }).catch(() => undefined);
      throw new UpstreamUnavailableError(
        'mail',
        `The invitation mail could not be sent (${(err as Error).message.slice(0, 100)}); nothing was saved, try again.`,
      );
    }
    return {
      invitation,
      member: { id: `inv:${invitation.id}`, name: invitation.name, email, admin: false, permissions: invitation.permissions, status: 'INVITED' },
    };
  }

  /** A logged-in person accepts: their account joins the network with the invitation's rights. */
  async accept(token: string, accountId: string): Promise<{ clientId: string; permissions: Permission[]; admin: boolean }> {
    const [row, account] = await Promise.all([this.invitations.findOneBy({ tokenHash: sha256(token) }), this.deps.accounts.findById(accountId)]);
    // An invitation is for the address it was sent to: a link that reached someone else opens nothing
    // (and stays usable for the person it was meant for).
    if (row && !row.acceptedAt && row.expiresAt > new Date() && account && account.email !== row.email) {
      throw new ForbiddenError('This invitation was sent to another e-mail address. Log in with the account of that address, or register with the link.', {
        reason: INVITATION_FOR_ANOTHER_ADDRESS,
      });
    }
    const invitation = await this.claim(token);
    await this.deps.accounts.link(accountId, invitation.clientId, PortalRelation.NETWORK_MEMBER, invitation.permissions, invitation.admin);
    return { clientId: invitation.clientId, permissions: invitation.permissions, admin: invitation.admin };
  }

  /** Someone without an account registers with the link: the e-mail counts as confirmed by it. */
  async register(token: string, displayName: string, password: string): Promise<IssuedSession> {
    const row = await this.invitations.findOneBy({ tokenHash: sha256(token) });
    if (!row || row.acceptedAt || row.expiresAt <= new Date()) throw new UnauthenticatedError('This invitation is not valid (any more); ask for a new one.');
    if (await this.deps.accounts.findByEmail(row.email))
      throw new ConflictError('There is already an account for this e-mail address: log in and accept the invitation.');
    const name = displayName.trim() || row.name;
    if (name.length > 200) throw new BadUserInputError('The name is at most 200 characters.');
    const problem = passwordProblem(password, row.email);
    if (problem) throw new BadUserInputError(`The password does not meet the policy: ${problem}.`, { field: 'password' });
    const account = await this.deps.accounts.create({ email: row.email, displayName: name });
    await this.deps.ownAccounts.setPassword(account.id, password, false);
    await this.accept(token, account.id);
    await this.deps.accounts.recordLogin(account.id);
    return this.deps.sessions.create(account.id, 'password');
  }

  /** Changes a member's (or a pending invitation's) rights; the permission set must fit together. */
  async setPermissions(target: MemberRef, permissions: Permission[], admin: boolean | null | undefined): Promise<Member> {
    const problem = permissionSetProblem(permissions);
    if (problem) throw new BadUserInputError(`The permissions do not fit together: ${problem}.`);
    const unique = [...new Set(permissions)];
    if (target.kind === 'link') await this.deps.accounts.updateLink(target.id, unique, admin ?? target.admin);
    // Only while nobody accepted it: the rights an accepted invitation gave are the member's now.
    else if (!(await this.invitations.update({ id: target.id, acceptedAt: IsNull() }, { permissions: unique, admin: admin ?? target.admin })).affected)
      throw new ConflictError('The invitation was accepted just now: change the rights of the member it made.');
    const members = await this.members(target.clientId);
    let member = members.find((m) => m.id === target.memberId);
    if (!member && target.kind === 'inv') {
      // Accepted right after this change (which it took): the member it made, with these rights.
      const email = (await this.invitations.findOneBy({ id: target.id }))?.email;
      member = members.find((m) => m.status === 'ACTIVE' && m.email === email);
    }
    if (!member) throw new NotFoundError('No such network member.');
    return member;
  }

  /** Removes a member (their access ends at once) or withdraws an invitation. */
  async remove(target: MemberRef): Promise<void> {
    if (target.kind === 'link') await this.deps.accounts.removeLink(target.id);
    else if (!(await this.invitations.delete({ id: target.id, acceptedAt: IsNull() })).affected)
      throw new ConflictError('The invitation was accepted just now: remove the member it made.');
  }

  /** Which client's network a member id belongs to (so the caller can ask the gate first); NOT_FOUND otherwise. */
  async find(memberId: string): Promise<MemberRef> {
    const [kind, id] = memberId.split(':') as [string, string | undefined];
    if (kind === 'link' && id) {
      const link = await this.deps.accounts.findLink(id);
      if (link && link.relation === PortalRelation.NETWORK_MEMBER) return { memberId, kind, id, clientId: link.clientId, admin: link.isAdmin };
      // The client's own side is not managed here; to anyone else such an id is no member at all.
    }
    if (kind === 'inv' && id) {
      const invitation = await this.invitations.findOneBy({ id });
      if (invitation && !invitation.acceptedAt) return { memberId, kind, id, clientId: invitation.clientId, admin: invitation.admin };
    }
    throw new NotFoundError('No such network member.');
  }

  private async claim(token: string): Promise<InvitationEntity> {
    const row = await this.invitations.findOneBy({ tokenHash: sha256(token) });
    if (!row || row.acceptedAt || row.expiresAt <= new Date()) throw new BadUserInputError('This invitation is not valid (any more); ask for a new one.');
    const claimed = await this.invitations
      .createQueryBuilder()
      .update()
      .set({ acceptedAt: new Date() })
      .where('id = :id AND accepted_at IS NULL', { id: row.id })
      .execute();
    if (!claimed.affected) throw new BadUserInputError('This invitation was already used.');
    // The rights as they are now: changed after the read above but before the claim, they count (after it, they cannot change).
    return (await this.invitations.findOneBy({ id: row.id })) ?? row;
  }
}
