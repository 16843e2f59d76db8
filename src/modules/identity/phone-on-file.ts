import type { AccessEvent } from '../../audit/access-log.service';
import { PortalRelation } from '../../auth/permissions';
import type { EhrRequestInfo, RequestEhr } from '../ehr/ehr.service';
import type { AccountsService } from './accounts.service';

export interface PhoneOnFileDeps {
  accounts: Pick<AccountsService, 'portals'>;
  readEhr: (info: EhrRequestInfo) => RequestEhr;
  audit: { record(event: AccessEvent): Promise<void> };
}

/** Reads the number a login code goes to; null: none on file, no EHR answers, or the read could not be logged. */
export type PhoneOnFile = (accountId: string) => Promise<string | null>;

/**
 * The mobile number the organisation has on file for the account's own client record (its SELF
 * link, never a child's number for a parent or a representative), from the first EHR that has the
 * client, through the same cached reader as the client's profile. The gateway reads the client's
 * record on her behalf before she is logged in, so the access log gets a system line for it; the
 * number is used only once that line is written (fail closed: the code then goes by mail).
 */
export function phoneOnFileReader({ accounts, readEhr, audit }: PhoneOnFileDeps): PhoneOnFile {
  return async (accountId) => {
    const own = (await accounts.portals(accountId)).find((p) => p.relation === PortalRelation.SELF);
    if (!own) return null;
    const requestId = `login:${accountId}`;
    const ehr = readEhr({ requestId, accountId, onPartialFailure: () => undefined });
    const record = await ehr.first(own.clientId, 'getClient', (a, id, ctx) => a.getClient(id, ctx)).catch(() => null);
    if (!record) return null;
    const phone = record.mobilePhone?.replace(/[\s()-]/g, '');
    if (!phone || !/^\+?\d{9,15}$/.test(phone)) return null;
    const logged = await audit
      .record({
        action: 'R',
        eventType: 'identity.login_code.phone',
        resource: 'Mobiel nummer (voor de inlogcode)',
        clientId: own.clientId,
        accountId,
        actorName: 'Portaal (inloggen)',
        actorRole: 'SYSTEM',
        requestId,
        treatmentRelationship: false,
      })
      .then(() => true)
      .catch(() => false);
    return logged ? phone : null;
  };
}
