import { hashPassword, passwordProblem, verifyPassword } from './password';

describe('the password policy of the manuals', () => {
  it('accepts a long password with a digit, both cases and a special character', () => {
    expect(passwordProblem('Zonnig-Weer-2027#')).toBeNull();
  });
  it.each([
    ['Kort-1a!', /12 characters/],
    ['zonder-hoofdletter-1', /upper-case/],
    ['ZONDER-KLEINE-LETTER-1', /lower-case/],
    ['Zonder-Cijfers-Hier', /digit/],
    ['ZonderSpeciaal12345', /special/],
    ['Password123456!', /commonly used/],
    ['Wachtwoord-2026!', /commonly used/],
  ])('refuses %s', (password, reason) => {
    expect(passwordProblem(password)).toMatch(reason);
  });
  it('refuses a password built on the e-mail address', () => {
    expect(passwordProblem('Karen.Test-2026!', 'karen.test@example.nl')).toMatch(/e-mail/);
  });
  it('stores a salted scrypt hash that verifies only the right password', async () => {
    const hash = await hashPassword('Zonnig-Weer-2027#');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(hash).not.toContain('Zonnig');
    expect(await verifyPassword('Zonnig-Weer-2027#', hash)).toBe(true);
    expect(await verifyPassword('Zonnig-Weer-2027$', hash)).toBe(false);
    expect(await hashPassword('Zonnig-Weer-2027#')).not.toBe(hash);
  });
});
