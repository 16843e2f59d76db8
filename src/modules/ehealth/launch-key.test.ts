import { PRODUCTION_ENV } from '../../../test/factories';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { loadConfig } from '../../config';
import { LaunchKey } from './launch-key';

const claims = { iss: 'portal', aud: 'Device/d1', sub: 'Patient/p1', resource: 'Task/t1' };

describe('the launch key', () => {
  it('signs with RS256 for an RSA key and publishes only its public half, under the given kid', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const key = LaunchKey.from(pem, 'k-2026');
    const { keys } = key.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', kid: 'k-2026', use: 'sig', alg: 'RS256' });
    expect(keys[0]).not.toHaveProperty('d');
    const { token } = key.signLaunch(claims, 120);
    expect(jwt.decode(token, { complete: true })?.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k-2026' });
  });

  it('makes an ES256 key without one, its kid the JWK thumbprint; every token has its own jti and expires after the ttl', () => {
    const key = LaunchKey.from(undefined, undefined);
    expect(key.algorithm).toBe('ES256');
    expect(key.keyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const a = key.signLaunch(claims, 300, 1_700_000_000_000);
    const b = key.signLaunch(claims, 300, 1_700_000_000_000);
    expect(a.jti).not.toBe(b.jti);
    const payload = jwt.verify(a.token, createPublicKey({ key: key.jwk, format: 'jwk' }), {
      algorithms: ['ES256'],
      clockTimestamp: 1_700_000_010,
    }) as jwt.JwtPayload;
    expect(payload).toMatchObject({ ...claims, iat: 1_700_000_000, exp: 1_700_000_300, jti: a.jti });
  });

  it('is required in production once Koppeltaal is configured', () => {
    const env = {
      ...PRODUCTION_ENV,
      EHR_ADAPTERS: 'demo',
      KOPPELTAAL_FHIR_URL: 'https://koppeltaal.example.nl/fhir',
      KOPPELTAAL_CLIENT_ID: 'portal',
      KOPPELTAAL_TOKEN_URL: 'https://auth.koppeltaal.example.nl/token',
      KOPPELTAAL_PATIENT_IDENTIFIER_SYSTEM: 'urn:oid:1.2.3',
    };
    expect(() => loadConfig(env)).toThrow(/KOPPELTAAL_PRIVATE_KEY/);
    expect(() => loadConfig({ ...env, KOPPELTAAL_CLIENT_ID: undefined })).toThrow(/KOPPELTAAL_CLIENT_ID is required with KOPPELTAAL_FHIR_URL/);
  });
});
