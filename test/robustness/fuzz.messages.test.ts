// Bad input on POST /api/messages (from loopback, as the Emulator and tests
// call it): property-based fuzzing and hand-picked cases. Every request gets a
// clear 4xx or a normal reply: never a 500, never a crash, never a referral.
import fc from 'fast-check';
import { startApp, type TestApp } from '../helpers/app';
import { activity, asBody, healthy, NASTY_STRINGS, postMessages } from './helpers';
import { anyJson, contentType, deepJson, invalidUtf8, messageText, protoPollution } from './arbitraries';

const MAX_BODY_BYTES = 16 * 1024;
const MAX_MESSAGE_CHARS = 1000;
let t: TestApp;
let referralsBefore: number;

beforeAll(async () => {
  t = await startApp({
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_MESSAGE_CHARS: String(MAX_MESSAGE_CHARS),
    RATE_LIMIT_PER_CONVERSATION: '100000',
    RATE_LIMIT_PER_SOURCE: '100000',
  });
  referralsBefore = await t.app.services.db.referral.count();
});
afterAll(async () => {
  // Garbage never becomes a referral, and the service is still up.
  expect(await t.app.services.db.referral.count()).toBe(referralsBefore);
  expect(await healthy(t.url)).toBe(true);
  await t?.close();
});

const m = () => t.app.services.content.messages;

async function raw(body: string | Buffer | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${t.url}/api/messages`, { method: 'POST', headers, body: asBody(body) });
  return { status: res.status, text: await res.text() };
}

const headersFor = (type: string | undefined): Record<string, string> => (type === undefined ? {} : { 'content-type': type });

test('any JSON value, with any content type: a 4xx or a reply, never 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(anyJson.map((v) => JSON.stringify(v)), protoPollution), contentType, async (body, type) => {
      const res = await raw(body, headersFor(type));
      expect(res.status).toBeLessThan(500);
      expect([200, 400, 413, 415]).toContain(res.status);
    }),
    { numRuns: 100 },
  );
  expect(await healthy(t.url)).toBe(true);
});

test('bytes that are not UTF-8, with any content type: never 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(invalidUtf8, contentType, async (bytes, type) => {
      const res = await raw(bytes, headersFor(type));
      expect(res.status).toBeLessThan(500);
    }),
    { numRuns: 80 },
  );
  expect(await healthy(t.url)).toBe(true);
});

test('activities with hostile text (unicode, RTL, emoji, controls, injection, very long): a normal reply', async () => {
  await fc.assert(
    fc.asyncProperty(messageText(MAX_BODY_BYTES / 2), fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }), async (text, conversationId) => {
      const turn = await postMessages(t.url, activity(text, { conversationId }));
      expect(turn.status).toBe(200);
      // Every message gets an answer: a menu, a topic, a question, or guidance.
      expect(turn.messages.length).toBeGreaterThan(0);
      for (const reply of turn.texts) expect(reply).not.toContain('<script>');
    }),
    { numRuns: 100 },
  );
  expect(await healthy(t.url)).toBe(true);
});

test('activity-shaped objects with wrong field types: 4xx or a reply, never 5xx', async () => {
  const anyField = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        type: fc.oneof(fc.constantFrom('message', 'conversationUpdate', 'typing', 'event', 'invoke', 'endOfConversation', 'messageReaction'), anyField),
        text: fc.oneof(messageText(2000), anyField),
        channelId: fc.oneof(fc.constantFrom('emulator', 'webchat', 'msteams'), anyField),
        conversation: fc.oneof(fc.record({ id: fc.oneof(fc.string({ maxLength: 40 }), anyField) }), anyField),
        from: fc.oneof(fc.record({ id: fc.string({ maxLength: 40 }), name: anyField }), anyField),
        recipient: fc.oneof(fc.record({ id: fc.string({ maxLength: 40 }) }), anyField),
        membersAdded: fc.oneof(fc.array(fc.record({ id: fc.string({ maxLength: 10 }) }), { maxLength: 3 }), anyField),
        value: anyField,
        attachments: fc.oneof(fc.array(fc.record({ contentType: fc.string(), contentUrl: fc.webUrl() }), { maxLength: 2 }), anyField),
        entities: anyField,
        channelData: anyField,
        locale: fc.oneof(fc.constantFrom('en-GB', 'ar', 'he-IL', ''), anyField),
        name: anyField,
      }),
      async (fields) => {
        const body = { ...fields, deliveryMode: 'expectReplies', serviceUrl: 'http://127.0.0.1:9' };
        const turn = await postMessages(t.url, body);
        expect(turn.status).toBeLessThan(500);
      },
    ),
    { numRuns: 100 },
  );
  expect(await healthy(t.url)).toBe(true);
});

test('deeply nested JSON is refused with 400, not a stack overflow', async () => {
  await fc.assert(
    fc.asyncProperty(deepJson(activity('hi', { conversationId: 'deep' })), async (body) => {
      const res = await raw(body, { 'content-type': 'application/json' });
      expect([400, 413]).toContain(res.status);
    }),
    { numRuns: 20 },
  );
});

describe('hand-picked', () => {
  test('malformed JSON, truncated JSON, empty body: 400', async () => {
    for (const body of ['{"type": "message", ', '{', '', 'null', '[]', '"message"', '{"type":"message"}}', '\uFEFF{"type":"message"}', 'NaN']) {
      const res = await raw(body, { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
    }
  });

  test('a body over MAX_BODY_BYTES: 413 (declared length and chunked)', async () => {
    const big = JSON.stringify(activity('x'.repeat(MAX_BODY_BYTES * 2)));
    expect((await raw(big, { 'content-type': 'application/json' })).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const res = await fetch(`${t.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  test('a compressed body (even a corrupt one or a gzip bomb): 415, and the process lives', async () => {
    const zlib = await import('node:zlib');
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)); // 50 MB of spaces in ~50 KB
    for (const [encoding, body] of [
      ['gzip', Buffer.from('not gzip at all')],
      ['gzip', bomb.subarray(0, Math.min(bomb.length, MAX_BODY_BYTES - 100))],
      ['deflate', Buffer.from('x')],
      ['br', Buffer.from('x')],
      ['gzip, identity', zlib.gzipSync(Buffer.from(JSON.stringify(activity('hi'))))],
    ] as const) {
      const res = await raw(body, { 'content-type': 'application/json', 'content-encoding': encoding });
      expect(res.status).toBe(415);
    }
    expect(await healthy(t.url)).toBe(true);
  });

  test('a message longer than MAX_MESSAGE_CHARS is read (cut), not refused', async () => {
    const turn = await postMessages(t.url, activity(`what is cuckooing ${'x'.repeat(MAX_MESSAGE_CHARS * 3)}`, { conversationId: 'long-1' }));
    expect(turn.status).toBe(200);
    expect(turn.messages.length).toBeGreaterThan(0);
  });

  test('an activity without a conversation, channel or sender: 400', async () => {
    for (const drop of ['conversation', 'channelId', 'from'] as const) {
      const body = activity('hi');
      delete body[drop];
      expect((await postMessages(t.url, body)).status).toBe(400);
    }
    expect((await postMessages(t.url, activity('hi', { extra: { conversation: { id: '' } } }))).status).toBe(400);
    expect((await postMessages(t.url, activity('hi', { extra: { conversation: { id: 'x'.repeat(5000) } } }))).status).toBe(400);
  });

  test('danger in right-to-left text, emoji or with control characters still gets 999 guidance first', async () => {
    for (const text of ['\u202Ethey are going to stab me\u202C', 'they are going to stab me 😱🔪', 'they\u0000 are going to stab me', 'they are going to\u200B stab me']) {
      const turn = await postMessages(t.url, activity(text, { conversationId: `danger-${text.length}-${text.charCodeAt(4)}` }));
      expect(turn.status).toBe(200);
      expect(turn.texts[0]).toBe(m().t('danger'));
    }
  });

  test('SQL and script injection are just text: a reply, and the referral table is untouched', async () => {
    for (const text of NASTY_STRINGS.slice(0, 11)) {
      const turn = await postMessages(t.url, activity(text, { conversationId: 'inject-1' }));
      expect(turn.status).toBe(200);
    }
    expect(await t.app.services.db.referral.count()).toBe(referralsBefore);
  });
});
