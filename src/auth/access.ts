import type { EhrClient } from '../../adapters/ports';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { Permission, PortalRelation, type PortalAccess } from './permissions';
import { ageInYears, portalState, type PortalRuleSettings } from './portal-rules';
import type { AuthViewer } from './tokens';

/**
 * The one access gate: may this viewer do this to this client's portal now? Every GraphQL field,
 * mutation, subscription event, live room, file download, mail and approval asks it, by a named
 * action; nothing else reads the rights or the portal rules. The rules below are also the
 * documentation (docs/authorisation.md and the README are generated from them) and the expected
 * outcome of every cell of the authorisation matrix (test/authorization-matrix.test.ts).
 */
export enum Action {
  VIEW_PORTAL = 'VIEW_PORTAL',
  VIEW_AGENDA = 'VIEW_AGENDA',
  VIEW_ORGANISATION_AGENDA = 'VIEW_ORGANISATION_AGENDA',
  MANAGE_AGENDA = 'MANAGE_AGENDA',
  VIEW_DOSSIER = 'VIEW_DOSSIER',
  VIEW_QUESTIONNAIRES = 'VIEW_QUESTIONNAIRES',
  FILL_QUESTIONNAIRES = 'FILL_QUESTIONNAIRES',
  CHANGE_TREATMENT_GOALS = 'CHANGE_TREATMENT_GOALS',
  UPLOAD_DOCUMENT = 'UPLOAD_DOCUMENT',
  APPROVE_PLAN = 'APPROVE_PLAN',
  VIEW_CONSENTS = 'VIEW_CONSENTS',
  CHANGE_CONSENT = 'CHANGE_CONSENT',
  VIEW_JOURNAL = 'VIEW_JOURNAL',
  WRITE_JOURNAL = 'WRITE_JOURNAL',
  READ_MESSAGES = 'READ_MESSAGES',
  SEND_MESSAGE = 'SEND_MESSAGE',
  MESSAGES_TEAM = 'MESSAGES_TEAM',
  MESSAGES_PERSONAL_NETWORK = 'MESSAGES_PERSONAL_NETWORK',
  MESSAGES_TRUST_GROUP = 'MESSAGES_TRUST_GROUP',
  MESSAGES_CARE_ORGANISATION = 'MESSAGES_CARE_ORGANISATION',
  VIEW_NETWORK = 'VIEW_NETWORK',
  MANAGE_NETWORK = 'MANAGE_NETWORK',
  VIEW_ACCESS_LOG = 'VIEW_ACCESS_LOG',
  VIEW_VIDEO_CALL = 'VIEW_VIDEO_CALL',
  JOIN_VIDEO_CALL = 'JOIN_VIDEO_CALL',
  VIEW_EHEALTH_MODULES = 'VIEW_EHEALTH_MODULES',
  LAUNCH_EHEALTH_MODULE = 'LAUNCH_EHEALTH_MODULE',
}

/** The `extensions.reason` of a FORBIDDEN from the gate (README, "Refusals"). */
export enum Reason {
  PASSWORD_CHANGE_REQUIRED = 'PASSWORD_CHANGE_REQUIRED',
  NO_RELATION = 'NO_RELATION',
  NO_PERMISSION = 'NO_PERMISSION',
  CLIENT_ONLY = 'CLIENT_ONLY',
  OWN_LOGIN_FROM_12 = 'OWN_LOGIN_FROM_12',
  TREATMENT_ENDED = 'TREATMENT_ENDED',
  PORTAL_READ_ONLY = 'PORTAL_READ_ONLY',
  CHILD_DECIDES = 'CHILD_DECIDES',
}

export interface Rule {
  /** What it lets someone do, for the rights table. */
  title: string;
  /**
   * The network members who may: any one of these sets, every permission of the set held. The
   * client, a parent with authority and a representative may do everything but `clientOnly`.
   */
  members: readonly (readonly Permission[])[];
  /** Care-page admins among the network members may, whatever their permissions. */
  admins?: boolean;
  /** Only the client in person (SELF): not a parent, representative or network member. */
  clientOnly?: boolean;
  /** A network member may only where they take part (a TEAM conversation they started or joined). */
  membersAsParticipant?: boolean;
  /** A change: refused while the portal is read-only after treatment ended. */
  writes: boolean;
}

const { AGENDA_VIEW, AGENDA_MANAGE, AGENDA_VIEW_ORGANISATION, DOSSIER_VIEW, QUESTIONNAIRES_FILL, PLANS_APPROVE } = Permission;
const { MESSAGES_PERSONAL_NETWORK, MESSAGES_TRUST_GROUP, MESSAGES_CARE_ORGANISATION } = Permission;
/** The trust group is the network members with dossier access (Caren). */
const TRUST_GROUP = [MESSAGES_TRUST_GROUP, DOSSIER_VIEW] as const;
const ANY_MESSAGES = [[MESSAGES_PERSONAL_NETWORK], TRUST_GROUP, [MESSAGES_CARE_ORGANISATION]] as const;
const NONE: readonly (readonly Permission[])[] = [];
const ANY_LINK: readonly (readonly Permission[])[] = [[]];

export const RULES: Readonly<Record<Action, Rule>> = {
  VIEW_PORTAL: { title: 'see the portal: the client’s name and birth date, the dashboard', members: ANY_LINK, writes: false },
  VIEW_AGENDA: { title: 'see the appointments', members: [[AGENDA_VIEW], [AGENDA_MANAGE]], writes: false },
  VIEW_ORGANISATION_AGENDA: {
    title: 'also see the care organisation’s own appointments about the client',
    members: [[AGENDA_VIEW_ORGANISATION]],
    writes: false,
  },
  MANAGE_AGENDA: { title: 'manage the appointments', members: [[AGENDA_MANAGE]], writes: true },
  VIEW_DOSSIER: { title: 'see the dossier and download its documents', members: [[DOSSIER_VIEW]], writes: false },
  VIEW_QUESTIONNAIRES: { title: 'see the questionnaires', members: [[DOSSIER_VIEW]], writes: false },
  FILL_QUESTIONNAIRES: { title: 'fill in questionnaires', members: [[QUESTIONNAIRES_FILL, DOSSIER_VIEW]], writes: true },
  CHANGE_TREATMENT_GOALS: { title: 'add and remove treatment-plan goals', members: NONE, writes: true },
  UPLOAD_DOCUMENT: { title: 'add a document to the dossier', members: NONE, writes: true },
  APPROVE_PLAN: {
    title: 'approve a treatment plan, or a document or session report that asks for akkoord',
    members: [[PLANS_APPROVE, DOSSIER_VIEW]],
    writes: true,
  },
  VIEW_CONSENTS: { title: 'see the consents', members: [[DOSSIER_VIEW]], writes: false },
  CHANGE_CONSENT: { title: 'give or withdraw a consent', members: NONE, clientOnly: true, writes: true },
  VIEW_JOURNAL: { title: 'read the diary and the client story', members: NONE, writes: false },
  WRITE_JOURNAL: { title: 'write in the diary and the client story', members: NONE, writes: true },
  READ_MESSAGES: { title: 'open the messages (then per kind of conversation, below)', members: ANY_MESSAGES, writes: false },
  SEND_MESSAGE: { title: 'write, start and delete messages (then per kind of conversation, below)', members: ANY_MESSAGES, writes: true },
  MESSAGES_TEAM: { title: 'a conversation with the treatment team', members: [[MESSAGES_CARE_ORGANISATION]], membersAsParticipant: true, writes: false },
  MESSAGES_PERSONAL_NETWORK: { title: 'the personal-network channel', members: [[MESSAGES_PERSONAL_NETWORK]], writes: false },
  MESSAGES_TRUST_GROUP: { title: 'the trust-group channel', members: [TRUST_GROUP], writes: false },
  MESSAGES_CARE_ORGANISATION: { title: 'the care-organisation channel', members: [[MESSAGES_CARE_ORGANISATION]], writes: false },
  VIEW_NETWORK: { title: 'see the personal network', members: NONE, admins: true, writes: false },
  MANAGE_NETWORK: { title: 'invite, change and remove network members', members: NONE, admins: true, writes: true },
  VIEW_ACCESS_LOG: { title: 'read the access log', members: NONE, admins: true, writes: false },
  VIEW_VIDEO_CALL: { title: 'see whether the practitioner’s video room is open', members: [[AGENDA_VIEW], [AGENDA_MANAGE]], writes: false },
  JOIN_VIDEO_CALL: { title: 'join the video call (its link)', members: NONE, writes: false },
  // Then per module: the client their own Tasks, a parent or representative only a Task whose owner is their RelatedPerson (src/modules/ehealth).
  VIEW_EHEALTH_MODULES: { title: 'see the eHealth modules (Koppeltaal) one carries out', members: NONE, writes: false },
  LAUNCH_EHEALTH_MODULE: { title: 'open an eHealth module (an HTI launch)', members: NONE, writes: true },
};

/** Which action a conversation of each kind needs (beside READ_MESSAGES or SEND_MESSAGE). */
export const CONVERSATION_ACTION = {
  TEAM: Action.MESSAGES_TEAM,
  PERSONAL_NETWORK: Action.MESSAGES_PERSONAL_NETWORK,
  TRUST_GROUP: Action.MESSAGES_TRUST_GROUP,
  CARE_ORGANISATION: Action.MESSAGES_CARE_ORGANISATION,
} as const;
export type ConversationKindName = keyof typeof CONVERSATION_ACTION;

/** The portal-owned consent by which a child of 16 or older lets the parents see the portal. */
export const PARENT_ACCESS = 'PARENT_ACCESS';
/** A child has an own login from 12 (Tromp); under 12 only the parents with authority act (WGBO). */
export const OWN_LOGIN_FROM_AGE = 12;
/** From 16 the child decides whether the parents still see the portal (WGBO). */
export const CHILD_DECIDES_FROM_AGE = 16;

export type Rights = Readonly<Record<Action, boolean>>;

/** What the gate answers when it lets someone in: the link and every right it carries. */
export interface Grant {
  access: PortalAccess;
  can: Rights;
}

/** What of the client's record the portal rules read: age, and whether treatment ended. */
export type ClientProfile = Pick<EhrClient, 'birthDate' | 'inTreatment' | 'treatmentEndedAt'>;

export interface AccessSettings {
  TREATMENT_END_GRACE_DAYS: number;
  TREATMENT_END_READ_ONLY_DAYS: number;
}

function ruleAllows(rule: Rule, access: PortalAccess): boolean {
  if (rule.clientOnly) return access.relation === PortalRelation.SELF;
  if (access.relation !== PortalRelation.NETWORK_MEMBER) return true;
  if (rule.admins && access.isAdmin) return true;
  return rule.members.some((set) => set.every((p) => access.permissions.includes(p)));
}

const ACTIONS = Object.values(Action);
// A cache, keyed by the link object: a link read once (one request, or kept by the live checks)
// computes its rights once. Nothing else is kept; a new read of the links is a new object.
const rightsCache = new WeakMap<PortalAccess, Rights>();

/** Every right a link carries, before the portal rules (which hold for all actions alike). */
export function rightsOf(access: PortalAccess): Rights {
  let rights = rightsCache.get(access);
  if (!rights) {
    const built = {} as Record<Action, boolean>;
    for (const action of ACTIONS) built[action] = ruleAllows(RULES[action], access);
    rightsCache.set(access, (rights = built));
  }
  return rights;
}

/** Whether a conversation of this kind is open to a link's holder (a member in TEAM only as participant). */
export function mayReadConversation(grant: Grant, kind: ConversationKindName, isParticipant: boolean): boolean {
  const action = CONVERSATION_ACTION[kind];
  if (!grant.can[action]) return false;
  return !RULES[action].membersAsParticipant || grant.access.relation !== PortalRelation.NETWORK_MEMBER || isParticipant;
}

/** Starting a conversation: as reading one, as its first participant. */
export function mayStartConversation(grant: Grant, kind: ConversationKindName): boolean {
  return mayReadConversation(grant, kind, true);
}

const refusal = (reason: Reason, message: string, extra: Record<string, unknown> = {}) => new ForbiddenError(message, { reason, ...extra });

/**
 * The steps that need no I/O beyond the viewer's links: the session, the relation and the right.
 * Throws FORBIDDEN with the reason; answers the grant otherwise.
 */
export function grantFromLinks(viewer: Pick<AuthViewer, 'mustChangePassword'>, links: readonly PortalAccess[], clientId: string, action: Action): Grant {
  if (viewer.mustChangePassword) throw refusal(Reason.PASSWORD_CHANGE_REQUIRED, 'Set a new password first (changePassword).');
  const access = links.find((p) => p.clientId === clientId);
  if (!access) throw refusal(Reason.NO_RELATION, 'You have no access to this portal.');
  const can = rightsOf(access);
  if (!can[action]) {
    if (RULES[action].clientOnly) throw refusal(Reason.CLIENT_ONLY, 'Only the client can do this.', { action });
    throw refusal(Reason.NO_PERMISSION, `You have no permission for this part of the portal (${action}).`, { action });
  }
  return { access, can };
}

/** A parent's access to a child of 16 or older hangs on the child's consent, which is not in the record. */
export const ASK_CHILD_CONSENT = 'ask-child-consent';

/**
 * The portal rules on the client's record, without I/O: a refusal, null when access stands, or
 * ASK_CHILD_CONSENT when only the child's consent (PARENT_ACCESS) can decide. An unknown record
 * (no EHR answers) refuses nothing: the EHR being down is no reason to lock people out of what
 * the portal itself holds.
 */
export function portalRefusal(
  settings: AccessSettings,
  profile: ClientProfile | null,
  // Of the link, the rules read its relation alone (by type: the live rooms' batch decides once per relation).
  access: Pick<PortalAccess, 'relation'>,
  writes: boolean,
): ForbiddenError | typeof ASK_CHILD_CONSENT | null {
  const age = ageInYears(profile?.birthDate);
  if (access.relation === PortalRelation.SELF && age !== null && age < OWN_LOGIN_FROM_AGE) {
    return refusal(Reason.OWN_LOGIN_FROM_12, 'A child has an own login from 12; until then the parents with authority use the portal.');
  }
  const rules: PortalRuleSettings = { graceDays: settings.TREATMENT_END_GRACE_DAYS, readOnlyDays: settings.TREATMENT_END_READ_ONLY_DAYS };
  const state = portalState(profile, rules);
  if (state === 'closed') return refusal(Reason.TREATMENT_ENDED, 'This portal has closed because the treatment has ended.');
  if (state === 'read-only' && writes) return refusal(Reason.PORTAL_READ_ONLY, 'The treatment has ended: this portal can still be read but no longer changed.');
  if (restsOnChildConsent(access, profile)) return ASK_CHILD_CONSENT;
  return null;
}

/**
 * Whether a link's access to the client stands only by the child's consent (WGBO: from 16 the
 * child decides whether the parents see the portal): the gate then asks for PARENT_ACCESS, and
 * every access-log line of such an access says consent applied (NEN 7513). One rule for both.
 */
export function restsOnChildConsent(access: Pick<PortalAccess, 'relation'>, profile: Pick<ClientProfile, 'birthDate'> | null | undefined): boolean {
  if (access.relation !== PortalRelation.PARENT) return false;
  const age = ageInYears(profile?.birthDate);
  return age !== null && age >= CHILD_DECIDES_FROM_AGE;
}

export const childDecides = (): ForbiddenError =>
  refusal(Reason.CHILD_DECIDES, 'From 16 the client decides who sees the portal, and has not given parents access.');

/** What the gate reads for one decision; a request's context, a live room or a download provides it. */
export interface GateReader {
  viewer: AuthViewer | null;
  /** Why a presented token was refused, for a precise UNAUTHENTICATED. */
  authError?: UnauthenticatedError;
  settings: AccessSettings;
  portals(): Promise<readonly PortalAccess[]>;
  profile(clientId: string): Promise<ClientProfile | null>;
  /** Whether the child gave the parents access (PARENT_ACCESS). */
  childConsented(clientId: string): Promise<boolean>;
}

/** The gate for one viewer, one client and one action: the grant, or FORBIDDEN / UNAUTHENTICATED. */
export async function authorize(reader: GateReader, clientId: string, action: Action): Promise<Grant> {
  if (!reader.viewer) throw reader.authError ?? new UnauthenticatedError();
  const grant = grantFromLinks(reader.viewer, await reader.portals(), clientId, action);
  const refused = portalRefusal(reader.settings, await reader.profile(clientId), grant.access, RULES[action].writes);
  if (refused === ASK_CHILD_CONSENT) {
    if (!(await reader.childConsented(clientId))) throw childDecides();
  } else if (refused) throw refused;
  return grant;
}

/** The same decision, answered instead of thrown (a mail or a live event skips whoever may not). */
export async function decide(reader: GateReader, clientId: string, action: Action): Promise<Grant | ForbiddenError | UnauthenticatedError> {
  try {
    return await authorize(reader, clientId, action);
  } catch (err) {
    if (err instanceof ForbiddenError || err instanceof UnauthenticatedError) return err;
    throw err;
  }
}

export interface SeatReaders {
  /** Whether each session still stands (not revoked, not ended), in order. */
  sessionsActive(sessionIds: readonly string[]): Promise<boolean[]>;
  /** Each account's links, in order. */
  links(accountIds: readonly string[]): Promise<readonly (readonly PortalAccess[])[]>;
  profile(clientId: string): Promise<ClientProfile | null>;
  childConsented(clientId: string): Promise<boolean>;
  settings: AccessSettings;
}

/**
 * The batched form, for the subscribers of one event: the same rules as `authorize`, with one read
 * of the sessions, one of the links, one of the client's record and at most one of the child's
 * consent for all of them. Answers, per viewer in order, the grant, or null when the event must
 * not reach that viewer.
 */
export async function authorizeMany(readers: SeatReaders, clientId: string, viewers: readonly AuthViewer[], action: Action): Promise<(Grant | null)[]> {
  if (!viewers.length) return [];
  const [active, links, profile] = await Promise.all([
    readers.sessionsActive(viewers.map((v) => v.sessionId)),
    readers.links(viewers.map((v) => v.accountId)),
    readers.profile(clientId),
  ]);
  const writes = RULES[action].writes;
  // The portal rules read of a link its relation alone: worked out once per relation for all seats, not per seat.
  const refusals = new Map<PortalRelation, ReturnType<typeof portalRefusal>>();
  let consent: Promise<boolean> | undefined;
  let asked = false;
  const answers = viewers.map((viewer, i): Grant | null | Promise<Grant | null> => {
    if (!active[i]) return null;
    let grant: Grant;
    try {
      grant = grantFromLinks(viewer, links[i], clientId, action);
    } catch (err) {
      if (err instanceof ForbiddenError) return null;
      throw err;
    }
    let refused = refusals.get(grant.access.relation);
    if (refused === undefined) refusals.set(grant.access.relation, (refused = portalRefusal(readers.settings, profile, grant.access, writes)));
    if (refused === ASK_CHILD_CONSENT) {
      asked = true;
      consent ??= readers.childConsented(clientId);
      return consent.then((yes) => (yes ? grant : null));
    }
    return refused ? null : grant;
  });
  return asked ? Promise.all(answers.map((a) => Promise.resolve(a))) : (answers as (Grant | null)[]);
}
