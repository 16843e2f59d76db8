import { ALL_PERMISSIONS, Permission, PortalRelation } from '../../auth/permissions';
import type { AccountsService } from '../identity/accounts.service';
import type { OwnAccountsService } from '../identity/own-accounts.service';
import type { ClientsService } from '../clients/clients.service';

export const DEMO_ACCOUNTS = {
  client: 'client@demo.test',
  parent: 'parent@demo.test',
  relative: 'relative@demo.test',
  stranger: 'stranger@demo.test',
} as const;

/** The demo accounts' password (own-account login: password, then the code from the log). */
export const DEMO_PASSWORD = 'Demo-Portaal-2026!';

/**
 * The contract's four demo accounts on the demo EHR: Karen Test (a client with a full dossier),
 * a parent of Sanne (14) and Daan (9), Karen's sister as a network member with only AGENDA_VIEW,
 * and a stranger with no portals. Idempotent: runs at every start of the embedded default.
 */
/** Who the demo EHR's records are (the demo adapter's DEMO_PEOPLE): the composition root passes them. */
export interface DemoPeople {
  client: { bsn: string; externalId: string };
  parent: { bsn: string; children: readonly string[] };
}

export async function seedDemoAccounts(
  accounts: AccountsService,
  clients: ClientsService,
  people: DemoPeople,
  ownAccounts?: OwnAccountsService,
  source = 'demo',
): Promise<void> {
  // Several instances may start on a fresh database at once: whoever inserts second finds the first's row.
  const ensure = async (email: string, displayName: string, bsn?: string) =>
    (await accounts.findByEmail(email)) ??
    (await winnerOf(
      () => accounts.create({ email, displayName, bsnHash: bsn ? accounts.hashBsn(bsn) : null }),
      () => accounts.findByEmail(email),
    ));

  const karenId = await clients.ensureClient({ source, externalId: people.client.externalId });
  const childIds: string[] = [];
  // One after the other: SQLite runs one transaction at a time on its one connection.
  for (const externalId of people.parent.children) childIds.push(await clients.ensureClient({ source, externalId }));

  const client = await ensure(DEMO_ACCOUNTS.client, 'Karen Test', people.client.bsn);
  await accounts.link(client.id, karenId, PortalRelation.SELF, [...ALL_PERMISSIONS], true);

  const parent = await ensure(DEMO_ACCOUNTS.parent, 'Peter de Vries', people.parent.bsn);
  for (const childId of childIds) await accounts.link(parent.id, childId, PortalRelation.PARENT, [...ALL_PERMISSIONS], true);

  const relative = await ensure(DEMO_ACCOUNTS.relative, 'Ellen Test');
  await accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], false);

  const stranger = await ensure(DEMO_ACCOUNTS.stranger, 'Sam Vreemd');

  if (ownAccounts) {
    for (const account of [client, parent, relative, stranger]) {
      if (!(await ownAccounts.hasPassword(account.id))) {
        await winnerOf(
          async () => (await ownAccounts.setPassword(account.id, DEMO_PASSWORD, false), true),
          async () => ((await ownAccounts.hasPassword(account.id)) ? true : null),
        );
      }
    }
  }
}

/** Runs `create`; when it fails because another instance made the same row just before, answers that row. */
async function winnerOf<T>(create: () => Promise<T>, existing: () => Promise<T | null>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    const found = await existing();
    if (found) return found;
    throw err;
  }
}
