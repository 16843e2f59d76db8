import jwt from 'jsonwebtoken';
import { TokenService } from './tokens';

const key = { kind: 'secret' as const, secret: 'a-test-secret-of-at-least-thirty-two-characters' };

describe('TokenService', () => {
  afterEach(() => jest.useRealTimers());

  it('accepts its own token again and again, and refuses it once it has expired even though it was accepted before', () => {
    jest.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z') });
    const tokens = new TokenService(key, 'k1', 60);
    const { accessToken } = tokens.sign('account-1', 'session-1');
    expect(tokens.verify(accessToken)).toMatchObject({ sub: 'account-1', sid: 'session-1' });
    expect(tokens.verify(accessToken)).toMatchObject({ sub: 'account-1', sid: 'session-1' });

    jest.setSystemTime(new Date('2026-11-23T10:01:04Z')); // within the 5 s clock tolerance
    expect(tokens.verify(accessToken).sid).toBe('session-1');
    jest.setSystemTime(new Date('2026-11-23T10:01:06Z'));
    expect(() => tokens.verify(accessToken)).toThrow(/expired/);
  });

  it('refuses a token signed with another secret, also after a good token was accepted', () => {
    const tokens = new TokenService(key, 'k1', 60);
    const good = tokens.sign('account-1', 'session-1').accessToken;
    tokens.verify(good);
    const forged = jwt.sign({ sid: 'session-1' }, 'another-secret', {
      keyid: 'k1',
      issuer: 'ggz-portal-gateway',
      audience: 'ggz-portal',
      subject: 'account-1',
      jwtid: 'x',
      expiresIn: 60,
    });
    expect(() => tokens.verify(forged)).toThrow(/not valid/);
    // A token's payload changed after signing (same signature) is refused too.
    const [header, , signature] = good.split('.');
    const payload = Buffer.from(JSON.stringify({ ...(jwt.decode(good) as object), sub: 'account-2' })).toString('base64url');
    expect(() => tokens.verify(`${header}.${payload}.${signature}`)).toThrow(/not valid/);
  });
});
