import { createPrivateKey, createPublicKey, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config';
import { UnauthenticatedError } from '../errors';

/** The authenticated caller of one request or socket. */
export interface AuthViewer {
  accountId: string;
  sessionId: string;
  tokenId: string;
  expiresAt: number;
  /** Logged in with a password that must be replaced first: no client data until then. */
  mustChangePassword: boolean;
}

export const TOKEN_ISSUER = 'ggz-portal-gateway';
export const TOKEN_AUDIENCE = 'ggz-portal';
const CLOCK_TOLERANCE_SECONDS = 5;

export interface AccessClaims {
  /** account id */
  sub: string;
  /** session id */
  sid: string;
  /** token id, for the deny-list */
  jti: string;
  exp: number;
  /** Password change required before anything else. */
  pwc: boolean;
}

interface SigningKey {
  kid: string;
  algorithm: Algorithm;
  sign: string | KeyObject;
  verify: string | KeyObject;
}

/**
 * Signs and verifies access tokens. The algorithm is pinned by the key (HS256 for a secret,
 * RS256/ES256 for a PEM key); issuer, audience and a small clock tolerance are always checked,
 * and a token whose `kid` is not ours is refused.
 */
export class TokenService {
  private readonly keys = new Map<string, SigningKey>();
  private readonly current: SigningKey;
  /**
   * Tokens whose signature and claims already checked out, until they expire: a portal sends the
   * same token with every request, and verifying it again is a tenth of a small request's CPU.
   * Revocation is not cached here; the session check after this runs on every request.
   */
  private readonly verified = new LRUCache<string, AccessClaims>({ max: 20_000 });

  constructor(
    key: Config['sessionKey'],
    kid: string,
    private readonly ttlSeconds: number,
  ) {
    this.current = toSigningKey(key, kid);
    this.keys.set(kid, this.current);
  }

  /** Keeps accepting tokens of a previous key during rotation. */
  addVerificationKey(key: Config['sessionKey'], kid: string): void {
    this.keys.set(kid, toSigningKey(key, kid));
  }

  sign(accountId: string, sessionId: string, mustChangePassword = false): { accessToken: string; expiresAt: Date; jti: string } {
    const jti = randomUUID();
    const accessToken = jwt.sign(mustChangePassword ? { sid: sessionId, pwc: true } : { sid: sessionId }, this.current.sign, {
      algorithm: this.current.algorithm,
      keyid: this.current.kid,
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      subject: accountId,
      jwtid: jti,
      expiresIn: this.ttlSeconds,
    });
    const { exp } = jwt.decode(accessToken) as JwtPayload;
    return { accessToken, expiresAt: new Date(exp! * 1000), jti };
  }

  verify(token: string): AccessClaims {
    const known = this.verified.get(token);
    // Same tolerance as jwt.verify's clockTolerance below.
    if (known && known.exp + CLOCK_TOLERANCE_SECONDS > Date.now() / 1000) return known;
    if (known) this.verified.delete(token);
    const claims = this.verifySignature(token);
    this.verified.set(token, claims);
    return claims;
  }

  private verifySignature(token: string): AccessClaims {
    const decoded = jwt.decode(token, { complete: true });
    const kid = decoded?.header.kid;
    const key = kid ? this.keys.get(kid) : undefined;
    if (!decoded || !key) throw new UnauthenticatedError('The access token is not valid.');
    try {
      const payload = jwt.verify(token, key.verify, {
        algorithms: [key.algorithm],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }) as JwtPayload;
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') {
        throw new Error('missing claims');
      }
      return { sub: payload.sub, sid: payload.sid, jti: payload.jti, exp: payload.exp, pwc: payload.pwc === true };
    } catch (err) {
      const expired = err instanceof jwt.TokenExpiredError;
      throw new UnauthenticatedError(expired ? 'The session has expired; log in again.' : 'The access token is not valid.');
    }
  }
}

function toSigningKey(key: Config['sessionKey'], kid: string): SigningKey {
  if (key.kind === 'secret') {
    // A KeyObject, not the string: jsonwebtoken otherwise tries to parse the string as a public key on every verify.
    const secret = createSecretKey(Buffer.from(key.secret, 'utf8'));
    return { kid, algorithm: 'HS256', sign: secret, verify: secret };
  }
  const privateKey = createPrivateKey(key.privateKey);
  const type = privateKey.asymmetricKeyType;
  const algorithm: Algorithm =
    type === 'rsa'
      ? 'RS256'
      : type === 'ec'
        ? 'ES256'
        : (() => {
            throw new Error(`SESSION_PRIVATE_KEY must be an RSA or EC (P-256) key, not ${type}`);
          })();
  return { kid, algorithm, sign: privateKey, verify: createPublicKey(privateKey) };
}
