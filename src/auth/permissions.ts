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

/** One account's link to one client's portal: the relation and, for network members, the rights granted. */
export interface PortalAccess {
  clientId: string;
  relation: PortalRelation;
  permissions: readonly Permission[];
  isAdmin: boolean;
}

/** The permissions a relation carries: the client and whoever acts for them hold every one. */
export function effectivePermissions(access: Pick<PortalAccess, 'relation' | 'permissions'>): Permission[] {
  return access.relation === PortalRelation.NETWORK_MEMBER ? [...access.permissions] : [...ALL_PERMISSIONS];
}

/**
 * Permissions that build on dossier access (Caren): filling in questionnaires, approving plans,
 * and the trust group, which is the network members who have dossier access.
 */
export const NEEDS_DOSSIER_VIEW: readonly Permission[] = [Permission.QUESTIONNAIRES_FILL, Permission.PLANS_APPROVE, Permission.MESSAGES_TRUST_GROUP];

/** Refuses permission sets that break the manual's dependencies (e.g. approving plans without dossier view). */
export function permissionSetProblem(permissions: readonly Permission[]): string | null {
  const has = new Set(permissions);
  for (const dependent of NEEDS_DOSSIER_VIEW) {
    if (has.has(dependent) && !has.has(Permission.DOSSIER_VIEW)) return `${dependent} needs DOSSIER_VIEW`;
  }
  return null;
}
