import { abilities, Permission, PortalRelation } from '../../auth/abilities';
import { checkBody, checkSubject, mayReadConversation, mayStartConversation, mayUseMessages } from './message-rules';

const member = (...permissions: Permission[]) => abilities({ clientId: 'c', relation: PortalRelation.NETWORK_MEMBER, permissions, isAdmin: false });
const self = abilities({ clientId: 'c', relation: PortalRelation.SELF, permissions: [], isAdmin: true });

describe('message rules', () => {
  it('lets the client and whoever acts for them read and start every kind of conversation', () => {
    for (const relation of [PortalRelation.SELF, PortalRelation.PARENT, PortalRelation.REPRESENTATIVE]) {
      const can = abilities({ clientId: 'c', relation, permissions: [], isAdmin: false });
      for (const kind of ['TEAM', 'PERSONAL_NETWORK', 'TRUST_GROUP', 'CARE_ORGANISATION'] as const) {
        expect(mayReadConversation(can, kind, false)).toBe(true);
        expect(mayStartConversation(can, kind)).toBe(true);
      }
    }
  });

  it('gives a network member each group channel only with its MESSAGES_* permission', () => {
    expect(mayUseMessages(member(Permission.AGENDA_VIEW, Permission.DOSSIER_VIEW))).toBe(false);
    expect(mayReadConversation(member(Permission.MESSAGES_PERSONAL_NETWORK), 'PERSONAL_NETWORK', false)).toBe(true);
    expect(mayReadConversation(member(Permission.MESSAGES_PERSONAL_NETWORK), 'TRUST_GROUP', false)).toBe(false);
    expect(mayReadConversation(member(Permission.MESSAGES_TRUST_GROUP), 'TRUST_GROUP', false)).toBe(true);
    expect(mayReadConversation(member(Permission.MESSAGES_TRUST_GROUP), 'CARE_ORGANISATION', false)).toBe(false);
    expect(mayReadConversation(member(Permission.MESSAGES_CARE_ORGANISATION), 'CARE_ORGANISATION', false)).toBe(true);
  });

  it('keeps the client\'s own TEAM conversations from network members who did not take part', () => {
    const carer = member(Permission.MESSAGES_CARE_ORGANISATION);
    expect(mayReadConversation(carer, 'TEAM', false)).toBe(false);
    expect(mayReadConversation(carer, 'TEAM', true)).toBe(true);
    expect(mayStartConversation(carer, 'TEAM')).toBe(true);
    expect(mayStartConversation(member(Permission.MESSAGES_PERSONAL_NETWORK), 'TEAM')).toBe(false);
    expect(mayReadConversation(self, 'TEAM', false)).toBe(true);
  });

  it('trims bodies and counts characters, not UTF-16 units, against 1..1000 and subjects against 1..200', () => {
    expect(checkBody('  hallo \n')).toBe('hallo');
    expect(checkBody('😀'.repeat(1000))).toHaveLength(2000);
    expect(() => checkBody('😀'.repeat(1001))).toThrow(/at most 1000/);
    expect(() => checkBody(' \t ')).toThrow(/empty/);
    expect(() => checkSubject('x'.repeat(201))).toThrow(/at most 200/);
    expect(() => checkSubject('')).toThrow(/empty/);
  });
});
