import { dutchDate, nextDay, startOfDutchDay } from './ports';

describe('Dutch calendar days', () => {
  it('gives the date in the Netherlands, which begins before UTC’s (an hour in winter, two in summer)', () => {
    expect(dutchDate(new Date('2026-06-09T21:59:59Z'))).toBe('2026-06-09');
    expect(dutchDate(new Date('2026-06-09T22:00:00Z'))).toBe('2026-06-10');
    expect(dutchDate(new Date('2026-01-09T22:59:59Z'))).toBe('2026-01-09');
    expect(dutchDate(new Date('2026-01-09T23:00:00Z'))).toBe('2026-01-10');
    expect(dutchDate('2026-03-31T22:30:00.000Z')).toBe('2026-04-01');
  });

  it('finds where a Dutch day begins, across both clock changes', () => {
    expect(startOfDutchDay('2026-06-10').toISOString()).toBe('2026-06-09T22:00:00.000Z');
    expect(startOfDutchDay('2026-01-10').toISOString()).toBe('2026-01-09T23:00:00.000Z');
    // The clocks go forward on 29 March 2026 at 02:00 and back on 25 October at 03:00.
    expect(startOfDutchDay('2026-03-29').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfDutchDay('2026-03-30').toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(startOfDutchDay('2026-10-25').toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(startOfDutchDay('2026-10-26').toISOString()).toBe('2026-10-25T23:00:00.000Z');
    expect(nextDay('2026-02-28')).toBe('2026-03-01');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
  });
});
