import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm } from 'jsonwebtoken';

/** The claims of an HTI 2.0 launch token as Koppeltaal 2.0 composes them ("Compose a launch"). */
export interface HtiClaims {
  /** Our client id in the Koppeltaal domain. */
  iss: string;
  /** The module provider's Device (`Device/<id>`). */
  aud: string;
  /** Who launches: `Patient/<id>` or `RelatedPerson/<id>`. */
  sub: string;
  /** The Task: `Task/<id>`. */
  resource: string;
  /** The ActivityDefinition: `ActivityDefinition/<id>`. */
  definition?: string;
  /** The Patient, only when `sub` is not the patient. */
  patient?: string;
  intent?: string;
}

/** A public key as JWKS publishes it. */
export type PublicJwk = JsonWebKey & { kid: string; use: 'sig'; alg: Algorithm };

/**
 * The gateway's own key in the Koppeltaal domain: it signs the SMART backend-services client
 * assertions and the HTI launch tokens, and its public half is at /.well-known/jwks.json. RS256
 * for an RSA key, ES256 for an EC P-256 key; without KOPPELTAAL_PRIVATE_KEY (development only,
 * config.ts refuses it in production with Koppeltaal) a P-256 key made at start.
 */
export class LaunchKey {
  readonly algorithm: Algorithm;
  readonly keyId: string;
  readonly jwk: PublicJwk;

  private constructor(
    readonly privateKey: KeyObject,
    keyId: string | undefined,
  ) {
    const type = privateKey.asymmetricKeyType;
    if (type === 'rsa') this.algorithm = 'RS256';
    else if (type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') this.algorithm = 'ES256';
    else throw new Error('KOPPELTAAL_PRIVATE_KEY must be an RSA or EC P-256 key');
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
    this.keyId = keyId ?? thumbprint(publicJwk);
    this.jwk = { ...publicJwk, kid: this.keyId, use: 'sig', alg: this.algorithm };
  }

  static from(pem: string | undefined, keyId: string | undefined): LaunchKey {
    if (pem) return new LaunchKey(createPrivateKey(pem), keyId);
    return new LaunchKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, keyId);
  }

  jwks(): { keys: PublicJwk[] } {
    return { keys: [this.jwk] };
  }

  /** An HTI launch token: the claims, `iat`, `exp` after `ttlSeconds`, a fresh `jti`; header `kid` and `typ`. `now` is for tests. */
  signLaunch(claims: HtiClaims, ttlSeconds: number, now = Date.now()): { token: string; jti: string; expiresAt: Date } {
    const iat = Math.floor(now / 1000);
    const jti = randomUUID();
    const token = jwt.sign({ ...claims, iat, exp: iat + ttlSeconds, jti }, this.privateKey, {
      algorithm: this.algorithm,
      keyid: this.keyId,
      header: { alg: this.algorithm, typ: 'JWT', kid: this.keyId },
    });
    return { token, jti, expiresAt: new Date((iat + ttlSeconds) * 1000) };
  }
}

/** RFC 7638 JWK thumbprint (the required members in lexicographic order, SHA-256, base64url). */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
