import { registerEnumType } from 'type-graphql';

export enum PortalRelation {
  SELF = 'SELF',
  PARENT = 'PARENT',
  REPRESENTATIVE = 'REPRESENTATIVE',
  NETWORK_MEMBER = 'NETWORK_MEMBER',
}
registerEnumType(PortalRelation, { name: 'PortalRelation' });

export enum Permission {
  AGENDA_VIEW = 'AGENDA_VIEW',
  AGENDA_MANAGE = 'AGENDA_MANAGE',
  AGENDA_VIEW_ORGANISATION = 'AGENDA_VIEW_ORGANISATION',
  DOSSIER_VIEW = 'DOSSIER_VIEW',
  QUESTIONNAIRES_FILL = 'QUESTIONNAIRES_FILL',
  PLANS_APPROVE = 'PLANS_APPROVE',
  MESSAGES_PERSONAL_NETWORK = 'MESSAGES_PERSONAL_NETWORK',
  MESSAGES_TRUST_GROUP = 'MESSAGES_TRUST_GROUP',
  MESSAGES_CARE_ORGANISATION = 'MESSAGES_CARE_ORGANISATION',
}
registerEnumType(Permission, { name: 'Permission' });

export const ALL_PERMISSIONS: readonly Permission[] = Object.values(Permission);

/** What one account may do in one client's portal: the relation and, for network members, rights. */
export interface PortalAccess {
  clientId: string;
  relation: PortalRelation;
  permissions: readonly Permission[];
  isAdmin: boolean;
}

export interface Abilities {
  viewPortal: boolean;
  viewDossier: boolean;
  viewAgenda: boolean;
  manageAgenda: boolean;
  viewOrganisationAgenda: boolean;
  fillQuestionnaires: boolean;
  approvePlans: boolean;
  messagePersonalNetwork: boolean;
  messageTrustGroup: boolean;
  messageCareOrganisation: boolean;
  /** Diary, story, consents, goals: the client's own voice (SELF) or whoever acts for the client. */
  actForClient: boolean;
  manageNetwork: boolean;
  viewAccessLog: boolean;
  /** Whether the practitioner's video room is open: it is an appointment, so agenda rights see it. */
  viewVideoCall: boolean;
  /** The room's link is the client's seat in the session: only the client or whoever acts for them. */
  joinVideoCall: boolean;
}

const NONE: Abilities = {
  viewPortal: false,
  viewDossier: false,
  viewAgenda: false,
  manageAgenda: false,
  viewOrganisationAgenda: false,
  fillQuestionnaires: false,
  approvePlans: false,
  messagePersonalNetwork: false,
  messageTrustGroup: false,
  messageCareOrganisation: false,
  actForClient: false,
  manageNetwork: false,
  viewAccessLog: false,
  viewVideoCall: false,
  joinVideoCall: false,
};

/** The rights a relation carries: the client and whoever acts for them hold every right. */
export function effectivePermissions(access: Pick<PortalAccess, 'relation' | 'permissions'>): Permission[] {
  return access.relation === PortalRelation.NETWORK_MEMBER ? [...access.permissions] : [...ALL_PERMISSIONS];
}

/**
 * The one rule book: resolvers, subscription filters and the authorisation-matrix test all ask it.
 * Rights that build on dossier access (questionnaires, plan approval) need DOSSIER_VIEW too.
 */
export function abilities(access: PortalAccess | null | undefined): Abilities {
  if (!access) return NONE;
  const has = new Set(effectivePermissions(access));
  const dossier = has.has(Permission.DOSSIER_VIEW);
  const acting = access.relation !== PortalRelation.NETWORK_MEMBER;
  return {
    viewPortal: true,
    viewDossier: dossier,
    viewAgenda: has.has(Permission.AGENDA_VIEW) || has.has(Permission.AGENDA_MANAGE),
    manageAgenda: has.has(Permission.AGENDA_MANAGE),
    viewOrganisationAgenda: has.has(Permission.AGENDA_VIEW_ORGANISATION),
    fillQuestionnaires: dossier && has.has(Permission.QUESTIONNAIRES_FILL),
    approvePlans: dossier && has.has(Permission.PLANS_APPROVE),
    messagePersonalNetwork: has.has(Permission.MESSAGES_PERSONAL_NETWORK),
    messageTrustGroup: has.has(Permission.MESSAGES_TRUST_GROUP),
    messageCareOrganisation: has.has(Permission.MESSAGES_CARE_ORGANISATION),
    actForClient: acting,
    manageNetwork: acting || access.isAdmin,
    viewAccessLog: acting || access.isAdmin,
    viewVideoCall: acting || has.has(Permission.AGENDA_VIEW) || has.has(Permission.AGENDA_MANAGE),
    joinVideoCall: acting,
  };
}

/** Refuses permission sets that break the manual's dependencies (e.g. approving plans without dossier view). */
export function permissionSetProblem(permissions: readonly Permission[]): string | null {
  const has = new Set(permissions);
  for (const dependent of [Permission.QUESTIONNAIRES_FILL, Permission.PLANS_APPROVE]) {
    if (has.has(dependent) && !has.has(Permission.DOSSIER_VIEW)) return `${dependent} needs DOSSIER_VIEW`;
  }
  return null;
}
