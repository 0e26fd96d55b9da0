// The web chat page, served from SpeakSafe's own origin: GET / (web/index.html
// with a few values from content/), /app.js, /app.css, /favicon.svg and
// /webchat.js (Bot Framework Web Chat's own bundle from node_modules: no CDN).
//
// Every response carries a strict Content-Security-Policy (no inline script;
// Web Chat injects its styles, hence style-src 'unsafe-inline'), no referrer,
// no framing, and no cookies. The page itself is never cached, so neither the
// back button nor the browser cache can bring a chat back.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type * as restify from 'restify';
import type { Content } from '../content';
import { header } from './http';

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function setPageHeaders(res: restify.Response): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
}

/** web/ in the repository, from bot/channels (tsx, ts-jest) or dist/bot/channels (compiled). */
export function webDir(): string {
  const candidates = [path.resolve(__dirname, '..', '..', 'web'), path.resolve(__dirname, '..', '..', '..', 'web')];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'index.html')));
  if (!found) throw new Error(`web/index.html not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Web Chat's self-contained browser bundle, from the installed npm package. */
export function webChatBundlePath(): string {
  // The package's "exports" hide package.json: find the package root from its entry point.
  let dir = path.dirname(require.resolve('botframework-webchat'));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const bundle = path.join(dir, 'dist', 'webchat.js');
  if (!fs.existsSync(bundle)) throw new Error(`botframework-webchat: ${bundle} not found`);
  return bundle;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The values web/index.html may use as {{ name }}: copy and numbers from content/, never typed twice. */
export function pageValues(content: Content): Record<string, string> {
  const phone = (id: string): string => {
    const h = content.helplines.helplines.find((x) => x.id === id);
    return h?.phone ?? h?.text ?? '';
  };
  const m = content.messages;
  return {
    areaName: content.area.name,
    hubName: content.area.hub.name,
    emergency: content.helplines.emergency.number,
    childline: phone('childline'),
    crimestoppers: phone('crimestoppers'),
    emergency_line: m.t('emergency_line'),
    privacy_short: m.t('privacy_short'),
  };
}

export function renderPage(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z_][\w]*)\s*\}\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`web/index.html: unknown placeholder ${whole}`);
    return escapeHtml(v);
  });
}

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  etag: string;
  type: string;
  cache: string;
}

const gzip = promisify(zlib.gzip);

async function asset(body: Buffer, type: string, cache: string, compress: boolean): Promise<Asset> {
  const etag = `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, type, cache, etag, gzip: compress ? await gzip(body, { level: 6 }) : undefined };
}

export class WebPage {
  private readonly assets = new Map<string, () => Promise<Asset>>();
  private readonly dir: string;

  constructor(content: Content) {
    this.dir = webDir();
    const read = (file: string): Buffer => fs.readFileSync(path.join(this.dir, file));
    // The page is rendered once: a bad placeholder fails at start-up, not on a visit.
    const page = Buffer.from(renderPage(read('index.html').toString('utf8'), pageValues(content)));
    this.lazy('/', () => asset(page, 'text/html; charset=utf-8', 'no-store', true));
    this.lazy('/app.js', () => asset(read('app.js'), 'text/javascript; charset=utf-8', 'no-cache', true));
    this.lazy('/app.css', () => asset(read('app.css'), 'text/css; charset=utf-8', 'no-cache', true));
    this.lazy('/favicon.svg', () => asset(read('favicon.svg'), 'image/svg+xml', 'public, max-age=86400', false));
    const bundle = webChatBundlePath();
    this.lazy('/webchat.js', () => asset(fs.readFileSync(bundle), 'text/javascript; charset=utf-8', 'public, max-age=3600', true));
  }

  private lazy(route: string, make: () => Promise<Asset>): void {
    let cached: Promise<Asset> | undefined;
    this.assets.set(route, () => {
      cached ??= make();
      // A failed read is retried on the next request rather than cached.
      cached.catch(() => (cached = undefined));
      return cached;
    });
  }

  register(server: restify.Server): void {
    for (const route of this.assets.keys()) {
      server.get(route, async (req: restify.Request, res: restify.Response) => this.serve(route, req, res));
    }
    // Browsers ask for this whatever the page says.
    server.get('/favicon.ico', async (_req: restify.Request, res: restify.Response) => {
      res.setHeader('Location', '/favicon.svg');
      res.sendRaw(301, '');
    });
  }

  private async serve(route: string, req: restify.Request, res: restify.Response): Promise<void> {
    const a = await this.assets.get(route)!();
    setPageHeaders(res);
    res.setHeader('Cache-Control', a.cache);
    res.setHeader('Vary', 'Accept-Encoding');
    if (a.cache !== 'no-store') {
      res.setHeader('ETag', a.etag);
      if (header(req, 'if-none-match') === a.etag) {
        res.sendRaw(304, '');
        return;
      }
    }
    const gzip = a.gzip && /\bgzip\b/.test(header(req, 'accept-encoding') ?? '');
    const body = gzip ? a.gzip! : a.body;
    res.setHeader('Content-Type', a.type);
    if (gzip) res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Content-Length', String(body.length));
    res.sendRaw(200, body);
  }
}
