import { DEMO_BSN } from '../../../adapters/demo/demo-data';
import { ALL_PERMISSIONS, Permission, PortalRelation } from '../../auth/permissions';
import type { AccountsService } from '../../auth/accounts.service';
import type { OwnAccountsService } from '../../auth/own-accounts.service';
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
export async function seedDemoAccounts(accounts: AccountsService, clients: ClientsService, ownAccounts?: OwnAccountsService, source = 'demo'): Promise<void> {
  // Several instances may start on a fresh database at once: whoever inserts second finds the first's row.
  const ensure = async (email: string, displayName: string, bsn?: string) =>
    (await accounts.findByEmail(email)) ?? (await winnerOf(() => accounts.create({ email, displayName, bsnHash: bsn ? accounts.hashBsn(bsn) : null }), () => accounts.findByEmail(email)));

  const karenId = await clients.ensureClient({ source, externalId: 'cl-karen' });
  const sanneId = await clients.ensureClient({ source, externalId: 'cl-sanne' });
  const daanId = await clients.ensureClient({ source, externalId: 'cl-daan' });

  const client = await ensure(DEMO_ACCOUNTS.client, 'Karen Test', DEMO_BSN.karen);
  await accounts.link(client.id, karenId, PortalRelation.SELF, [...ALL_PERMISSIONS], true);

  const parent = await ensure(DEMO_ACCOUNTS.parent, 'Peter de Vries', DEMO_BSN.parent);
  await accounts.link(parent.id, sanneId, PortalRelation.PARENT, [...ALL_PERMISSIONS], true);
  await accounts.link(parent.id, daanId, PortalRelation.PARENT, [...ALL_PERMISSIONS], true);

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
