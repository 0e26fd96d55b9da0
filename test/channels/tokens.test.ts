// Direct Line tokens: signed, short-lived, scoped to one conversation.
import { bearerToken, TokenSigner, type TokenClaims, type VerifyResult } from '../../bot/channels/directLine/tokens';

const claimsOf = (r: VerifyResult): TokenClaims => {
  if (!r.ok) throw new Error(`not verified: ${r.reason}`);
  return r.claims;
};

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

describe('TokenSigner', () => {
  let now = Date.UTC(2026, 10, 23, 12, 0, 0);
  const clock = (): number => now;
  const signer = new TokenSigner(SECRET, { ttlSeconds: 1800, maxConversationSeconds: 3600, now: clock });

  it('signs and verifies a token for one conversation', () => {
    const { token, expiresIn } = signer.sign('conversation-A-0123456789');
    expect(expiresIn).toBe(1800);
    const result = signer.verify(token);
    expect(result).toEqual({ ok: true, claims: expect.objectContaining({ c: 'conversation-A-0123456789' }) });
  });

  it('rejects a tampered, truncated, foreign or missing token', () => {
    const { token } = signer.sign('conversation-A-0123456789');
    const [prefix, payload, mac] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${prefix}.${Buffer.from(JSON.stringify({ ...claims, c: 'conversation-B-0123456789' })).toString('base64url')}.${mac}`;
    expect(signer.verify(forged)).toEqual({ ok: false, reason: 'signature' });
    expect(signer.verify(token.slice(0, -2))).toMatchObject({ ok: false });
    expect(signer.verify(`${prefix}.${payload}`)).toEqual({ ok: false, reason: 'malformed' });
    expect(signer.verify('')).toEqual({ ok: false, reason: 'missing' });
    expect(signer.verify(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(signer.verify('x'.repeat(5000))).toEqual({ ok: false, reason: 'malformed' });
    const other = new TokenSigner(`${SECRET}-other`, { now: clock });
    expect(other.verify(token)).toEqual({ ok: false, reason: 'signature' });
  });

  it('expires, and refreshes only within the conversation limit', () => {
    const start = now;
    const { token } = signer.sign('conversation-A-0123456789');
    now = start + 1799 * 1000;
    const verified = signer.verify(token);
    expect(verified.ok).toBe(true);
    const refreshed = signer.refresh(claimsOf(verified))!;
    expect(refreshed.expiresIn).toBe(1800);
    now = start + 1800 * 1000;
    expect(signer.verify(token)).toEqual({ ok: false, reason: 'expired' });
    expect(signer.verify(refreshed.token).ok).toBe(true);
    // Refreshing can't keep a conversation going past its limit.
    now = start + 3000 * 1000;
    const late = signer.verify(refreshed.token);
    expect(late.ok).toBe(true);
    const last = signer.refresh(claimsOf(late))!;
    expect(last.expiresIn).toBe(600);
    now = start + 3600 * 1000;
    expect(signer.verify(last.token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a short secret', () => {
    expect(() => new TokenSigner('short')).toThrow(/secret/);
  });
});

describe('bearerToken', () => {
  it('reads a Bearer token', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
