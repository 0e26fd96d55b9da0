// Small HTTP helpers shared by the channels: JSON answers, headers, and rate
// limits whose keys are keyed hashes (no address is kept, even in memory).
import type * as restify from 'restify';
import { LRUCache } from 'lru-cache';
import { keyedHash } from '../util/crypto';
import type { IncomingMessage } from 'node:http';
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

export function header(req: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The caller's address, for rate limiting only. Behind a reverse proxy on the
 * same host (the peer is loopback) the proxy's X-Forwarded-For entry is used:
 * the right-most one, which the proxy wrote itself. A remote peer's
 * X-Forwarded-For is never trusted.
 */
export function sourceAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>): string {
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

/**
 * True only for a caller on this machine: a loopback peer that is not a reverse proxy on the same host
 * forwarding someone else (any Forwarded or X-Real-IP header, or an X-Forwarded-For naming another address).
 */
export function isLocalCaller(req: Pick<IncomingMessage, 'headers' | 'socket'>): boolean {
  if (!isLoopbackAddress(req.socket?.remoteAddress)) return false;
  if (header(req, 'forwarded') !== undefined || header(req, 'x-real-ip') !== undefined) return false;
  return header(req, 'x-forwarded-for') === undefined || isLoopbackAddress(sourceAddress(req));
}

/** One key's fixed window: requests counted since `resetAt - 60 s`. */
interface RateWindow {
  count: number;
  resetAt: number;
}

const WINDOW_MS = 60_000;
/** Keys each limit remembers at most: bounds its memory (about 160 bytes a key, 8 MB) whatever the traffic. */
export const RATE_LIMIT_MAX_KEYS = 50_000;

/**
 * A per-minute limit keyed by a keyed hash of whatever identifies the caller:
 * a fixed window per key that opens with the key's first request, as
 * rate-limiter-flexible's RateLimiterMemory counts.
 *
 * The windows live in a bounded LRU map (lru-cache) rather than
 * RateLimiterMemory, which keeps a timer and about 480 bytes per key: with a
 * new conversation on every request, 60 s of traffic at 2,000 requests/s held
 * about 58 MB. When more than RATE_LIMIT_MAX_KEYS keys are live, the least
 * recently used is forgotten (its next request starts a new window); the
 * per-source limits stop any one caller from making that many keys.
 */
export class HashedRateLimit {
  private readonly windows: LRUCache<string, RateWindow>;
  private readonly points: number;

  constructor(
    private readonly secret: string,
    private readonly purpose: string,
    pointsPerMinute: number,
    maxKeys = RATE_LIMIT_MAX_KEYS,
    private readonly now: () => number = Date.now,
  ) {
    this.points = Math.max(1, pointsPerMinute);
    this.windows = new LRUCache<string, RateWindow>({ max: maxKeys });
  }

  private key(identity: string): string {
    return keyedHash(this.secret, `ratelimit:${this.purpose}`, identity, 16);
  }

  /** The key's current window, or none if it has none open. */
  private current(key: string, at: number): RateWindow | undefined {
    const window = this.windows.get(key);
    if (window && window.resetAt > at) return window;
    return undefined;
  }

  private refused(window: RateWindow, at: number): { ok: false; retryAfterSeconds: number } {
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - at) / 1000)) };
  }

  /** Uses one point: ok while within the limit; refused with retry-after seconds once over it. */
  async take(identity: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
    const key = this.key(identity);
    const at = this.now();
    let window = this.current(key, at);
    if (!window) {
      window = { count: 0, resetAt: at + WINDOW_MS };
      this.windows.set(key, window);
    }
    window.count += 1;
    return window.count > this.points ? this.refused(window, at) : { ok: true };
  }

  /**
   * Whether this identity has used up its points, without using one: for
   * limits that count only failures (the caller calls take() after a failure).
   */
  async check(identity: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
    const at = this.now();
    const window = this.current(this.key(identity), at);
    return window && window.count >= this.points ? this.refused(window, at) : { ok: true };
  }

  /** Keys currently remembered (tests, diagnostics). */
  get size(): number {
    return this.windows.size;
  }
}
