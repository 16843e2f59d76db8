import {
  Action,
  ASK_CHILD_CONSENT,
  authorizeMany,
  decide,
  grantFromLinks,
  mayReadConversation,
  mayStartConversation,
  portalRefusal,
  Reason,
  rightsOf,
} from './access';
import { ALL_PERMISSIONS, Permission, PortalRelation, permissionSetProblem, type PortalAccess } from './permissions';

const link = (relation: PortalRelation, permissions: Permission[] = [], isAdmin = false): PortalAccess => ({ clientId: 'c1', relation, permissions, isAdmin });
const member = (...permissions: Permission[]) => link(PortalRelation.NETWORK_MEMBER, permissions);
const grant = (access: PortalAccess) => ({ access, can: rightsOf(access) });
const viewer = { mustChangePassword: false };
const settings = { TREATMENT_END_GRACE_DAYS: 0, TREATMENT_END_READ_ONLY_DAYS: 30 };
const DAY = 86_400_000;
const born = (years: number) => new Date(Date.now() - years * 365.25 * DAY).toISOString().slice(0, 10);
const why = (r: unknown) => r as { extensions: { reason: string } };
const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return why(err).extensions.reason;
  }
  return null;
};

describe('the rights a link carries', () => {
  it('gives the client (SELF), a parent and a representative every right but the client’s own consent', () => {
    for (const relation of [PortalRelation.SELF, PortalRelation.PARENT, PortalRelation.REPRESENTATIVE]) {
      const can = rightsOf(link(relation));
      for (const action of Object.values(Action))
        expect([action, can[action]]).toEqual([action, action !== Action.CHANGE_CONSENT || relation === PortalRelation.SELF]);
    }
  });

  it('gives a network member with only AGENDA_VIEW the agenda and the video room, not the dossier, consents, log or link', () => {
    const can = rightsOf(member(Permission.AGENDA_VIEW));
    expect(can.VIEW_AGENDA && can.VIEW_VIDEO_CALL && can.VIEW_PORTAL).toBe(true);
    expect(can.VIEW_DOSSIER || can.VIEW_CONSENTS || can.VIEW_ACCESS_LOG || can.JOIN_VIDEO_CALL || can.VIEW_ORGANISATION_AGENDA || can.READ_MESSAGES).toBe(
      false,
    );
  });

  it('does not let rights that build on the dossier work without DOSSIER_VIEW, and refuses granting them', () => {
    for (const p of [Permission.PLANS_APPROVE, Permission.QUESTIONNAIRES_FILL, Permission.MESSAGES_TRUST_GROUP]) {
      expect(permissionSetProblem([p])).toMatch(/DOSSIER_VIEW/);
      expect(permissionSetProblem([p, Permission.DOSSIER_VIEW])).toBeNull();
    }
    expect(rightsOf(member(Permission.PLANS_APPROVE)).APPROVE_PLAN).toBe(false);
    expect(rightsOf(member(Permission.PLANS_APPROVE, Permission.DOSSIER_VIEW)).APPROVE_PLAN).toBe(true);
    expect(rightsOf(member(Permission.QUESTIONNAIRES_FILL)).FILL_QUESTIONNAIRES).toBe(false);
    expect(permissionSetProblem([...ALL_PERMISSIONS])).toBeNull();
  });

  it('keeps the trust group for network members with dossier access (Caren): MESSAGES_TRUST_GROUP alone reads nothing', () => {
    const alone = grant(member(Permission.MESSAGES_TRUST_GROUP));
    expect(alone.can.READ_MESSAGES).toBe(false);
    expect(mayReadConversation(alone, 'TRUST_GROUP', false)).toBe(false);
    expect(mayReadConversation(grant(member(Permission.MESSAGES_TRUST_GROUP, Permission.DOSSIER_VIEW)), 'TRUST_GROUP', false)).toBe(true);
  });

  it('gives a network member each group channel only with its MESSAGES_* permission, and a TEAM conversation only as participant', () => {
    expect(rightsOf(member(Permission.AGENDA_VIEW, Permission.DOSSIER_VIEW)).READ_MESSAGES).toBe(false);
    expect(mayReadConversation(grant(member(Permission.MESSAGES_PERSONAL_NETWORK)), 'PERSONAL_NETWORK', false)).toBe(true);
    expect(mayReadConversation(grant(member(Permission.MESSAGES_PERSONAL_NETWORK)), 'TRUST_GROUP', false)).toBe(false);
    expect(mayReadConversation(grant(member(Permission.MESSAGES_CARE_ORGANISATION)), 'CARE_ORGANISATION', false)).toBe(true);
    const carer = grant(member(Permission.MESSAGES_CARE_ORGANISATION));
    expect(mayReadConversation(carer, 'TEAM', false)).toBe(false);
    expect(mayReadConversation(carer, 'TEAM', true)).toBe(true);
    expect(mayStartConversation(carer, 'TEAM')).toBe(true);
    expect(mayStartConversation(grant(member(Permission.MESSAGES_PERSONAL_NETWORK)), 'TEAM')).toBe(false);
    expect(mayReadConversation(grant(link(PortalRelation.SELF)), 'TEAM', false)).toBe(true);
  });

  it('lets an admin network member manage the network and read the access log, but never act for the client', () => {
    const can = rightsOf(link(PortalRelation.NETWORK_MEMBER, [], true));
    expect(can.MANAGE_NETWORK && can.VIEW_NETWORK && can.VIEW_ACCESS_LOG).toBe(true);
    expect(can.WRITE_JOURNAL || can.JOIN_VIDEO_CALL || can.CHANGE_CONSENT).toBe(false);
    expect(rightsOf(link(PortalRelation.NETWORK_MEMBER, [...ALL_PERMISSIONS], true)).JOIN_VIDEO_CALL).toBe(false);
  });
});

describe('the gate’s decision', () => {
  it('refuses, in this order: a password to replace, no relation, a missing right', () => {
    const links = [member(Permission.AGENDA_VIEW)];
    expect(reasonOf(() => grantFromLinks({ mustChangePassword: true }, links, 'c1', Action.VIEW_AGENDA))).toBe(Reason.PASSWORD_CHANGE_REQUIRED);
    expect(reasonOf(() => grantFromLinks(viewer, links, 'other', Action.VIEW_AGENDA))).toBe(Reason.NO_RELATION);
    expect(reasonOf(() => grantFromLinks(viewer, links, 'c1', Action.VIEW_DOSSIER))).toBe(Reason.NO_PERMISSION);
    expect(reasonOf(() => grantFromLinks(viewer, [link(PortalRelation.PARENT)], 'c1', Action.CHANGE_CONSENT))).toBe(Reason.CLIENT_ONLY);
    expect(grantFromLinks(viewer, links, 'c1', Action.VIEW_AGENDA).access.clientId).toBe('c1');
  });

  it('gives a child an own login from 12 only (Tromp): under 12 the SELF link opens nothing; the parents keep access', () => {
    const profile = (age: number) => ({ birthDate: born(age), inTreatment: true });
    expect(why(portalRefusal(settings, profile(9), link(PortalRelation.SELF), false)).extensions.reason).toBe(Reason.OWN_LOGIN_FROM_12);
    expect(portalRefusal(settings, profile(12.1), link(PortalRelation.SELF), false)).toBeNull();
    expect(portalRefusal(settings, profile(9), link(PortalRelation.PARENT), false)).toBeNull();
  });

  it('leaves a parent’s access to a child of 16 to the child’s consent; under 16 it stands', () => {
    expect(portalRefusal(settings, { birthDate: born(16.2) }, link(PortalRelation.PARENT), false)).toBe(ASK_CHILD_CONSENT);
    expect(portalRefusal(settings, { birthDate: born(15.8) }, link(PortalRelation.PARENT), false)).toBeNull();
    expect(portalRefusal(settings, { birthDate: born(16.2) }, link(PortalRelation.SELF), false)).toBeNull();
  });

  it('keeps a portal readable but not changeable after treatment ended, then closes it', () => {
    const ended = (days: number) => ({ birthDate: born(40), inTreatment: false, treatmentEndedAt: new Date(Date.now() - days * DAY).toISOString() });
    const self = link(PortalRelation.SELF);
    expect(portalRefusal(settings, ended(10), self, false)).toBeNull();
    expect(why(portalRefusal(settings, ended(10), self, true)).extensions.reason).toBe(Reason.PORTAL_READ_ONLY);
    expect(why(portalRefusal(settings, ended(40), self, false)).extensions.reason).toBe(Reason.TREATMENT_ENDED);
  });
});

describe('the batched gate for the subscribers of one event', () => {
  const viewerOf = (n: number, mustChangePassword = false) => ({ accountId: `a${n}`, sessionId: `s${n}`, tokenId: `t${n}`, expiresAt: 0, mustChangePassword });
  const parent = link(PortalRelation.PARENT);
  const self = link(PortalRelation.SELF);
  const agendaOnly = member(Permission.AGENDA_VIEW);
  const readers = (childAgeYears: number, consented: boolean, counts: { consent: number }) => ({
    settings,
    sessionsActive: async (ids: readonly string[]) => ids.map((id) => id !== 's3'),
    links: async (ids: readonly string[]) =>
      ids.map((id) => ({ a0: [self], a1: [parent], a2: [agendaOnly], a3: [parent], a4: [parent], a5: [self] })[id] ?? []),
    profile: async () => ({ birthDate: born(childAgeYears), inTreatment: true, treatmentEndedAt: null }),
    childConsented: async () => (counts.consent++, consented),
  });
  const viewers = [viewerOf(0), viewerOf(1), viewerOf(2), viewerOf(3), viewerOf(4), viewerOf(5, true)];

  it('answers each seat as the gate answers it alone: relations decided once each, the child asked at most once', async () => {
    for (const [age, consented, expected] of [
      // A client of 17: the parents by the child's consent only; a member without the dossier right; an ended session; a password to replace.
      [17, false, [true, false, false, false, false, false]],
      [17, true, [true, true, false, false, true, false]],
      // Under 16 the parents see the portal without consent; under 12 the client has no own login.
      [14, false, [true, true, false, false, true, false]],
      [10, false, [false, true, false, false, true, false]],
    ] as const) {
      const counts = { consent: 0 };
      const batch = await authorizeMany(readers(age, consented, counts), 'c1', viewers, Action.VIEW_DOSSIER);
      expect([age, consented, batch.map((g) => g !== null)]).toEqual([age, consented, expected]);
      expect(counts.consent).toBeLessThanOrEqual(1);
      const alone = await Promise.all(
        viewers.map(async (v, i) => {
          const r = readers(age, consented, { consent: 0 });
          const links = (await r.links([v.accountId]))[0];
          if (!(await r.sessionsActive([v.sessionId]))[0]) return false;
          const answer = await decide(
            { viewer: v, settings, portals: async () => [...links], profile: r.profile, childConsented: r.childConsented },
            'c1',
            Action.VIEW_DOSSIER,
          );
          return !(answer instanceof Error) && batch[i]?.access === answer.access;
        }),
      );
      expect(alone).toEqual(expected);
    }
  });
});
