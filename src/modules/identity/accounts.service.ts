import { createHmac, randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import type { AdapterRequestContext } from '../../../adapters/ports';
import type { AccessLogService } from '../../audit/access-log.service';
import { onBehalfOf } from '../../graphql/context';
import { BadUserInputError } from '../../errors';
import type { ClientsService } from '../clients/clients.service';
import type { AdapterRegistry } from '../ehr/adapter-registry';
import { RawTable } from '../../db/raw-table';
import { ChangeStamp } from '../../kv/change-stamp';
import type { KeyValueStore } from '../../kv/kv';
import { OWN_LOGIN_FROM_AGE } from '../../auth/access';
import { ALL_PERMISSIONS, type Permission, PortalRelation, type PortalAccess } from '../../auth/permissions';
import { ageInYears } from '../../auth/portal-rules';
import { AccountEntity } from './account.entity';
import { PortalLinkEntity } from './portal-link.entity';

/** The 11-proef every BSN passes (weights 9..2 and -1). */
export function isValidBsn(bsn: string): boolean {
  if (!/^\d{9}$/.test(bsn)) return false;
  const digits = [...bsn].map(Number);
  const sum = digits.slice(0, 8).reduce((acc, d, i) => acc + d * (9 - i), 0) - digits[8];
  return sum % 11 === 0 && bsn !== '000000000';
}

export type NotificationSettingsValue = Pick<AccountEntity, 'notifyNewMessage' | 'notifyNewDocument' | 'notifyNewAppointment' | 'notifyNewQuestionnaire'>;

/** What livePortalsMany keeps is read again after this long even without a new stamp (a stamp lost while Redis was down). */
const LIVE_LINKS_MAX_AGE_MS = 30_000;

/** What `link` did: made the link, changed its relation or rights, or found it as asked. */
export type LinkChange = 'created' | 'changed' | 'unchanged';

/** Accounts and their portal links; owns the accounts and portal_links tables. */
export class AccountsService {
  /**
   * Coalesce the lookups of one turn of the event loop (every request it served; live subscribers
   * re-checking on an event) into one query each; nothing is kept after it.
   */
  private readonly portalLoader = new DataLoader<string, PortalAccess[]>((ids) => this.portalsOfMany(ids), {
    cache: false,
    maxBatchSize: 1000,
    batchScheduleFn: (run) => setImmediate(run),
  });
  private readonly accountLoader = new DataLoader<string, AccountEntity | null>(
    async (ids) => {
      const found = new Map((await this.rawAccounts.findIn('id', [...new Set(ids)])).map((a) => [a.id, a]));
      return ids.map((id) => found.get(id) ?? null);
    },
    { cache: false, maxBatchSize: 1000, batchScheduleFn: (run) => setImmediate(run) },
  );
  /** Every request reads the viewer's account and portal links: plain SQL, built once. */
  private readonly rawAccounts: RawTable<AccountEntity>;
  private readonly rawLinks: RawTable<PortalLinkEntity>;
  /** Renewed by every link write, on any instance: what livePortalsMany keeps is valid while it is unchanged. */
  private readonly linksStamp: ChangeStamp;
  private live: { stamp: string | null; portals: Map<string, PortalAccess[]>; at: number } = { stamp: null, portals: new Map(), at: 0 };

  private readonly db: DataSource;
  private readonly clients: ClientsService;
  private readonly adapters: AdapterRegistry;
  private readonly audit: Pick<AccessLogService, 'record'>;
  private readonly bsnHashKey: string;

  constructor(options: {
    db: DataSource;
    clients: ClientsService;
    adapters: AdapterRegistry;
    bsnHashKey: string;
    kv: KeyValueStore;
    /** Where a portal opened by a DigiD login is logged (NEN 7513). */
    audit: Pick<AccessLogService, 'record'>;
  }) {
    ({ db: this.db, clients: this.clients, adapters: this.adapters, bsnHashKey: this.bsnHashKey, audit: this.audit } = options);
    const { db, kv } = options;
    this.rawAccounts = new RawTable(db, AccountEntity);
    this.rawLinks = new RawTable(db, PortalLinkEntity);
    this.linksStamp = new ChangeStamp(kv, 'portal-links-stamp');
  }

  private get accounts() {
    return this.db.getRepository(AccountEntity);
  }
  private get links() {
    return this.db.getRepository(PortalLinkEntity);
  }

  hashBsn(bsn: string): string {
    return createHmac('sha256', this.bsnHashKey).update(bsn).digest('hex');
  }

  findById(id: string): Promise<AccountEntity | null> {
    return this.accountLoader.load(id);
  }

  findByEmail(email: string): Promise<AccountEntity | null> {
    return this.accounts.findOneBy({ email: email.trim().toLowerCase() });
  }

  /** Domain-separated from the BSN hash, so a pseudonym can never collide with a BSN's account. */
  hashOidcSubject(issuer: string, subject: string): string {
    return createHmac('sha256', this.bsnHashKey).update(`oidc-subject\0${issuer}\0${subject}`).digest('hex');
  }

  async create(input: { email?: string | null; displayName: string; bsnHash?: string | null; oidcSubjectHash?: string | null }): Promise<AccountEntity> {
    const account = this.accounts.create({
      id: randomUUID(),
      email: input.email ? input.email.trim().toLowerCase() : null,
      displayName: input.displayName,
      bsnHash: input.bsnHash ?? null,
      oidcSubjectHash: input.oidcSubjectHash ?? null,
      preferredClientId: null,
      lastLoginAt: null,
      previousLoginAt: null,
      notifyNewMessage: true,
      notifyNewDocument: true,
      notifyNewAppointment: true,
      notifyNewQuestionnaire: true,
      createdAt: new Date(),
    });
    await this.accounts.insert(account);
    return account;
  }

  /**
   * A DigiD login (or the dev login with a BSN): finds or creates the account for this BSN and
   * links what the EHRs know: the own record (SELF) and, for a parent, the children (PARENT).
   * An unknown BSN gets an account with no portals yet. The BSN itself is never stored.
   */
  async loginWithBsn(bsn: string, ctx: AdapterRequestContext): Promise<AccountEntity> {
    if (!isValidBsn(bsn)) throw new BadUserInputError('That is not a valid BSN.');
    const bsnHash = this.hashBsn(bsn);
    let account = await this.accounts.findOneBy({ bsnHash });
    const found = await Promise.all(
      this.adapters.names.map(async (source) => {
        const [self, children] = await Promise.all([
          this.adapters.call(source, 'findClientByBsn', (a, attempt) => a.findClientByBsn(bsn, attempt.context(ctx))).catch(() => null),
          this.adapters.call(source, 'findChildrenOfParent', (a, attempt) => a.findChildrenOfParent(bsn, attempt.context(ctx))).catch(() => []),
        ]);
        return { source, self, children };
      }),
    );
    if (!account) {
      const name = found.find((f) => f.self)?.self?.name ?? 'DigiD-gebruiker';
      account = await this.create({ displayName: name, bsnHash });
    }
    // One person known at two care organisations is one client with two sources: a record seen
    // before decides which client the others join. A child has an own login from 12 (Tromp); a
    // younger child's DigiD opens no portal of their own: the parents with authority act for them.
    const ownLogin = (self: { birthDate?: string | null }) => (ageInYears(self.birthDate) ?? OWN_LOGIN_FROM_AGE) >= OWN_LOGIN_FROM_AGE;
    const selfRefs = found.flatMap(({ source, self }) => (self && ownLogin(self) ? [{ source, externalId: self.externalId }] : []));
    const known = await Promise.all(selfRefs.map((ref) => this.clients.existingClientId(ref)));
    let ownClientId = known.find((id): id is string => Boolean(id));
    const granted: { clientId: string; relation: PortalRelation; change: LinkChange; childName?: string }[] = [];
    for (const [i, ref] of selfRefs.entries()) {
      const clientId = known[i] ?? (await this.clients.ensureClient(ref, ownClientId));
      ownClientId ??= clientId;
      granted.push({ clientId, relation: PortalRelation.SELF, change: await this.link(account.id, clientId, PortalRelation.SELF, [...ALL_PERMISSIONS], true) });
    }
    for (const { source, children } of found) {
      for (const child of children) {
        const childId = await this.clients.ensureClient({ source, externalId: child.externalId });
        granted.push({
          clientId: childId,
          relation: PortalRelation.PARENT,
          change: await this.link(account.id, childId, PortalRelation.PARENT, [...ALL_PERMISSIONS], true),
          childName: child.name,
        });
      }
    }
    // A portal opened to this person by what the EHR says of their BSN is in that client's access log (who, as what, since when).
    for (const g of granted.filter((x) => x.change !== 'unchanged'))
      await this.audit.record({
        action: g.change === 'created' ? 'C' : 'U',
        eventType: 'portal.linked',
        resource: `Toegang tot het portaal via DigiD (${g.relation === PortalRelation.SELF ? 'cliënt' : 'ouder met gezag'})`,
        clientId: g.clientId,
        accountId: account.id,
        actorName: account.displayName,
        actorRole: g.relation,
        // A parent acts for the child: the line says on whose behalf (NEN 7513's responsible user), as every other line does.
        onBehalfOf: onBehalfOf({ relation: g.relation }, g.childName),
        requestId: ctx.requestId,
        treatmentRelationship: true,
      });
    return account;
  }

  /**
   * A login through a broker that sends a pseudonym rather than a BSN: finds or creates the
   * account by (issuer, subject). It has no portals until activated (activatePortal).
   */
  async loginWithOidcSubject(issuer: string, subject: string): Promise<AccountEntity> {
    const oidcSubjectHash = this.hashOidcSubject(issuer, subject);
    const existing = await this.accounts.findOneBy({ oidcSubjectHash });
    if (existing) return existing;
    try {
      return await this.create({ displayName: 'DigiD-gebruiker', oidcSubjectHash });
    } catch (err) {
      // Two first logins at once: the unique index let one insert win; use that account.
      const winner = await this.accounts.findOneBy({ oidcSubjectHash });
      if (winner) return winner;
      throw err;
    }
  }

  /** Creates or updates the link between an account and a client portal; answers what it did. */
  async link(accountId: string, clientId: string, relation: PortalRelation, permissions: Permission[], isAdmin: boolean): Promise<LinkChange> {
    const existing = await this.links.findOneBy({ accountId, clientId });
    if (existing) {
      if (existing.relation === relation && existing.isAdmin === isAdmin && existing.permissions.join() === permissions.join()) return 'unchanged';
      await this.changingLinks(() => this.links.update({ id: existing.id }, { relation, permissions, isAdmin }));
      return 'changed';
    }
    try {
      await this.changingLinks(() => this.links.insert({ id: randomUUID(), accountId, clientId, relation, permissions, isAdmin, createdAt: new Date() }));
      return 'created';
    } catch (err) {
      // Made at the same moment elsewhere (two instances seeding, two first logins): the unique index let one in.
      if (!(await this.links.findOneBy({ accountId, clientId }))) throw err;
      return 'unchanged';
    }
  }

  /** Everyone linked to a client's portal (optionally one relation), with their account. */
  async linkedAccounts(clientId: string, relation?: PortalRelation): Promise<{ link: PortalLinkEntity; account: AccountEntity | null }[]> {
    const links = await this.links.find({ where: relation ? { clientId, relation } : { clientId }, order: { createdAt: 'ASC' } });
    const accounts = links.length ? await this.accounts.findBy({ id: In(links.map((l) => l.accountId)) }) : [];
    return links.map((link) => ({ link, account: accounts.find((a) => a.id === link.accountId) ?? null }));
  }

  /** The network members of a client's portal, with their account's name and e-mail. */
  networkMembers(clientId: string): Promise<{ link: PortalLinkEntity; account: AccountEntity | null }[]> {
    return this.linkedAccounts(clientId, PortalRelation.NETWORK_MEMBER);
  }

  findLink(linkId: string): Promise<PortalLinkEntity | null> {
    return this.links.findOneBy({ id: linkId });
  }

  async updateLink(linkId: string, permissions: Permission[], isAdmin: boolean): Promise<void> {
    await this.changingLinks(() => this.links.update({ id: linkId }, { permissions, isAdmin }));
  }

  async removeLink(linkId: string): Promise<void> {
    await this.changingLinks(() => this.links.delete({ id: linkId }));
  }

  /** Every portal the account may open, the own one (SELF) first. */
  portals(accountId: string): Promise<PortalAccess[]> {
    return this.portalLoader.load(accountId);
  }

  /**
   * Portal links for re-checking open subscriptions on every event. An event's subscribers all
   * ask at once; while no link changed anywhere (the shared stamp in the key-value store, renewed
   * by every link write on any instance) they are answered from this instance's memory, so an
   * event costs one key read instead of a query over every subscriber's links. A changed stamp,
   * a store that cannot answer, or 30 seconds since the last read reads the database again.
   */
  async livePortalsMany(accountIds: readonly string[]): Promise<PortalAccess[][]> {
    const stamp = await this.linksStamp.read();
    if (stamp === null) {
      // The store cannot say whether links changed: the database, and nothing kept from before.
      this.live = { stamp: null, portals: new Map(), at: 0 };
      return this.portalsOfMany(accountIds);
    }
    const now = Date.now();
    if (stamp !== this.live.stamp || now - this.live.at > LIVE_LINKS_MAX_AGE_MS || this.live.portals.size > 100_000)
      this.live = { stamp, portals: new Map(), at: now };
    const { portals } = this.live;
    const missing = [...new Set(accountIds.filter((id) => !portals.has(id)))];
    if (missing.length) {
      // Kept under the stamp read before the query: a change meanwhile leaves a newer stamp, so the next event reads again.
      const loaded = await this.portalsOfMany(missing);
      missing.forEach((id, i) => portals.set(id, loaded[i]));
    }
    return accountIds.map((id) => portals.get(id)!);
  }

  /**
   * A link write between two new stamps (the second voids whatever was read while the write was
   * under way). When the store cannot take a stamp (Redis down), the change still lands and other
   * instances notice it by the age limit of what they keep (LIVE_LINKS_MAX_AGE_MS).
   */
  private async changingLinks(write: () => Promise<unknown>): Promise<void> {
    const renew = () => this.linksStamp.renew().catch(() => (this.live = { stamp: null, portals: new Map(), at: 0 }));
    await renew();
    await write();
    await renew();
  }

  private async portalsOfMany(accountIds: readonly string[]): Promise<PortalAccess[][]> {
    const rows = await this.rawLinks.findIn('accountId', [...new Set(accountIds)], 'createdAt');
    const rank = (r: PortalRelation) => (r === PortalRelation.SELF ? 0 : 1);
    const byAccount = new Map<string, PortalLinkEntity[]>();
    for (const row of rows) byAccount.set(row.accountId, [...(byAccount.get(row.accountId) ?? []), row]);
    return accountIds.map((id) =>
      (byAccount.get(id) ?? [])
        // Same order on every request: links made in the same millisecond (a parent's children) by client id.
        .sort((a, b) => rank(a.relation) - rank(b.relation) || a.createdAt.getTime() - b.createdAt.getTime() || (a.clientId < b.clientId ? -1 : 1))
        .map((r) => ({ clientId: r.clientId, relation: r.relation, permissions: r.permissions, isAdmin: r.isAdmin })),
    );
  }

  /** Stamps a login; the previous one is what "activity since your last login" counts from. */
  async recordLogin(accountId: string): Promise<void> {
    const account = await this.findById(accountId);
    if (!account) return;
    await this.accounts.update({ id: accountId }, { previousLoginAt: account.lastLoginAt, lastLoginAt: new Date() });
  }

  async setPreferredPortal(accountId: string, clientId: string): Promise<void> {
    await this.accounts.update({ id: accountId }, { preferredClientId: clientId });
  }

  async updateNotificationSettings(accountId: string, changes: Partial<NotificationSettingsValue>): Promise<void> {
    const clean = Object.fromEntries(Object.entries(changes).filter(([, v]) => typeof v === 'boolean'));
    if (Object.keys(clean).length) await this.accounts.update({ id: accountId }, clean);
  }
}
