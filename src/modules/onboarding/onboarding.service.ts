import { PermanentEventError } from '../../errors';
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { EhrClient, MailPort, SmsPort } from '../../../adapters/ports';
import type { AccessLogService } from '../../audit/access-log.service';
import { OWN_LOGIN_FROM_AGE } from '../../auth/access';
import { ALL_PERMISSIONS, PortalRelation } from '../../auth/permissions';
import { ageInYears } from '../../auth/portal-rules';
import type { Logger } from '../../observability/logger';
import type { ClientsService } from '../clients/clients.service';
import type { AdapterRegistry } from '../ehr/adapter-registry';
import type { AccountsService } from '../identity/accounts.service';
import type { OwnAccountsService } from '../identity/own-accounts.service';

/** How long an activation code from an invitation stays valid. */
export const INVITATION_CODE_DAYS = 30;

/**
 * The data of a `portal.invited` sync event: the practitioner system registers a client (SELF) or
 * someone acting for them for the portal. `activationCode` (the default) sends a code that opens
 * the portal together with the client's birth date, after a DigiD login or on an own account the
 * person already has: no password travels by mail. `oneTimePassword` makes an own account whose
 * password must be changed at the first login (Tromp, Extenzo).
 */
export const portalInvitedData = z
  .object({
    relation: z
      .string()
      .transform((v) => v.toUpperCase())
      .pipe(
        z.enum([PortalRelation.SELF, PortalRelation.PARENT, PortalRelation.REPRESENTATIVE], { message: "relation is 'SELF', 'PARENT' or 'REPRESENTATIVE'" }),
      )
      .default(PortalRelation.SELF),
    delivery: z.enum(['activationCode', 'oneTimePassword'], { message: "delivery is 'activationCode' or 'oneTimePassword'" }).default('activationCode'),
    email: z.email().max(254).optional(),
    phone: z
      .string()
      .transform((v) => v.replace(/[\s()-]/g, ''))
      .pipe(z.string().regex(/^\+?\d{9,15}$/, 'phone is a mobile number such as +31612345678'))
      .optional(),
    /** The invited person's name (a representative's; the client's own comes from the EHR). */
    name: z.string().trim().min(1).max(200).optional(),
  })
  .refine((d) => d.email || d.phone, { message: 'email or phone is required (where the invitation goes)', path: ['email'] })
  .refine((d) => d.delivery !== 'oneTimePassword' || d.email, { message: 'email is required with delivery oneTimePassword (the login name)', path: ['email'] });

export type PortalInvitedData = z.infer<typeof portalInvitedData>;

export interface PortalInvitation {
  /** The stored sync event's own id: a retried handler reuses it, so one event never leaves two valid codes. */
  rowId: string;
  eventId: string;
  source: string;
  /** The portal's client id, or the source system's own id for the client. */
  clientRef: string;
  data: PortalInvitedData;
}

export interface OnboardingServiceOptions {
  clients: ClientsService;
  registry: AdapterRegistry;
  accounts: AccountsService;
  ownAccounts: OwnAccountsService;
  audit: Pick<AccessLogService, 'record'>;
  mail: MailPort;
  sms: SmsPort;
  logger: Logger;
  /** Who sends the mail (ORGANISATION_NAME) and where the portal is (FRONTEND_URL / PUBLIC_URL). */
  organisationName: string;
  portalUrl: () => string;
  /** OWN_ACCOUNTS: one-time passwords make own accounts. */
  ownAccountsEnabled: boolean;
}

const RELATION_NL: Record<PortalRelation, string> = {
  [PortalRelation.SELF]: 'cliënt',
  [PortalRelation.PARENT]: 'ouder met gezag',
  [PortalRelation.REPRESENTATIVE]: 'vertegenwoordiger',
  [PortalRelation.NETWORK_MEMBER]: 'lid van het netwerk',
};

/**
 * Onboarding that the organisation drives: a `portal.invited` event becomes an activation code or
 * an own account with a one-time password, sent by mail (or the code by SMS). The mails name the
 * sender and say how to get in; they name no client and hold no medical data.
 */
export class OnboardingService {
  constructor(private readonly deps: OnboardingServiceOptions) {}

  /** The organisation's name at the start of a sentence ('uw zorgaanbieder' by default). */
  private get sender(): string {
    const name = this.deps.organisationName;
    return name.charAt(0).toUpperCase() + name.slice(1);
  }

  async invite(invitation: PortalInvitation): Promise<void> {
    const { data } = invitation;
    const { clientId, record } = await this.resolveClient(invitation);
    if (data.relation === PortalRelation.SELF && (ageInYears(record.birthDate) ?? OWN_LOGIN_FROM_AGE) < OWN_LOGIN_FROM_AGE) {
      throw new PermanentEventError(
        `portal.invited: a client under ${OWN_LOGIN_FROM_AGE} has no own portal; invite the parents with authority (relation PARENT)`,
      );
    }
    if (data.delivery === 'oneTimePassword') await this.inviteWithPassword(invitation, clientId, record);
    else await this.inviteWithCode(invitation, clientId, record);
  }

  private async inviteWithCode(invitation: PortalInvitation, clientId: string, record: EhrClient): Promise<void> {
    const { data } = invitation;
    if (!record.birthDate)
      throw new PermanentEventError('portal.invited: the EHR has no birth date for the client, which the activation code is checked against');
    const code = await this.deps.ownAccounts.activationCodeFor(invitation.rowId, clientId, record.birthDate, data.relation, INVITATION_CODE_DAYS);
    if (!code) {
      this.deps.logger.info({ eventId: invitation.eventId, clientId }, 'portal invitation already activated; nothing sent again');
      return;
    }
    const portal = this.deps.portalUrl();
    const until = new Date(Date.now() + INVITATION_CODE_DAYS * 86_400_000).toLocaleDateString('nl-NL', { day: 'numeric', month: 'long', year: 'numeric' });
    const birth = data.relation === PortalRelation.SELF ? 'uw geboortedatum' : 'de geboortedatum van de cliënt';
    if (data.email) {
      await this.deps.mail.send({
        to: data.email,
        subject: `Uw activatiecode voor het cliëntenportaal van ${this.deps.organisationName}`,
        text: [
          'Beste,',
          '',
          `${this.sender} heeft u aangemeld voor het cliëntenportaal, als ${RELATION_NL[data.relation]}. Met het portaal ziet u onder meer afspraken en stuurt u beveiligd berichten.`,
          '',
          `Uw activatiecode: ${code}`,
          '',
          'Zo activeert u het portaal:',
          `1. Ga naar ${portal} en log in met DigiD (of met uw eigen account, als u dat al heeft).`,
          `2. Kies "Portaal activeren" en vul de activatiecode en ${birth} in.`,
          '',
          `De code werkt één keer en is geldig tot ${until}. Na vijf verkeerde pogingen werkt de code niet meer; vraag dan uw behandelaar om een nieuwe.`,
          'Deel de code met niemand. Heeft u deze e-mail niet verwacht? Neem dan contact op met uw behandelaar.',
          '',
          'Met vriendelijke groet,',
          this.deps.organisationName,
        ].join('\n'),
      });
    } else {
      await this.deps.sms.send({
        to: data.phone!,
        text: `${this.sender}: uw activatiecode voor het cliëntenportaal is ${code}. Log in op ${portal}, kies Portaal activeren en vul de code en ${birth} in.`,
      });
    }
    await this.logged(invitation, clientId, 'activation code', 'Portaaltoegang: activatiecode verstuurd');
  }

  private async inviteWithPassword(invitation: PortalInvitation, clientId: string, record: EhrClient): Promise<void> {
    const { data } = invitation;
    if (!this.deps.ownAccountsEnabled) throw new PermanentEventError('portal.invited: delivery oneTimePassword needs own accounts (OWN_ACCOUNTS=1)');
    const email = data.email!.toLowerCase();
    const existing = await this.deps.accounts.findByEmail(email);
    // An account the person already uses keeps its password: it only gains the portal. One never used
    // (made by an earlier invitation, or this one before a failure) gets a fresh one-time password.
    const inUse = existing && existing.lastLoginAt && !(await this.deps.ownAccounts.mustChangePassword(existing.id));
    const account =
      existing ??
      (await this.deps.accounts.create({ email, displayName: data.name ?? (data.relation === PortalRelation.SELF ? record.name : 'Vertegenwoordiger') }));
    await this.deps.accounts.link(account.id, clientId, data.relation, [...ALL_PERMISSIONS], true);
    const portal = this.deps.portalUrl();
    const lines = inUse
      ? [
          `${this.sender} heeft een portaal aan uw account toegevoegd, als ${RELATION_NL[data.relation]}.`,
          '',
          `Log in op ${portal} met uw e-mailadres en uw eigen wachtwoord; in het menu wisselt u van portaal.`,
        ]
      : await this.oneTimePasswordLines(account.id, email, data.relation, portal);
    await this.deps.mail.send({
      to: email,
      subject: `Uw account voor het cliëntenportaal van ${this.deps.organisationName}`,
      text: [
        'Beste,',
        '',
        ...lines,
        '',
        'Heeft u deze e-mail niet verwacht? Neem dan contact op met uw behandelaar.',
        '',
        'Met vriendelijke groet,',
        this.deps.organisationName,
      ].join('\n'),
    });
    await this.logged(
      invitation,
      clientId,
      inUse ? 'portal added to an account in use' : 'one-time password',
      'Portaaltoegang: account aangemaakt',
      account.id,
    );
  }

  private async oneTimePasswordLines(accountId: string, email: string, relation: PortalRelation, portal: string): Promise<string[]> {
    const password = oneTimePassword();
    await this.deps.ownAccounts.setPassword(accountId, password, true);
    return [
      `${this.sender} heeft een account voor u aangemaakt voor het cliëntenportaal, als ${RELATION_NL[relation]}. Met het portaal ziet u onder meer afspraken en stuurt u beveiligd berichten.`,
      '',
      `Inlognaam: ${email}`,
      `Tijdelijk wachtwoord: ${password}`,
      '',
      'Zo logt u de eerste keer in:',
      `1. Ga naar ${portal} en log in met uw e-mailadres en het tijdelijke wachtwoord.`,
      '2. Vul de inlogcode in die we u daarna sturen (per sms of e-mail, 5 minuten geldig).',
      '3. Kies meteen een eigen wachtwoord: pas daarna opent het portaal. Minstens 12 tekens, met een cijfer, een hoofdletter, een kleine letter en een leesteken.',
    ];
  }

  /** The portal's client for the event: its own id, or the source system's id for a record that EHR knows. */
  private async resolveClient(invitation: PortalInvitation): Promise<{ clientId: string; record: EhrClient }> {
    const ref = invitation.clientRef;
    const ctx = { requestId: `sync:${invitation.eventId}` };
    const byOwnId = (await this.deps.clients.sourcesOf([ref])).get(ref) ?? [];
    const known = byOwnId.length ? ref : await this.deps.clients.existingClientId({ source: invitation.source, externalId: ref });
    let candidates = byOwnId;
    if (!byOwnId.length)
      candidates = known ? ((await this.deps.clients.sourcesOf([known])).get(known) ?? []) : [{ source: invitation.source, externalId: ref }];
    const sources = candidates.filter((s) => this.deps.registry.has(s.source));
    // The sending system's record first: it knows the client it invites for.
    sources.sort((a, b) => Number(b.source === invitation.source) - Number(a.source === invitation.source));
    for (const s of sources) {
      const record = await this.deps.registry.call(s.source, 'getClient', (a, attempt) => a.getClient(s.externalId, attempt.context(ctx)));
      if (record) return { clientId: known ?? (await this.deps.clients.ensureClient(s)), record };
    }
    throw new Error(`unknown client '${ref}' for source '${invitation.source}'`);
  }

  /** The access-log line (the portal's access to the client was created) and the operator's log line; no address in either. */
  private async logged(invitation: PortalInvitation, clientId: string, what: string, resource: string, accountId?: string): Promise<void> {
    await this.deps.audit.record({
      action: 'C',
      eventType: 'portal.invited',
      resource: `${resource} (${invitation.data.relation})`,
      clientId,
      accountId: accountId ?? null,
      actorName: invitation.source,
      actorRole: 'PRACTITIONER_SYSTEM',
      requestId: `sync:${invitation.eventId}`,
      treatmentRelationship: true,
    });
    this.deps.logger.info(
      { eventId: invitation.eventId, source: invitation.source, clientId, relation: invitation.data.relation, delivery: invitation.data.delivery, accountId },
      `portal invitation sent: ${what}`,
    );
  }
}

/** 16 characters in four groups, always with an upper-case and a lower-case letter, a digit and '-': it meets the password policy. */
export function oneTimePassword(): string {
  const upper = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
  const lower = 'abcdefghijkmnpqrstuvwxyz';
  const digits = '23456789';
  const all = upper + lower + digits;
  const pick = (set: string) => set[randomInt(0, set.length)];
  const group = (first: string) => first + pick(all) + pick(all) + pick(all);
  return [group(pick(upper)), group(pick(lower)), group(pick(digits)), group(pick(all))].join('-');
}
