import { abilities, ALL_PERMISSIONS, Permission, PortalRelation, permissionSetProblem } from './abilities';

const link = (relation: PortalRelation, permissions: Permission[] = [], isAdmin = false) => ({ clientId: 'c1', relation, permissions, isAdmin });

describe('abilities', () => {
  it('gives a viewer without a relation nothing at all', () => {
    expect(Object.values(abilities(null)).some(Boolean)).toBe(false);
  });

  it('gives the client (SELF) and a parent every right, whatever is stored', () => {
    for (const relation of [PortalRelation.SELF, PortalRelation.PARENT]) {
      const a = abilities(link(relation));
      expect(a.viewDossier && a.viewAgenda && a.viewOrganisationAgenda && a.approvePlans && a.manageNetwork).toBe(true);
    }
  });

  it('gives a network member with only AGENDA_VIEW the agenda but not the dossier', () => {
    const a = abilities(link(PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW]));
    expect(a.viewAgenda).toBe(true);
    expect(a.viewDossier).toBe(false);
    expect(a.viewOrganisationAgenda).toBe(false);
    expect(a.manageNetwork).toBe(false);
    expect(a.viewAccessLog).toBe(false);
  });

  it('does not let a network member approve plans without DOSSIER_VIEW', () => {
    expect(abilities(link(PortalRelation.NETWORK_MEMBER, [Permission.PLANS_APPROVE])).approvePlans).toBe(false);
    expect(permissionSetProblem([Permission.PLANS_APPROVE])).toMatch(/DOSSIER_VIEW/);
    expect(permissionSetProblem([...ALL_PERMISSIONS])).toBeNull();
  });

  it('lets an admin network member manage the network and read the access log', () => {
    const a = abilities(link(PortalRelation.NETWORK_MEMBER, [], true));
    expect(a.manageNetwork && a.viewAccessLog).toBe(true);
    expect(a.actForClient).toBe(false);
  });
});

describe('video-call abilities', () => {
  it('lets the client, a parent and a representative see the room and join it', () => {
    for (const relation of [PortalRelation.SELF, PortalRelation.PARENT, PortalRelation.REPRESENTATIVE]) {
      const a = abilities(link(relation));
      expect(a.viewVideoCall && a.joinVideoCall).toBe(true);
    }
  });

  it('shows a network member with agenda rights that the room is open, but never lets them join', () => {
    const a = abilities(link(PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW]));
    expect(a.viewVideoCall).toBe(true);
    expect(a.joinVideoCall).toBe(false);
    expect(abilities(link(PortalRelation.NETWORK_MEMBER, [...ALL_PERMISSIONS], true)).joinVideoCall).toBe(false);
  });

  it('shows a network member without agenda rights nothing of the room', () => {
    const a = abilities(link(PortalRelation.NETWORK_MEMBER, [Permission.DOSSIER_VIEW]));
    expect(a.viewVideoCall || a.joinVideoCall).toBe(false);
  });
});
