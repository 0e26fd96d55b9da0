// Small HTTP helpers shared by the channels: JSON answers, headers, and rate
// limits whose keys are keyed hashes (no address is kept, even in memory).
import type * as restify from 'restify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { keyedHash } from '../util/crypto';
import { isLoopbackAddress } from '../util/net';

export function noStore(res: restify.Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

export function sendJson(res: restify.Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  noStore(res);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.sendRaw(status, JSON.stringify(body));
}

/** Direct Line's error shape: { error: { code, message } }. */
export function sendError(res: restify.Response, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

export function header(req: restify.Request, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The caller's address, for rate limiting only. Behind a reverse proxy on the
 * same host (the peer is loopback) the proxy's X-Forwarded-For entry is used:
 * the right-most one, which the proxy wrote itself. A remote peer's
 * X-Forwarded-For is never trusted.
 */
export function sourceAddress(req: restify.Request): string {
  const peer = req.socket?.remoteAddress ?? 'unknown';
  if (isLoopbackAddress(peer)) {
    const forwarded = header(req, 'x-forwarded-for');
    const last = forwarded
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .pop();
    if (last && last.length <= 64) return last;
  }
  return peer;
}

/** A per-minute limit keyed by a keyed hash of whatever identifies the caller. */
export class HashedRateLimit {
  private readonly limiter: RateLimiterMemory;

  constructor(
    private readonly secret: string,
    private readonly purpose: string,
    pointsPerMinute: number,
  ) {
    this.limiter = new RateLimiterMemory({ points: Math.max(1, pointsPerMinute), duration: 60 });
  }

  private key(identity: string): string {
    return keyedHash(this.secret, `ratelimit:${this.purpose}`, identity);
  }

  /** True when allowed; false when over the limit. Returns retry-after seconds when refused. */
  async take(identity: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
    try {
      await this.limiter.consume(this.key(identity));
      return { ok: true };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
      throw err;
    }
  }

  /**
   * Whether this identity has used up its points, without using one: for
   * limits that count only failures (the caller calls take() after a failure).
   */
  async check(identity: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
    const res = await this.limiter.get(this.key(identity));
    if (res && res.remainingPoints <= 0 && res.msBeforeNext > 0) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
    return { ok: true };
  }
}
