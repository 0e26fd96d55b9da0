// POST /api/sms driven as Twilio drives it: form posts signed with the twilio
// library's own signing function, TwiML back.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../bot/app';
import { channelsOf } from '../../bot/channels';
import { segmentCount } from '../../bot/channels/smsText';
import { keyedHash } from '../../bot/util/crypto';
import {
  databaseBytes,
  numberFormats,
  postSms,
  REFERENCE_RE,
  reporterAnswer,
  smsOptions,
  startChannelApp,
  twilioParams,
  waitUntil,
  type ChannelTestApp,
  type SmsReply,
} from './helpers';

let t: ChannelTestApp;
const numbersUsed = new Set<string>();
let n = 0;
/** A fresh sender (Ofcom's drama range), remembered for the "never stored" checks. */
const newSender = (): string => {
  n += 1;
  const number = `+4477009${String(100 + n).padStart(5, '0')}`;
  numbersUsed.add(number);
  return number;
};

beforeAll(async () => {
  t = await startChannelApp();
});
afterAll(async () => {
  await channelsOf(t.app.server).sms.idle();
  await t?.close();
});

const m = () => t.app.services.content.messages;
const sms = (from: string, body: string, extra: Record<string, string> = {}): Promise<SmsReply> => postSms(t.url, twilioParams(from, body, extra));
const stateCount = () => t.app.services.db.botState.count();

/** Reply with the number of the option with this title. */
async function pick(from: string, reply: SmsReply, title: string): Promise<SmsReply> {
  const options = smsOptions(reply.messages);
  const i = options.indexOf(title);
  if (i < 0) throw new Error(`No option "${title}" in ${JSON.stringify(options)}; messages: ${reply.messages.join('\n---\n')}`);
  return sms(from, String(i + 1));
}

function expectPlainSms(reply: SmsReply): void {
  expect(reply.status).toBe(200);
  expect(reply.contentType).toMatch(/^text\/xml/);
  expect(reply.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response>/);
  for (const message of reply.messages) {
    expect(message).not.toMatch(/\*|`|^#|(^|\s)_\S/m);
    expect(segmentCount(message).segments).toBeLessThanOrEqual(3);
  }
}

describe('signature', () => {
  it('refuses an unsigned, forged or re-targeted request with 403, changing nothing', async () => {
    const from = newSender();
    const before = { state: await stateCount(), referrals: await t.app.services.db.referral.count() };
    const params = twilioParams(from, 'Hi');
    const cases: SmsReply[] = [
      await postSms(t.url, params, { signature: null }),
      await postSms(t.url, params, { signature: '' }),
      await postSms(t.url, params, { signature: 'bm90IGEgc2lnbmF0dXJl' }),
      // Signed for another URL (e.g. an attacker's own Twilio webhook).
      await postSms(t.url, params, { signUrl: 'https://attacker.example.com/api/sms' }),
      // Signed with the wrong auth token.
      await postSms(t.url, params, { signature: (await import('twilio')).default.getExpectedTwilioSignature('wrong-token', 'https://speaksafe.example.org/api/sms', params) }),
    ];
    // A correctly signed request whose body was then changed.
    const signedFor = twilioParams(from, 'Hi');
    const sig = (await import('twilio')).default.getExpectedTwilioSignature('test-token', 'https://speaksafe.example.org/api/sms', signedFor);
    cases.push(await postSms(t.url, { ...signedFor, Body: 'STOP' }, { signature: sig }));
    for (const c of cases) {
      expect(c.status).toBe(403);
      expect(c.messages).toEqual([]);
    }
    expect(await stateCount()).toBe(before.state);
    expect(await t.app.services.db.referral.count()).toBe(before.referrals);
  });

  it('accepts a request signed with a query string in the public URL', async () => {
    const reply = await postSms(t.url, twilioParams(newSender(), 'Hi'), { query: '?source=uk-number' });
    expect(reply.status).toBe(200);
    expect(reply.messages.join('\n')).toContain(m().t('ask_audience'));
  });

  it('answers 503 when no auth token is configured (never open)', async () => {
    const config = t.app.services.config;
    const token = config.TWILIO_AUTH_TOKEN;
    config.TWILIO_AUTH_TOKEN = undefined;
    try {
      const reply = await sms(newSender(), 'Hi');
      expect(reply.status).toBe(503);
    } finally {
      config.TWILIO_AUTH_TOKEN = token;
    }
  });
});

describe('conversations', () => {
  it('a learning flow: numbered options picked by number and by words', async () => {
    const from = newSender();
    let reply = await sms(from, 'Hi');
    expectPlainSms(reply);
    const text = reply.messages.join('\n');
    expect(text).toContain(m().t('welcome'));
    expect(text).toContain(`1. ${m().t('audience.young_person')}`);
    expect(text).toMatch(/Reply 1, 2, 3, 4 or 5\.?$/m);

    reply = await pick(from, reply, m().t('audience.young_person'));
    expectPlainSms(reply);
    expect(reply.messages.join('\n')).toContain(m().t('topic_menu'));
    expect(smsOptions(reply.messages)).toContain('What is county lines?');

    // A reply in words picks the option too.
    reply = await sms(from, 'what is county lines?');
    expectPlainSms(reply);
    const topic = reply.messages.join('\n');
    expect(topic).toContain('County lines is when a gang sells drugs');
    expect(topic).toContain('This is called the deal line.');
    expect(topic).not.toContain('**');
    expect(topic).toContain(m().t('after_topic'));

    // The conversation is keyed by a hash of the number, and survives in the database.
    const id = keyedHash(t.app.services.secrets.identityHashSecret, 'sms', from);
    const stored = await t.app.services.storage.read([`sms/conversations/${id}/`, `sms/users/${id}/`]);
    expect(Object.keys(stored)).toHaveLength(2);
  });

  it('a long topic is split at sentence boundaries, at most 3 segments each', async () => {
    const from = newSender();
    let reply = await sms(from, 'Hi');
    reply = await pick(from, reply, m().t('audience.parent_carer'));
    const options = smsOptions(reply.messages);
    // The longest topic on the menu.
    const longest = options
      .map((title) => ({ title, topic: t.app.services.content.topics.find((x) => x.title === title && x.audience.includes('parent_carer')) }))
      .filter((x) => x.topic)
      .sort((a, b) => b.topic!.body.length - a.topic!.body.length)[0];
    reply = await pick(from, reply, longest.title);
    expectPlainSms(reply);
    expect(reply.messages.length).toBeGreaterThan(1);
    for (const message of reply.messages.slice(0, -1)) expect(message).toMatch(/[.!?:)"']$/);
  });

  it('a complete referral, answering by number, ends with a reference stored on the sms channel', async () => {
    const from = newSender();
    let reply = await sms(from, 'Hi');
    reply = await pick(from, reply, m().t('audience.neighbour_resident'));
    reply = await pick(from, reply, m().t('menu.report'));
    expect(reply.messages.join('\n')).toContain(m().t('referral.ask.concern'));
    const town = t.app.services.content.area.towns[0].name;
    let reference: string | undefined;
    for (let i = 0; i < 30 && !reference; i++) {
      expectPlainSms(reply);
      const text = reply.messages.join('\n');
      const options = smsOptions(reply.messages);
      const answer = reporterAnswer(m(), text, options, town);
      reply = 'pick' in answer ? await pick(from, reply, answer.pick) : await sms(from, answer.say);
      reference = REFERENCE_RE.exec(reply.messages.join('\n'))?.[0];
    }
    expect(reference).toBeDefined();
    const referral = await t.app.services.db.referral.findUnique({ where: { reference: reference! } });
    expect(referral).toMatchObject({ channel: 'sms', concernType: 'young_person', subjectAgeBand: '13_15', reporterRelationship: 'neighbour' });
    expect(referral!.narrative).toContain('silver car');
  });
});

describe('keywords', () => {
  it('STOP deletes the conversation, then silence until START; HELP always answers', async () => {
    const from = newSender();
    const id = keyedHash(t.app.services.secrets.identityHashSecret, 'sms', from);
    const keys = [`sms/conversations/${id}/`, `sms/users/${id}/`];
    let reply = await sms(from, 'Hi');
    await pick(from, reply, m().t('audience.young_person'));
    expect(Object.keys(await t.app.services.storage.read(keys))).toHaveLength(2);

    reply = await sms(from, 'Stop');
    expect(reply.messages).toEqual([m().t('sms_stopped')]);
    expect(await t.app.services.storage.read(keys)).toEqual({});

    reply = await sms(from, 'hello?');
    expect(reply.status).toBe(200);
    expect(reply.messages).toEqual([]);
    expect(await t.app.services.storage.read(keys)).toEqual({});

    // Someone who stopped and then texts that they are in danger gets the danger advice, and only that:
    // nothing is stored and no conversation starts.
    reply = await sms(from, 'theyre outside with a knife');
    expect(reply.messages.join('\n')).toBe(`${m().t('danger')}\n${m().t('sms_stopped_danger')}`);
    expect(await t.app.services.storage.read(keys)).toEqual({});
    reply = await sms(from, 'what is cuckooing');
    expect(reply.messages).toEqual([]);

    // "HELP" is the carrier keyword and a cry for help: the danger advice first, then what SpeakSafe is.
    reply = await sms(from, 'HELP');
    expect(reply.messages.join('\n')).toBe(`${m().t('danger')}\n${m().t('sms_help')}`);
    expect(reply.messages.join(' ')).toMatch(/999/);
    expect(reply.messages.join(' ')).toContain('0800 1111');
    expect(reply.messages.join(' ')).toContain('0800 555 111');

    reply = await sms(from, 'start');
    expect(reply.messages).toEqual([m().t('sms_started')]);
    reply = await sms(from, 'Hi');
    expect(reply.messages.join('\n')).toContain(m().t('ask_audience'));
  });

  it('UNSUBSCRIBE and END stop too', async () => {
    for (const word of ['UNSUBSCRIBE', 'end']) {
      const reply = await sms(newSender(), word);
      expect(reply.messages).toEqual([m().t('sms_stopped')]);
    }
  });

  it('a replayed webhook (same MessageSid) runs once', async () => {
    const from = newSender();
    const params = twilioParams(from, 'Hi');
    const first = await postSms(t.url, params);
    expect(first.messages.length).toBeGreaterThan(0);
    const again = await postSms(t.url, params);
    expect(again.status).toBe(200);
    expect(again.messages).toEqual([]);
  });
});

describe('pictures', () => {
  let mediaHits = 0;
  let media: http.Server;
  let mediaUrl = '';
  beforeAll(async () => {
    media = http.createServer((_req, res) => {
      mediaHits += 1;
      res.end('picture');
    });
    await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
    mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}/Media/ME0001`;
  });
  afterAll(async () => new Promise<void>((r) => media.close(() => r())));

  it('MMS media is never fetched; the bot asks for words, and answers any text', async () => {
    const from = newSender();
    const extra = { NumMedia: '1', MediaUrl0: mediaUrl, MediaContentType0: 'image/jpeg' };
    let reply = await sms(from, '', extra);
    expect(reply.messages).toEqual([m().t('sms_no_pictures')]);
    reply = await sms(from, 'Hi', extra);
    expect(reply.messages.join('\n').startsWith(m().t('sms_no_pictures'))).toBe(true);
    expect(reply.messages.join('\n')).toContain(m().t('ask_audience'));
    await new Promise((r) => setTimeout(r, 100));
    expect(mediaHits).toBe(0);
    expect(databaseBytes(t.dbFile).includes(Buffer.from('ME0001'))).toBe(false);
  });
});

describe('files', () => {
  it('a multipart post (a file) is refused before it can reach the disk', async () => {
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('upload_')));
    for (const path of ['/api/sms', '/v3/directline/tokens/generate']) {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('picture bytes')]), 'photo.jpg');
      const res = await fetch(`${t.url}${path}`, { method: 'POST', body: form });
      expect(res.status).toBe(415);
    }
    const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('upload_') && !before.has(f));
    expect(after).toEqual([]);
  });
});

describe('slow replies', () => {
  it('answers Twilio at once with empty TwiML and sends the replies through the REST API', async () => {
    const channel = channelsOf(t.app.server).sms;
    const sent: Array<{ to: string; from?: string; body: string }> = [];
    channel.setSender({ send: async (message) => void sent.push(message) });
    const runner = t.app.services.runner;
    const original = runner.run.bind(runner);
    const config = t.app.services.config;
    const timeout = config.SMS_REPLY_TIMEOUT_MS;
    config.SMS_REPLY_TIMEOUT_MS = 100;
    runner.run = async (input) => {
      await new Promise((r) => setTimeout(r, 400));
      return original(input);
    };
    try {
      const from = newSender();
      const started = Date.now();
      const reply = await sms(from, 'Hi');
      expect(Date.now() - started).toBeLessThan(400);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatch(/<Response\/>|<Response><\/Response>/);
      await waitUntil(() => sent.length >= 1 || undefined, 'the REST replies');
      await channel.idle();
      expect(sent.every((s) => s.to === from && s.from === '+447700900000')).toBe(true);
      expect(sent.map((s) => s.body).join('\n')).toContain(m().t('ask_audience'));
    } finally {
      runner.run = original;
      config.SMS_REPLY_TIMEOUT_MS = timeout;
      channel.setSender(undefined);
    }
  });
});

describe('restarts', () => {
  it('an SMS conversation carries on after the service restarts', async () => {
    const other = await startChannelApp();
    const from = newSender();
    const say = (url: string, body: string) => postSms(url, twilioParams(from, body));
    let reply = await say(other.url, 'Hi');
    reply = await say(other.url, String(smsOptions(reply.messages).indexOf(m().t('audience.young_person')) + 1));
    const menu = smsOptions(reply.messages);
    const config = other.app.services.config;
    await other.close();

    const again = await createApp(config, { logger: pino({ level: 'silent' }) });
    const { url } = await again.listen();
    try {
      // "1" still means the first option of the menu sent before the restart.
      reply = await say(url, '1');
      expect(reply.messages.join('\n')).toContain(menu[0].replace(/[’]/g, "'").slice(0, 10));
      expect(reply.messages.join('\n')).toContain(m().t('after_topic'));
    } finally {
      await again.close();
    }
  });
});

describe('anonymity', () => {
  it('no sender number is in the database or the logs', async () => {
    await channelsOf(t.app.server).sms.idle();
    expect(numbersUsed.size).toBeGreaterThan(5);
    // Make sure everything written so far is in the files we read.
    await t.app.services.db.$queryRawUnsafe('PRAGMA wal_checkpoint(PASSIVE)');
    const bytes = databaseBytes(t.dbFile);
    // The files hold the conversations (this is the right database, and it is readable).
    expect(bytes.includes(Buffer.from('silver car'))).toBe(true);
    const logs = t.logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const number of numbersUsed) {
      for (const format of numberFormats(number)) {
        expect({ format, inDatabase: bytes.includes(Buffer.from(format)) }).toEqual({ format, inDatabase: false });
        expect({ format, inLogs: logs.includes(format) }).toEqual({ format, inLogs: false });
      }
    }
  });
});
