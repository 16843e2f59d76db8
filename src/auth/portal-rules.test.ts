import { PortalRelation } from './permissions';
import { ageInYears, parentMayAccess, portalState } from './portal-rules';

const settings = { graceDays: 7, readOnlyDays: 30 };
const endedDaysAgo = (days: number) => ({ inTreatment: false, treatmentEndedAt: new Date(Date.now() - days * 86_400_000).toISOString() });

describe('portal rules', () => {
  it('keeps the portal open during treatment and the grace period, read-only after, then closed', () => {
    expect(portalState({ inTreatment: true }, settings)).toBe('open');
    expect(portalState(endedDaysAgo(3), settings)).toBe('open');
    expect(portalState(endedDaysAgo(10), settings)).toBe('read-only');
    expect(portalState(endedDaysAgo(40), settings)).toBe('closed');
  });

  it('counts age in whole years on the birthday', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    expect(ageInYears('2010-11-23', now)).toBe(16);
    expect(ageInYears('2010-11-24', now)).toBe(15);
    expect(ageInYears(null, now)).toBeNull();
  });

  it('answers the same birth date asked again on another day by that day (the kept answer is one day’s)', () => {
    expect(ageInYears('2010-11-23', new Date('2026-11-22T22:59:00Z'))).toBe(15);
    expect(ageInYears('2010-11-23', new Date('2026-11-22T23:01:00Z'))).toBe(16);
    expect(ageInYears('2010-11-23', new Date('2026-11-22T08:00:00Z'))).toBe(15);
    expect(ageInYears('2010-11-24', new Date('2026-11-22T08:00:00Z'))).toBe(15);
    expect(ageInYears('2010-11-23', new Date('2027-11-23T08:00:00Z'))).toBe(17);
  });

  it('counts a birthday from midnight in the Netherlands, not in UTC (winter and summer time)', () => {
    // 00:30 on the 16th birthday in Amsterdam is still the day before in UTC: the child is 16, the parent needs consent.
    expect(ageInYears('2010-06-10', new Date('2026-06-09T22:30:00Z'))).toBe(16);
    expect(ageInYears('2010-06-10', new Date('2026-06-09T21:59:00Z'))).toBe(15);
    expect(ageInYears('2014-01-10', new Date('2026-01-09T23:30:00Z'))).toBe(12);
    expect(ageInYears('2014-01-10', new Date('2026-01-09T22:59:00Z'))).toBe(11);
  });

  it('lets a parent see a child under 16, and a child from 16 only with the child’s consent', () => {
    expect(parentMayAccess(PortalRelation.PARENT, 14, false)).toBe(true);
    expect(parentMayAccess(PortalRelation.PARENT, 16, false)).toBe(false);
    expect(parentMayAccess(PortalRelation.PARENT, 17, true)).toBe(true);
    expect(parentMayAccess(PortalRelation.SELF, 17, false)).toBe(true);
  });
});
