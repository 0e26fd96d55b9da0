// Direct Line tokens: short-lived, HMAC-signed, scoped to one conversation.
//
//   dl1.<base64url(JSON claims)>.<base64url(HMAC-SHA-256)>
//
// The signing key is derived from TOKEN_SIGNING_SECRET for this purpose only,
// so a token can't be replayed as any other kind of SpeakSafe token. Nothing
// is stored server side: a token is valid while its signature checks out and
// it hasn't expired, and a refresh can't outlive the conversation's limit.
import crypto from 'node:crypto';

export interface TokenClaims {
  /** Conversation id: the only conversation this token opens. */
  c: string;
  /** Issued at (seconds since the epoch). */
  iat: number;
  /** Expires (seconds since the epoch). */
  exp: number;
  /** When the conversation started (seconds): refreshes stop at `maxConversationSeconds` after it. */
  cs: number;
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: 'missing' | 'malformed' | 'signature' | 'expired' };

export interface TokenSignerOptions {
  /** Lifetime of one token. Direct Line clients refresh every 15 minutes. */
  ttlSeconds?: number;
  /** Longest a conversation can be kept alive by refreshing. */
  maxConversationSeconds?: number;
  now?: () => number;
}

const PREFIX = 'dl1';
const b64 = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export class TokenSigner {
  readonly ttlSeconds: number;
  readonly maxConversationSeconds: number;
  private readonly key: Buffer;
  private readonly now: () => number;

  constructor(secret: string, options: TokenSignerOptions = {}) {
    if (!secret || secret.length < 16) throw new Error('TokenSigner: the signing secret is missing or too short');
    this.key = crypto.createHmac('sha256', secret).update('speaksafe/directline-token/v1').digest();
    this.ttlSeconds = options.ttlSeconds ?? 30 * 60;
    this.maxConversationSeconds = options.maxConversationSeconds ?? 24 * 60 * 60;
    this.now = options.now ?? Date.now;
  }

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private mac(data: string): Buffer {
    return crypto.createHmac('sha256', this.key).update(data).digest();
  }

  /** A token for one conversation. `conversationStart` (seconds) defaults to now. */
  sign(conversationId: string, conversationStart?: number): { token: string; expiresIn: number; claims: TokenClaims } {
    const iat = this.seconds();
    const cs = conversationStart ?? iat;
    const exp = Math.min(iat + this.ttlSeconds, cs + this.maxConversationSeconds);
    const claims: TokenClaims = { c: conversationId, iat, exp, cs };
    const body = `${PREFIX}.${b64(JSON.stringify(claims))}`;
    return { token: `${body}.${b64(this.mac(body))}`, expiresIn: Math.max(0, exp - iat), claims };
  }

  verify(token: string | undefined | null): VerifyResult {
    if (!token) return { ok: false, reason: 'missing' };
    if (token.length > 2048) return { ok: false, reason: 'malformed' };
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== PREFIX || !/^[A-Za-z0-9_-]+$/.test(parts[1]) || !/^[A-Za-z0-9_-]+$/.test(parts[2])) {
      return { ok: false, reason: 'malformed' };
    }
    const expected = this.mac(`${parts[0]}.${parts[1]}`);
    const given = Buffer.from(parts[2], 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (
      !claims ||
      typeof claims.c !== 'string' ||
      !claims.c ||
      !Number.isInteger(claims.iat) ||
      !Number.isInteger(claims.exp) ||
      !Number.isInteger(claims.cs)
    ) {
      return { ok: false, reason: 'malformed' };
    }
    if (claims.exp <= this.seconds()) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }

  /** A fresh token for the same conversation, or null once the conversation's limit is reached. */
  refresh(claims: TokenClaims): { token: string; expiresIn: number } | null {
    if (this.seconds() >= claims.cs + this.maxConversationSeconds) return null;
    const { token, expiresIn } = this.sign(claims.c, claims.cs);
    return expiresIn > 0 ? { token, expiresIn } : null;
  }
}

/** The bearer token of an Authorization header. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(value ?? '');
  return m?.[1];
}
