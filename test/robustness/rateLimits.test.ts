// Rate limits on every public endpoint, per conversation and per source, with
// small limits set through RATE_LIMIT_PER_CONVERSATION / RATE_LIMIT_PER_SOURCE.
// Sources are told apart by the X-Forwarded-For a reverse proxy on the same
// host writes; limiter keys are keyed hashes, so no address is ever logged.
import { channelsOf } from '../../bot/channels';
import twilio from 'twilio';
import { AUTH_TOKEN, postSms, SMS_URL, startChannelApp, twilioParams, twimlMessages, type ChannelTestApp } from '../channels/helpers';
import { activity, postMessages } from './helpers';

const PER_CONVERSATION = 3;
const PER_SOURCE = 5;

let t: ChannelTestApp;
beforeAll(async () => {
  // Callers behind a reverse proxy are remote: without Azure credentials /api/messages serves them only when allowed.
  t = await startChannelApp({ RATE_LIMIT_PER_CONVERSATION: String(PER_CONVERSATION), RATE_LIMIT_PER_SOURCE: String(PER_SOURCE), LOG_LEVEL: 'trace', ALLOW_UNAUTHENTICATED_REMOTE: 'true' });
  channelsOf(t.app.server).sms.setSender({ send: async () => undefined });
});
afterAll(async () => {
  await channelsOf(t.app.server).directLine.idle();
  // Sources are addresses: none is ever written to the log.
  expect(t.logs.join('\n')).not.toMatch(/203\.0\.113\.|198\.51\.100\./);
  await t?.close();
});

const from = (ip: string): Record<string, string> => ({ 'content-type': 'application/json', 'x-forwarded-for': ip });

function expectRetryAfter(value: string | null): void {
  expect(value).not.toBeNull();
  expect(Number(value)).toBeGreaterThan(0);
  expect(Number(value)).toBeLessThanOrEqual(60);
}

describe('/api/messages', () => {
  test(`per conversation: the ${PER_CONVERSATION + 1}th message in a minute gets 429 with Retry-After; other conversations and typing are unaffected`, async () => {
    const ip = '203.0.113.10';
    for (let i = 0; i < PER_CONVERSATION; i++) {
      expect((await postMessages(t.url, activity('hello', { conversationId: 'rl-conv-a' }), from(ip))).status).toBe(200);
    }
    const limited = await postMessages(t.url, activity('hello', { conversationId: 'rl-conv-a' }), from('203.0.113.11'));
    expect(limited.status).toBe(429);
    expectRetryAfter(limited.retryAfter);
    // The same conversation id on another channel is another conversation.
    expect((await postMessages(t.url, activity('hello', { conversationId: 'rl-conv-a', channelId: 'webchat' }), from('203.0.113.12'))).status).toBe(200);
    expect((await postMessages(t.url, activity('hello', { conversationId: 'rl-conv-b' }), from('203.0.113.12'))).status).toBe(200);
    // Typing indicators are not messages: they don't use up the conversation's allowance.
    const typing = { ...activity(undefined, { conversationId: 'rl-conv-a' }), type: 'typing' };
    expect((await postMessages(t.url, typing, from('203.0.113.13'))).status).toBe(200);
  });

  test(`per source: the ${PER_SOURCE + 1}th request in a minute gets 429; another source is unaffected`, async () => {
    const ip = '203.0.113.20';
    for (let i = 0; i < PER_SOURCE; i++) {
      expect((await postMessages(t.url, activity('hello', { conversationId: `rl-src-${i}` }), from(ip))).status).toBe(200);
    }
    const limited = await postMessages(t.url, activity('hello', { conversationId: 'rl-src-new' }), from(ip));
    expect(limited.status).toBe(429);
    expectRetryAfter(limited.retryAfter);
    expect((await postMessages(t.url, activity('hello', { conversationId: 'rl-src-new' }), from('203.0.113.21'))).status).toBe(200);
  });

  test('with Azure credentials, refused callers (no valid token) use up their source\'s allowance: 429 after it; other sources unaffected', async () => {
    const azure = await startChannelApp({
      MicrosoftAppId: '00000000-0000-0000-0000-000000000001',
      MicrosoftAppPassword: 'not-a-real-password',
      RATE_LIMIT_PER_SOURCE: String(PER_SOURCE),
      LOG_LEVEL: 'silent',
    });
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const unsigned = (ip: string) => postMessages(azure.url, { ...activity('hi'), serviceUrl: 'https://smba.example.invalid/' }, from(ip));
      for (let i = 0; i < PER_SOURCE; i++) expect((await unsigned('198.51.100.7')).status).toBe(401);
      const limited = await unsigned('198.51.100.7');
      expect(limited.status).toBe(429);
      expectRetryAfter(limited.retryAfter);
      expect((await unsigned('198.51.100.8')).status).toBe(401);
    } finally {
      quiet.mockRestore();
      await azure.close();
    }
  });
});

describe('/api/sms', () => {
  test(`per sender (the conversation): past ${PER_CONVERSATION} messages a minute the bot stays silent (empty TwiML); other senders are unaffected`, async () => {
    for (let i = 0; i < PER_CONVERSATION; i++) {
      const reply = await postSms(t.url, twilioParams('+447700900301', 'what is cuckooing'));
      expect(reply.status).toBe(200);
      expect(reply.messages.length).toBeGreaterThan(0);
    }
    const limited = await postSms(t.url, twilioParams('+447700900301', 'what is cuckooing'));
    // Twilio expects 200 TwiML; an empty <Response/> sends nothing back.
    expect(limited.status).toBe(200);
    expect(limited.messages).toEqual([]);
    const other = await postSms(t.url, twilioParams('+447700900302', 'what is cuckooing'));
    expect(other.messages.length).toBeGreaterThan(0);
  });

  test(`per source: past ${PER_SOURCE} refused (unsigned) requests a minute, 429; Twilio's signed requests are never refused for it`, async () => {
    const forged = (ip: string) =>
      fetch(`${t.url}/api/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, 'x-twilio-signature': 'forged' },
        body: new URLSearchParams(twilioParams('+447700900303', 'hi')).toString(),
      });
    for (let i = 0; i < PER_SOURCE; i++) expect((await forged('203.0.113.30')).status).toBe(403);
    const limited = await forged('203.0.113.30');
    expect(limited.status).toBe(429);
    expectRetryAfter(limited.headers.get('retry-after'));
    expect((await forged('203.0.113.31')).status).toBe(403);
    // A properly signed request from that very source still gets through.
    const params = twilioParams('+447700900304', 'what is cuckooing');
    const signed = await fetch(`${t.url}/api/sms`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': '203.0.113.30',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, SMS_URL, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(signed.status).toBe(200);
    expect(twimlMessages(await signed.text()).length).toBeGreaterThan(0);
  });
});

describe('Direct Line (web chat)', () => {
  const base = () => `${t.url}/v3/directline`;
  const generate = (ip: string) => fetch(`${base()}/tokens/generate`, { method: 'POST', headers: { 'x-forwarded-for': ip } });

  test(`per source: the ${PER_SOURCE + 1}th new conversation in a minute gets 429; another source is unaffected`, async () => {
    for (let i = 0; i < PER_SOURCE; i++) expect((await generate('203.0.113.40')).status).toBe(200);
    const limited = await generate('203.0.113.40');
    expect(limited.status).toBe(429);
    expectRetryAfter(limited.headers.get('retry-after'));
    expect((await generate('203.0.113.41')).status).toBe(200);
  });

  test(`per conversation: the ${PER_CONVERSATION + 1}th message in a minute gets 429; another conversation is unaffected`, async () => {
    const open = async (ip: string) => {
      const c = (await (await generate(ip)).json()) as { conversationId: string; token: string };
      const post = (text: string) =>
        fetch(`${base()}/conversations/${c.conversationId}/activities`, {
          method: 'POST',
          headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'message', text }),
        });
      return post;
    };
    const a = await open('203.0.113.50');
    for (let i = 0; i < PER_CONVERSATION; i++) expect((await a('hello')).status).toBe(200);
    const limited = await a('hello');
    expect(limited.status).toBe(429);
    expectRetryAfter(limited.headers.get('retry-after'));
    const b = await open('203.0.113.51');
    expect((await b('hello')).status).toBe(200);
  });
});
