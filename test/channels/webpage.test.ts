// GET / and its assets: served from SpeakSafe's own origin, with a strict
// CSP, no inline script, no cookies, nothing from a CDN.
import fs from 'node:fs';
import { PAGE_CSP, webChatBundlePath } from '../../bot/channels/webPage';
import { startChannelApp, type ChannelTestApp } from './helpers';

let t: ChannelTestApp;
beforeAll(async () => {
  t = await startChannelApp();
});
afterAll(async () => t?.close());

describe('the web chat page', () => {
  it('is served with strict security headers and no cookies', async () => {
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(PAGE_CSP);
    for (const part of ["default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "connect-src 'self'", "frame-ancestors 'none'"]) {
      expect(PAGE_CSP).toContain(part);
    }
    expect(PAGE_CSP).not.toMatch(/unsafe-eval|https?:/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('set-cookie')).toBeNull();
    const html = await res.text();
    expect(html).toContain('<html lang="en-GB">');
    expect(html).toContain('Leave this site');
    // No inline script, nothing from another origin, every placeholder filled.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son\w+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('{{');
    expect(html).toContain(t.app.services.content.messages.t('emergency_line'));
    expect(html).toContain('0800 1111');
  });

  it('serves Web Chat from node_modules (no CDN), compressed and cacheable', async () => {
    const res = await fetch(`${t.url}/webchat.js`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const body = Buffer.from(await res.arrayBuffer()); // fetch decompresses
    expect(body.equals(fs.readFileSync(webChatBundlePath()))).toBe(true);
    const etag = res.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const again = await fetch(`${t.url}/webchat.js`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves the page script and styles', async () => {
    for (const [path, type] of [
      ['/app.js', /^text\/javascript/],
      ['/app.css', /^text\/css/],
      ['/favicon.svg', /^image\/svg\+xml/],
    ] as const) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const source = await (await fetch(`${t.url}/app.js`)).text();
    const js = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    // The token lives in memory only.
    expect(js).not.toMatch(/localStorage|sessionStorage|document\.cookie|indexedDB/);
    expect(js).toContain("webSocket: false");
  });
});
