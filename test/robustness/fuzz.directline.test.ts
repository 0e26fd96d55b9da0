// Bad input on the self-hosted Direct Line API (the web chat): POST
// /v3/directline/conversations/:id/activities with a valid token, and the
// other routes with broken tokens, ids and watermarks. Every request gets a
// 4xx or a normal answer; the stream only ever holds well-formed activities.
import fc from 'fast-check';
import { channelsOf } from '../../bot/channels';
import { startChannelApp, type ChannelTestApp } from '../channels/helpers';
import { asBody, healthy, NASTY_STRINGS } from './helpers';
import { anyJson, contentType, deepJson, invalidUtf8, messageText, protoPollution } from './arbitraries';

const MAX_BODY_BYTES = 16 * 1024;
let t: ChannelTestApp;
let base = '';
let referralsBefore: number;

beforeAll(async () => {
  t = await startChannelApp({ MAX_BODY_BYTES: String(MAX_BODY_BYTES), MAX_MESSAGE_CHARS: '1000', RATE_LIMIT_PER_CONVERSATION: '100000', RATE_LIMIT_PER_SOURCE: '100000' });
  base = `${t.url}/v3/directline`;
  referralsBefore = await t.app.services.db.referral.count();
});
afterAll(async () => {
  await channelsOf(t.app.server).directLine.idle();
  expect(await t.app.services.db.referral.count()).toBe(referralsBefore);
  expect(await healthy(t.url)).toBe(true);
  await t?.close();
});

interface Conversation {
  conversationId: string;
  token: string;
}

async function conversation(): Promise<Conversation> {
  const res = await fetch(`${base}/tokens/generate`, { method: 'POST' });
  expect(res.status).toBe(200);
  const c = (await res.json()) as Conversation;
  expect((await fetch(`${base}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${c.token}` } })).status).toBe(201);
  return c;
}

async function post(c: Conversation, body: string | Buffer | undefined, type: string | undefined = 'application/json'): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${c.token}` };
  if (type !== undefined) headers['content-type'] = type;
  const res = await fetch(`${base}/conversations/${c.conversationId}/activities`, { method: 'POST', headers, body: asBody(body) });
  return { status: res.status, text: await res.text() };
}

/** Everything in the conversation's stream, once the bot's turns have finished. */
async function stream(c: Conversation): Promise<Array<Record<string, unknown>>> {
  await channelsOf(t.app.server).directLine.idle();
  const all: Array<Record<string, unknown>> = [];
  for (let watermark = '0'; ; ) {
    const res = await fetch(`${base}/conversations/${c.conversationId}/activities?watermark=${watermark}`, { headers: { authorization: `Bearer ${c.token}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { activities: Array<Record<string, unknown>>; watermark: string };
    if (!page.activities.length) return all;
    all.push(...page.activities);
    watermark = page.watermark;
  }
}

test('hostile message text: 200 { id }, the echo and a bot reply in the stream', async () => {
  const c = await conversation();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(messageText(5000).filter((s) => s.trim().length > 0), async (text) => {
      const res = await post(c, JSON.stringify({ type: 'message', text, from: { id: 'r_fuzz' }, channelData: { clientActivityID: `c${sent}` } }));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ id: expect.stringContaining(c.conversationId) });
      sent += 1;
    }),
    { numRuns: 60 },
  );
  const activities = await stream(c);
  const echoes = activities.filter((a) => (a.from as { role?: string }).role === 'user');
  const replies = activities.filter((a) => (a.from as { role?: string }).role === 'bot' && a.type === 'message');
  expect(echoes).toHaveLength(sent);
  expect(replies.length).toBeGreaterThanOrEqual(sent);
  // No reply is an error: the bot understood (or politely didn't) every message.
  const error = t.app.services.content.messages.t('error_safety');
  expect(replies.filter((a) => a.text === error)).toEqual([]);
});

test('any JSON body, proto keys and deep nesting: 200 or 400, never 5xx', async () => {
  const c = await conversation();
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        anyJson.map((v) => JSON.stringify(v)),
        protoPollution,
        deepJson({ type: 'message', text: 'hi' }),
        fc.record({
          type: fc.oneof(fc.constantFrom('message', 'typing', 'event', 'invoke', ''), fc.jsonValue({ maxDepth: 1 })),
          text: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
          value: fc.jsonValue({ maxDepth: 3 }),
          locale: fc.oneof(fc.constantFrom('en-GB', 'ar-SA', 'he', 'x'.repeat(50), '../../etc'), fc.string({ maxLength: 10 })),
          from: fc.oneof(fc.record({ id: fc.string({ unit: 'binary', maxLength: 150 }), role: fc.constantFrom('bot', 'user', 'channel') }), fc.jsonValue({ maxDepth: 1 })),
          attachments: fc.oneof(fc.array(fc.record({ contentType: fc.string({ maxLength: 300 }), contentUrl: fc.webUrl(), name: fc.string() }), { maxLength: 25 }), fc.jsonValue({ maxDepth: 1 })),
          channelData: fc.oneof(fc.record({ clientActivityID: fc.string({ maxLength: 300 }) }), fc.jsonValue({ maxDepth: 1 })),
        }).map((v) => JSON.stringify(v)),
      ),
      async (body) => {
        const res = await post(c, body);
        expect(res.status).toBeLessThan(500);
        expect([200, 400, 413]).toContain(res.status);
      },
    ),
    { numRuns: 100 },
  );
  // Whatever was accepted went into the stream well-formed: the client can always read it back.
  for (const a of await stream(c)) {
    expect(typeof a.id).toBe('string');
    expect(typeof a.type).toBe('string');
    // The user can never speak as the bot.
    if ((a.from as { id?: string }).id === 'speaksafe') expect((a.from as { role?: string }).role).toBe('bot');
  }
});

test('raw bytes and wrong content types: never 5xx', async () => {
  const c = await conversation();
  await fc.assert(
    fc.asyncProperty(invalidUtf8, contentType, async (bytes, type) => {
      const res = await post(c, bytes, type);
      expect(res.status).toBeLessThan(500);
    }),
    { numRuns: 60 },
  );
});

test('broken tokens, conversation ids and watermarks: 4xx, never 5xx', async () => {
  const c = await conversation();
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.constant(c.token), fc.string({ maxLength: 200 }), fc.constant(`${c.token}x`), fc.constant(c.token.replace(/.$/, 'A')), fc.constant('')),
      fc.oneof(fc.constant(c.conversationId), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 70 }).map(encodeURIComponent), fc.constantFrom('..', '%00', 'x'.repeat(65), '%E0%A4%A')),
      fc.oneof(fc.constant(undefined), fc.string({ maxLength: 12 }), fc.constantFrom('-1', '1e9', '9007199254740993', '0x10', 'NaN', '1&watermark=2')),
      async (token, id, watermark) => {
        const query = watermark === undefined ? '' : `?watermark=${watermark}`;
        const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
        for (const res of [
          await fetch(`${base}/conversations/${id}/activities${query}`, { headers }),
          await fetch(`${base}/conversations/${id}`, { headers }),
          await fetch(`${base}/tokens/refresh`, { method: 'POST', headers }),
        ]) {
          expect(res.status).toBeLessThan(500);
        }
      },
    ),
    { numRuns: 60 },
  );
});

describe('hand-picked', () => {
  test('oversized, compressed and multipart bodies: 413 / 415', async () => {
    const c = await conversation();
    expect((await post(c, JSON.stringify({ type: 'message', text: 'x'.repeat(MAX_BODY_BYTES * 2) }))).status).toBe(413);
    expect((await post(c, '--b\r\n\r\n--b--', 'multipart/form-data; boundary=b')).status).toBe(415);
    const res = await fetch(`${base}/conversations/${c.conversationId}/activities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: 'garbage',
    });
    expect(res.status).toBe(415);
  });

  test('a value nested too deeply: 400, and the conversation still works', async () => {
    const c = await conversation();
    const deep = JSON.stringify({ type: 'message', text: 'hi', value: 0 }).replace('0', `${'['.repeat(5000)}${']'.repeat(5000)}`);
    expect((await post(c, deep)).status).toBe(400);
    expect((await post(c, JSON.stringify({ type: 'message', text: 'what is cuckooing' }))).status).toBe(200);
    const bot = (await stream(c)).filter((a) => (a.from as { role?: string }).role === 'bot');
    expect(bot.length).toBeGreaterThan(0);
  });

  test('injection and markup in text stay text in the stream', async () => {
    const c = await conversation();
    for (const text of NASTY_STRINGS.slice(0, 11)) expect((await post(c, JSON.stringify({ type: 'message', text }))).status).toBe(200);
    const echoes = (await stream(c)).filter((a) => (a.from as { role?: string }).role === 'user').map((a) => a.text);
    expect(echoes).toEqual(NASTY_STRINGS.slice(0, 11));
  });
});
