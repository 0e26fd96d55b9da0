// Bad input on POST /api/sms. Properly signed requests (so the payload reaches
// the bot) with hostile bodies and fields get TwiML; unsigned, forged or
// garbled ones get 403/4xx before anything is read. Never a 500; no referral.
import fc from 'fast-check';
import twilio from 'twilio';
import { channelsOf } from '../../bot/channels';
import { AUTH_TOKEN, postSms, SMS_URL, startChannelApp, twilioParams, twimlMessages, type ChannelTestApp } from '../channels/helpers';
import { asBody, healthy } from './helpers';
import { contentType, invalidUtf8, messageText } from './arbitraries';

const MAX_BODY_BYTES = 16 * 1024;
let t: ChannelTestApp;
let referralsBefore: number;
const sent: string[] = [];

beforeAll(async () => {
  t = await startChannelApp({ MAX_BODY_BYTES: String(MAX_BODY_BYTES), MAX_MESSAGE_CHARS: '1000', RATE_LIMIT_PER_CONVERSATION: '100000', RATE_LIMIT_PER_SOURCE: '100000' });
  channelsOf(t.app.server).sms.setSender({ send: async ({ body }) => void sent.push(body) });
  referralsBefore = await t.app.services.db.referral.count();
});
afterAll(async () => {
  expect(await t.app.services.db.referral.count()).toBe(referralsBefore);
  expect(await healthy(t.url)).toBe(true);
  await t?.close();
});

let n = 0;
const sender = (): string => `+4477009${String(10000 + (n++ % 90000)).padStart(5, '0')}`;

async function rawSms(body: string | Buffer | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${t.url}/api/sms`, { method: 'POST', headers, body: asBody(body) });
  return { status: res.status, text: await res.text() };
}

test('signed messages with hostile text: 200 TwiML with at least one reply', async () => {
  // Inside the body limit once form-encoded (at most 3 bytes per byte).
  const fits = (s: string): boolean => Buffer.byteLength(s) * 3 < MAX_BODY_BYTES - 2000;
  await fc.assert(
    fc.asyncProperty(messageText(4000).filter((s) => s.trim().length > 0 && fits(s)), async (text) => {
      const reply = await postSms(t.url, twilioParams(sender(), text));
      expect(reply.status).toBe(200);
      expect(reply.contentType).toMatch(/^text\/xml/);
      expect(reply.body).toMatch(/^<\?xml[^>]*>\s*<Response>/);
      // Keywords (STOP/HELP) or the bot: something is always said back.
      expect(reply.messages.length).toBeGreaterThan(0);
      // Replies are plain SMS text: no markup a phone would show raw.
      for (const m of reply.messages) expect(m).not.toMatch(/<\/?[a-z]+[^>]*>/i);
    }),
    { numRuns: 60 },
  );
});

test('signed requests with odd fields (missing sender, media counts, repeated fields, unicode keys): never 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        From: fc.oneof(fc.constant(''), fc.constant(' '), fc.string({ maxLength: 30 }), fc.constantFrom('+447700900123', 'not a number', '\u202E+44')),
        Body: messageText(2000),
        NumMedia: fc.oneof(fc.constantFrom('0', '1', '-1', 'NaN', '1e309', ''), fc.string({ maxLength: 5 })),
        extra: fc.dictionary(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 30 }), { maxKeys: 4 }),
      }),
      async ({ From, Body, NumMedia, extra }) => {
        const params = { ...extra, ...twilioParams(From, Body, { NumMedia }) };
        const reply = await postSms(t.url, params);
        expect(reply.status).toBeLessThan(500);
        expect([200, 400, 413]).toContain(reply.status);
        if (reply.status === 200) expect(reply.contentType).toMatch(/^text\/xml/);
      },
    ),
    { numRuns: 60 },
  );
});

test('unsigned, forged or re-signed-for-another-URL requests: 403, and the bot never runs', async () => {
  await fc.assert(
    fc.asyncProperty(
      messageText(500),
      fc.oneof(fc.constant(null), fc.string({ maxLength: 40 }), fc.constant('AAAA'), fc.constant('x'.repeat(500))),
      async (text, signature) => {
        const reply = await postSms(t.url, twilioParams(sender(), text), { signature });
        // 413 when the text alone is over MAX_BODY_BYTES (checked before the signature).
        expect([403, 413]).toContain(reply.status);
        expect(twimlMessages(reply.body)).toEqual([]);
      },
    ),
    { numRuns: 40 },
  );
  const params = twilioParams(sender(), 'report');
  const otherUrl = await postSms(t.url, params, { signUrl: 'https://evil.example.org/api/sms' });
  expect(otherUrl.status).toBe(403);
  // A valid signature whose fields were changed afterwards.
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, SMS_URL, params);
  const tampered = await postSms(t.url, { ...params, Body: 'something else' }, { signature });
  expect(tampered.status).toBe(403);
});

test('raw bytes and wrong content types, signed or not: never 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(invalidUtf8, contentType, fc.boolean(), async (bytes, type, signed) => {
      const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
      // Signed over the fields as they parse (so a garbled body can still reach the handler).
      if (signed) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(AUTH_TOKEN, SMS_URL, Object.fromEntries(new URLSearchParams(bytes.toString('utf8'))));
      const res = await rawSms(bytes, headers);
      expect(res.status).toBeLessThan(500);
    }),
    { numRuns: 60 },
  );
  expect(await healthy(t.url)).toBe(true);
});

describe('hand-picked', () => {
  test('invalid UTF-8 and percent-encoding in a signed body: TwiML, not an error', async () => {
    const form = Buffer.concat([Buffer.from('From=%2B447700900555&Body='), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(`%E0%A4%A&MessageSid=SM${'fe'.repeat(16)}`)]);
    const params = Object.fromEntries(new URLSearchParams(form.toString('utf8')));
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, SMS_URL, params);
    const res = await rawSms(form, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature });
    expect(res.status).toBe(200);
    expect(twimlMessages(res.text).length).toBeGreaterThan(0);
  });

  test('an oversized body: 413; multipart: 415; compressed: 415', async () => {
    const big = new URLSearchParams(twilioParams(sender(), 'x'.repeat(MAX_BODY_BYTES * 2))).toString();
    expect((await rawSms(big, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(413);
    expect((await rawSms('--b\r\n\r\n--b--', { 'content-type': 'multipart/form-data; boundary=b' })).status).toBe(415);
    expect((await rawSms('x', { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' })).status).toBe(415);
  });

  test('a MessageSid that is missing or not a Twilio message id: 400 (a replay shifting characters between fields stays a replay)', async () => {
    const params = twilioParams(sender(), 'hello');
    const first = await postSms(t.url, params);
    expect(first.messages.length).toBeGreaterThan(0);
    // Fold the next field (NumMedia) into MessageSid's value: the sorted, joined fields, and so the signature, are unchanged.
    const { NumMedia, ...rest } = params;
    const shifted = { ...rest, MessageSid: `${params.MessageSid}NumMedia${NumMedia}` };
    expect(twilio.getExpectedTwilioSignature(AUTH_TOKEN, SMS_URL, shifted)).toBe(twilio.getExpectedTwilioSignature(AUTH_TOKEN, SMS_URL, params));
    expect((await postSms(t.url, shifted)).status).toBe(400);
    const { MessageSid: _dropped, ...noSid } = twilioParams(sender(), 'hello');
    expect((await postSms(t.url, noSid)).status).toBe(400);
    expect((await postSms(t.url, { ...twilioParams(sender(), 'hello'), MessageSid: 'SMnot-hex' })).status).toBe(400);
  });

  test('fields named like Object.prototype members are fields like any other', async () => {
    for (const key of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf']) {
      const reply = await postSms(t.url, { ...twilioParams(sender(), 'hello'), [key]: 'x' });
      expect(reply.status).toBe(200);
      expect(reply.messages.length).toBeGreaterThan(0);
    }
  });

  test('SQL and script injection in the body are just text', async () => {
    for (const text of ["'; DROP TABLE \"Referral\"; --", '<script>alert(1)</script>', ']]></Message><Message>forged']) {
      const reply = await postSms(t.url, twilioParams(sender(), text));
      expect(reply.status).toBe(200);
      // The reply is well-formed TwiML: the text can't close or add a <Message>.
      expect(reply.body.match(/<Message>/g)?.length).toBe(reply.messages.length);
      expect(reply.body).not.toContain('<Message>forged');
    }
  });
});
