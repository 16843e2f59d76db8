import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { check as isCommonPassword } from 'dumb-passwords';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

/** scrypt (memory-hard, in node:crypto): N=2^15, r=8, p=1 → 32 MiB per hash. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFC'), salt, 32, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password.normalize('NFC'), Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: PARAMS.maxmem,
  });
  return timingSafeEqual(key, expected);
}

/** A hash to verify against when the account does not exist, so timing does not reveal accounts. */
export const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * The manuals' policy (Caren, Tromp): at least 12 characters with a digit, a lower-case and an
 * upper-case letter and a special character; and not one of the most common passwords.
 */
export function passwordProblem(password: string, email?: string | null): string | null {
  if (password.length < 12) return 'it needs at least 12 characters';
  if (password.length > 128) return 'it may have at most 128 characters';
  if (!/\d/.test(password)) return 'it needs a digit';
  if (!/\p{Ll}/u.test(password)) return 'it needs a lower-case letter';
  if (!/\p{Lu}/u.test(password)) return 'it needs an upper-case letter';
  if (!/[^\p{L}\p{N}]/u.test(password)) return 'it needs a special character';
  const lower = password.toLowerCase();
  const core = lower.replace(/[^a-z]/g, '');
  if (isCommonPassword(password) || isCommonPassword(core) || /wachtwoord|welkom|password|qwerty|azerty|geheim/.test(lower)) {
    return 'it is a commonly used password';
  }
  const local = email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) return 'it contains your e-mail address';
  return null;
}
