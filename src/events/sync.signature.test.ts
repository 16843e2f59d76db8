import { createHmac } from 'node:crypto';
import { signSyncBody, verifySyncSignature } from './sync.signature';

const secret = 'a-sync-secret-of-enough-length';
const body = Buffer.from('{"id":"e1","type":"videocall.ended"}');
const now = 1_800_000_000;

describe('sync signature', () => {
  it('signs HMAC-SHA256 over "<timestamp>.<raw body>" as the contract says', () => {
    const hex = createHmac('sha256', secret).update(`${now}.${body.toString()}`).digest('hex');
    expect(signSyncBody(secret, now, body)).toBe(`sha256=${hex}`);
  });

  it('accepts a correct signature within the window, in upper- or lower-case hex', () => {
    const sig = signSyncBody(secret, now, body);
    expect(verifySyncSignature(secret, { signature: sig, timestamp: String(now) }, body, now + 299)).toEqual({ ok: true });
    expect(verifySyncSignature(secret, { signature: `sha256=${sig.slice(7).toUpperCase()}`, timestamp: String(now) }, body, now)).toEqual({ ok: true });
  });

  it('refuses a changed body, another secret, or a moved timestamp', () => {
    const sig = signSyncBody(secret, now, body);
    expect(verifySyncSignature(secret, { signature: sig, timestamp: String(now) }, Buffer.from(body.toString() + ' '), now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not match/),
    });
    expect(verifySyncSignature('another-secret-of-enough-length', { signature: sig, timestamp: String(now) }, body, now).ok).toBe(false);
    expect(verifySyncSignature(secret, { signature: sig, timestamp: String(now + 1) }, body, now).ok).toBe(false);
  });

  it('refuses a timestamp more than 5 minutes off, in either direction, even when correctly signed', () => {
    for (const ts of [now - 301, now + 301]) {
      const sig = signSyncBody(secret, ts, body);
      expect(verifySyncSignature(secret, { signature: sig, timestamp: String(ts) }, body, now)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/5 minutes/),
      });
    }
  });

  it('refuses missing or malformed headers with a reason', () => {
    const sig = signSyncBody(secret, now, body);
    expect(verifySyncSignature(secret, { signature: undefined, timestamp: String(now) }, body, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/X-Signature is missing/),
    });
    expect(verifySyncSignature(secret, { signature: sig, timestamp: undefined }, body, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/Timestamp is missing/),
    });
    expect(verifySyncSignature(secret, { signature: sig, timestamp: '2026-01-01' }, body, now).ok).toBe(false);
    expect(verifySyncSignature(secret, { signature: 'sha256=abc', timestamp: String(now) }, body, now).ok).toBe(false);
    expect(verifySyncSignature(secret, { signature: sig.slice(7), timestamp: String(now) }, body, now).ok).toBe(false);
  });
});
