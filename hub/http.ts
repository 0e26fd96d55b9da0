// Small HTTP helpers for the hub on restify 11: route mounting with error
// handling, cookies, security headers and responses. Typed against Node's own
// request/response, which restify's objects extend.
import type http from 'node:http';

export interface HubRequest extends http.IncomingMessage {
  params?: Record<string, string>;
  query?: unknown;
  body?: unknown;
  isSecure?: () => boolean;
}
export type HubResponse = http.ServerResponse;
export type HubHandler = (req: HubRequest, res: HubResponse) => Promise<void>;

type Next = (err?: unknown) => void;
type RestifyHandler = (req: HubRequest, res: HubResponse, next: Next) => void;

/** The part of restify's Server the hub uses. */
export interface RouteServer {
  get(path: string, ...handlers: RestifyHandler[]): unknown;
  post(path: string, ...handlers: RestifyHandler[]): unknown;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'error',
  ) {
    super(message);
  }
}

export interface MountedRoute {
  method: 'GET' | 'POST';
  path: string;
  /** Public routes need no sign-in (login form, stylesheet). Everything else does. */
  public: boolean;
}

/**
 * Mount an async handler as a restify callback handler `(req, res, next)`.
 * Errors become `onError` responses; nothing unexpected escapes to restify.
 */
export function mount(
  server: RouteServer,
  routes: MountedRoute[],
  method: 'GET' | 'POST',
  path: string,
  handler: HubHandler,
  onError: (err: unknown, req: HubRequest, res: HubResponse) => void,
  options: { public?: boolean } = {},
): void {
  routes.push({ method, path, public: options.public ?? false });
  const restifyHandler: RestifyHandler = (req, res, next) => {
    handler(req, res).then(
      () => next(),
      (err: unknown) => {
        try {
          if (!res.headersSent) onError(err, req, res);
          else res.end();
        } finally {
          next();
        }
      },
    );
  };
  Object.defineProperty(restifyHandler, 'name', { value: `hub ${method} ${path}` });
  if (method === 'GET') server.get(path, restifyHandler);
  else server.post(path, restifyHandler);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!name || name in out) continue;
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

export interface CookieOptions {
  secure: boolean;
  maxAgeSeconds?: number;
  httpOnly?: boolean;
}

export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'SameSite=Strict'];
  if (o.httpOnly !== false) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  if (o.maxAgeSeconds !== undefined) {
    parts.push(`Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`);
    if (o.maxAgeSeconds <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  }
  return parts.join('; ');
}

export function appendSetCookie(res: HubResponse, cookie: string): void {
  const prior = res.getHeader('Set-Cookie');
  const list = prior === undefined ? [] : Array.isArray(prior) ? prior : [String(prior)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

export function setSecurityHeaders(res: HubResponse, secure: boolean): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
  res.setHeader('Cache-Control', 'no-store');
  if (secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}

export function send(res: HubResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', String(buf.length));
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(buf);
}

export const sendHtml = (res: HubResponse, status: number, html: string): void => send(res, status, 'text/html; charset=utf-8', html);

export const sendJson = (res: HubResponse, status: number, body: unknown, headers: Record<string, string> = {}): void =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);

export function redirect(res: HubResponse, location: string, status = 303): void {
  res.statusCode = status;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', '0');
  res.end();
}

/** The request body as an object (restify's bodyParser has parsed JSON and forms already). */
export function bodyOf(req: HubRequest): Record<string, unknown> {
  const b = req.body;
  if (b && typeof b === 'object' && !Buffer.isBuffer(b)) return b as Record<string, unknown>;
  if (typeof b === 'string' && b.trim().startsWith('{')) {
    try {
      return JSON.parse(b) as Record<string, unknown>;
    } catch {
      throw new HttpError(400, 'The request body is not valid JSON.', 'invalid_json');
    }
  }
  return {};
}

export function queryOf(req: HubRequest): Record<string, unknown> {
  if (req.query && typeof req.query === 'object') return req.query as Record<string, unknown>;
  const url = new URL(req.url ?? '/', 'http://localhost');
  return Object.fromEntries(url.searchParams.entries());
}

/** A single string field from a body or query object. */
export function field(o: Record<string, unknown>, name: string): string | undefined {
  const v = Array.isArray(o[name]) ? (o[name] as unknown[])[0] : o[name];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function pathParam(req: HubRequest, name: string): string {
  const v = req.params?.[name];
  return typeof v === 'string' ? v : '';
}

/** Reference codes as the bot issues them: letters, digits and dashes. */
export function validReference(ref: string): boolean {
  return /^[A-Za-z0-9-]{3,40}$/.test(ref);
}

export function toQueryString(params: Record<string, string | undefined>): string {
  const usp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') usp.set(k, v);
  const s = usp.toString();
  return s ? `?${s}` : '';
}

export { loggableError } from '../bot/util/logger';
