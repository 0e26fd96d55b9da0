// /api/messages over real HTTP, as the Emulator, Azure channels and the
// benchmarks call it; plus health endpoints and the open-endpoint guard.
import { startApp, type TestApp } from '../helpers/app';
import { isLoopbackAddress, isLoopbackUrl } from '../../bot/util/net';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t?.close());

function activity(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'message',
    text,
    channelId: 'emulator',
    serviceUrl: 'http://127.0.0.1:9',
    from: { id: 'user-1' },
    recipient: { id: 'bot' },
    conversation: { id: 'conv-http-1' },
    deliveryMode: 'expectReplies',
    ...extra,
  };
}

async function post(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  return fetch(`${t.url}/api/messages`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

test('expectReplies returns the bot replies in the response body', async () => {
  const res = await post(activity('hello'));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { activities: Array<{ type: string; text?: string }> };
  const messages = body.activities.filter((a) => a.type === 'message');
  expect(messages[0].text).toBe(t.app.services.content.messages.t('welcome'));
});

test('a danger message gets 999 guidance first over HTTP', async () => {
  const res = await post(activity('please help they are going to stab me', { conversation: { id: 'conv-http-2' } }));
  const body = (await res.json()) as { activities: Array<{ type: string; text?: string }> };
  const messages = body.activities.filter((a) => a.type === 'message');
  expect(messages[0].text).toBe(t.app.services.content.messages.t('danger'));
});

test('malformed JSON, a non-activity and a wrong content type get 4xx, never 500', async () => {
  for (const res of [
    await post('{"type": "message", '),
    await post({ hello: 'world' }),
    await post([1, 2, 3]),
    await post('type=message', { 'content-type': 'text/plain' }),
  ]) {
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  }
});

test('without Azure credentials a reply can never be sent to a caller-chosen host', async () => {
  const res = await post(activity('hi', { deliveryMode: 'normal', serviceUrl: 'https://attacker.example.com/' }));
  expect(res.status).toBe(400);
  const missing = await post(activity('hi', { deliveryMode: undefined, serviceUrl: undefined }));
  expect(missing.status).toBe(400);
});

test('without Azure credentials, a request forwarded by a reverse proxy on this host is a remote caller: refused', async () => {
  const json = { 'content-type': 'application/json' };
  const proxied: Array<Record<string, string>> = [{ 'x-forwarded-for': '203.0.113.5' }, { forwarded: 'for=203.0.113.5' }, { 'x-real-ip': '203.0.113.5' }];
  for (const forwarded of proxied) {
    const res = await post(activity('hi', { conversation: { id: 'conv-http-proxy' } }), { ...json, ...forwarded });
    expect({ forwarded, status: res.status }).toEqual({ forwarded, status: 403 });
  }
  // Nor may it make the bot post to a local port.
  const push = await post(activity('hi', { deliveryMode: 'normal', serviceUrl: 'http://127.0.0.1:4999/internal' }), { ...json, 'x-forwarded-for': '203.0.113.5' });
  expect(push.status).toBe(403);
  // A local tool going through the same proxy from this machine is still local.
  const local = await post(activity('hi', { conversation: { id: 'conv-http-proxy-local' } }), { ...json, 'x-forwarded-for': '127.0.0.1' });
  expect(local.status).toBe(200);
});

test('loopback detection used by the guard', () => {
  expect(isLoopbackAddress('127.0.0.1')).toBe(true);
  expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
  expect(isLoopbackAddress('::1')).toBe(true);
  expect(isLoopbackAddress('10.0.0.5')).toBe(false);
  expect(isLoopbackAddress('::ffff:192.168.1.2')).toBe(false);
  expect(isLoopbackAddress(undefined)).toBe(false);
  expect(isLoopbackUrl('http://localhost:3978/')).toBe(true);
  expect(isLoopbackUrl('http://127.0.0.1:9')).toBe(true);
  expect(isLoopbackUrl('http://localhost.attacker.com/')).toBe(false);
  expect(isLoopbackUrl('http://127.0.0.1@evil.com/')).toBe(false);
  expect(isLoopbackUrl('file:///etc/passwd')).toBe(false);
});

test('healthz and readyz answer JSON', async () => {
  const health = await fetch(`${t.url}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok' });
  const ready = await fetch(`${t.url}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready', database: true, nlu: true });
});
