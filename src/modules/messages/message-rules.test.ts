import { checkBody, checkSubject } from './message-rules';

describe('message rules', () => {
  it('trims bodies and counts characters, not UTF-16 units, against 1..1000 and subjects against 1..200', () => {
    expect(checkBody('  hallo \n')).toBe('hallo');
    expect(checkBody('😀'.repeat(1000))).toHaveLength(2000);
    expect(() => checkBody('😀'.repeat(1001))).toThrow(/at most 1000/);
    expect(() => checkBody(' \t ')).toThrow(/empty/);
    expect(() => checkSubject('x'.repeat(201))).toThrow(/at most 200/);
    expect(() => checkSubject('')).toThrow(/empty/);
  });
});
