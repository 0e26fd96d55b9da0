// The benchmark phases. Every request goes to a distinct conversation (or
// sender) unless said otherwise, so state is read and written as for real
// users, not served from one warm row.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';
import twilio from 'twilio';
import type { Messages } from '../../bot/content';
import { cannon, loop, percentile, type PhaseResult } from './load';
import { HttpClient } from './http';
import { twilioForm } from '../../test/helpers/scripted';
import { reporterAnswer } from './reporter';
import { sleep } from './child';

export interface Timing {
  connections: number;
  warmupS: number;
  durationS: number;
}

/** Distinct ids for the whole run: a run prefix and a counter. */
const RUN = crypto.randomBytes(4).toString('hex');
let counter = 0;
export const nextId = (prefix: string): string => `${prefix}-${RUN}-${(counter += 1)}`;

export const LEARNING_TEXT = 'what is cuckooing';

function activity(text: string, conversationId: string, userId: string): Record<string, unknown> {
  return {
    type: 'message',
    text,
    locale: 'en-GB',
    channelId: 'emulator',
    from: { id: userId, name: 'Bench' },
    recipient: { id: 'bot', name: 'Bot' },
    conversation: { id: conversationId },
    serviceUrl: 'http://127.0.0.1:9',
    deliveryMode: 'expectReplies',
  };
}

// ---------------------------------------------------------------- /api/messages

/** One message turn per request, to a fresh conversation and user, with deliveryMode expectReplies. */
export function messagesPhase(id: string, title: string, against: PhaseResult['against'], url: string, t: Timing): Promise<PhaseResult> {
  const request: autocannon.Request = {
    method: 'POST',
    path: '/api/messages',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => {
      const conv = nextId('bench-conv');
      return { ...req, body: JSON.stringify(activity(LEARNING_TEXT, conv, `${conv}-user`)) };
    },
  };
  return cannon({
    id,
    title,
    against,
    url,
    connections: t.connections,
    warmupS: t.warmupS,
    durationS: t.durationS,
    requests: [request],
    // expectReplies answers 200 {"activities": [...]}: at least one message back.
    verifyBody: (body) => body.includes('"type":"message"'),
  });
}

/** The HTTP floor: restify answering GET /healthz, no bot, no database (a calibration point, no target). */
export function floorPhase(url: string, t: Timing): Promise<PhaseResult> {
  return cannon({
    id: 'floor',
    title: 'HTTP floor: GET /healthz (no bot)',
    against: 'speaksafe',
    url,
    connections: t.connections,
    warmupS: t.warmupS,
    durationS: t.durationS,
    requests: [{ method: 'GET', path: '/healthz' }],
    verifyBody: (body) => body.includes('"ok"'),
  });
}

// ---------------------------------------------------------------- SMS

export const SMS_PATH = '/api/sms';

/** One Twilio webhook per request, from a new sender each time, each validly signed for PUBLIC_BASE_URL. */
export function smsPhase(url: string, authToken: string, publicBaseUrl: string, t: Timing): Promise<PhaseResult> {
  let n = 0;
  const signedUrl = `${publicBaseUrl}${SMS_PATH}`;
  const request: autocannon.Request = {
    method: 'POST',
    path: SMS_PATH,
    setupRequest: (req) => {
      n += 1;
      const sid = `SM${RUN}${String(n).padStart(24, '0')}`;
      const from = `+447700${String(n % 1_000_000).padStart(6, '0')}`;
      const params = twilioForm(from, LEARNING_TEXT, sid);
      return {
        ...req,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': 'TwilioProxy/1.1',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, signedUrl, params),
        },
        body: new URLSearchParams(params).toString(),
      };
    },
  };
  return cannon({
    id: 'sms',
    title: 'SMS webhook, signed (TwiML reply)',
    against: 'speaksafe',
    url,
    connections: t.connections,
    warmupS: t.warmupS,
    durationS: t.durationS,
    requests: [request],
    // The bot's reply goes back in the TwiML: an empty <Response/> would mean refused or rate limited.
    verifyBody: (body) => body.includes('<Message>'),
  });
}

// ---------------------------------------------------------------- Direct Line

const DL = '/v3/directline';

interface DlConversation {
  id: string;
  token: string;
  watermark: number;
  busy: boolean;
}

interface DlPage {
  activities: Array<{ id?: string; replyToId?: string; from?: { role?: string } }>;
  watermark: string;
}

/** A made-up client address per conversation, as a reverse proxy on this host would forward it. */
const forwardedFor = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function newDlConversation(client: HttpClient, i: number): Promise<DlConversation> {
  const gen = await client.request('POST', `${DL}/tokens/generate`, { headers: { 'x-forwarded-for': forwardedFor(i) } });
  if (gen.status !== 200) throw new Error(`tokens/generate: HTTP ${gen.status} ${gen.body.slice(0, 120)}`);
  const { conversationId, token } = JSON.parse(gen.body) as { conversationId: string; token: string };
  const auth = { authorization: `Bearer ${token}` };
  const start = await client.request('POST', `${DL}/conversations`, { headers: auth });
  if (start.status !== 201 && start.status !== 200) throw new Error(`conversations: HTTP ${start.status}`);
  // Web Chat's first poll: wait for the welcome, as a client would before typing.
  for (let tries = 0; tries < 400; tries++) {
    const got = await client.request('GET', `${DL}/conversations/${conversationId}/activities?watermark=`, { headers: auth });
    const page = JSON.parse(got.body) as DlPage;
    if (page.activities.length) return { id: conversationId, token, watermark: Number(page.watermark), busy: false };
    await sleep(10);
  }
  throw new Error('no welcome within 4 s');
}

/**
 * Web chat over the self-hosted Direct Line: a pool of conversations is
 * created first (tokens/generate, conversations, welcome) and not timed; then
 * each round trip is POST activities + GET activities?watermark until the
 * bot's reply to that message is there (first poll at once, then every 10 ms).
 */
export async function directLinePhase(url: string, t: Timing, poolSize: number): Promise<PhaseResult> {
  const client = new HttpClient(url, t.connections);
  try {
    const setupStarted = performance.now();
    const pool: DlConversation[] = [];
    let made = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (made < poolSize) {
          const i = (made += 1);
          pool.push(await newDlConversation(client, i));
        }
      }),
    );
    const setupMs = performance.now() - setupStarted;

    let next = 0;
    let posts = 0;
    let polls = 0;
    let roundTrips = 0;
    const stats = await loop({
      concurrency: t.connections,
      warmupMs: t.warmupS * 1000,
      durationMs: t.durationS * 1000,
      iteration: async () => {
        let c = pool[next++ % pool.length];
        for (let k = 0; c.busy && k < pool.length; k++) c = pool[next++ % pool.length];
        c.busy = true;
        try {
          const auth = { authorization: `Bearer ${c.token}` };
          const clientActivityID = crypto.randomBytes(8).toString('hex');
          const post = await client.request('POST', `${DL}/conversations/${c.id}/activities`, {
            headers: auth,
            json: { type: 'message', text: LEARNING_TEXT, locale: 'en-GB', from: { id: `u_${c.id}` }, channelData: { clientActivityID } },
          });
          posts += 1;
          if (post.status !== 200) throw new Error(`POST activities: HTTP ${post.status}`);
          const sentId = (JSON.parse(post.body) as { id: string }).id;
          let watermark = Number(sentId.split('|')[1]);
          const deadline = performance.now() + 10000;
          for (let attempt = 0; ; attempt++) {
            const got = await client.request('GET', `${DL}/conversations/${c.id}/activities?watermark=${watermark}`, { headers: auth });
            polls += 1;
            if (got.status !== 200) throw new Error(`GET activities: HTTP ${got.status}`);
            const page = JSON.parse(got.body) as DlPage;
            watermark = Number(page.watermark);
            if (page.activities.some((a) => a.from?.role === 'bot' && a.replyToId === sentId)) break;
            if (performance.now() > deadline) throw new Error('no bot reply within 10 s');
            await sleep(attempt === 0 ? 5 : 10);
          }
          c.watermark = watermark;
          roundTrips += 1;
        } finally {
          c.busy = false;
        }
      },
    });
    return {
      id: 'directline',
      title: 'Direct Line round trip (POST + poll)',
      against: 'speaksafe',
      unit: 'round trip',
      concurrency: t.connections,
      ...stats,
      extra: {
        conversations: pool.length,
        setupSeconds: Math.round(setupMs) / 1000,
        getsPerRoundTrip: roundTrips ? Math.round((polls / roundTrips) * 100) / 100 : 0,
        httpRequestsPerSecond: Math.round((stats.perSecond * (posts + polls)) / Math.max(1, roundTrips)),
      },
    };
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------- referrals

export const REFERENCE_RE = /\b[A-Z2-9]{4}-[A-Z2-9]{4}\b/;

interface Reply {
  text?: string;
  type?: string;
  suggestedActions?: { actions?: Array<{ title?: string }> };
}

/**
 * Complete referral conversations over /api/messages (expectReplies): each
 * worker starts a new conversation ("Hi"), chooses an audience, "Report a
 * worry", answers every question and sends, until a reference code comes back.
 * Reported per turn (requests), with referrals completed as extra.
 */
export async function referralConversationsPhase(url: string, m: Messages, town: string, t: Timing): Promise<PhaseResult> {
  const client = new HttpClient(url, t.connections);
  let turns = 0;
  let completed = 0;
  // Per-turn latency, kept for turns that end inside the measured window.
  const windowStart = performance.now() + t.warmupS * 1000;
  const windowEnd = windowStart + t.durationS * 1000;
  const turnMs: number[] = [];
  const say = async (conv: string, text: string): Promise<Reply[]> => {
    const t0 = performance.now();
    const res = await client.request('POST', '/api/messages', { json: activity(text, conv, `${conv}-user`) });
    if (res.status !== 200) throw new Error(`/api/messages: HTTP ${res.status}`);
    const t1 = performance.now();
    if (t1 >= windowStart && t1 <= windowEnd) {
      turns += 1;
      turnMs.push(t1 - t0);
    }
    return ((JSON.parse(res.body) as { activities?: Reply[] }).activities ?? []).filter((a) => a.type === 'message');
  };
  try {
    const stats = await loop({
      concurrency: t.connections,
      warmupMs: t.warmupS * 1000,
      durationMs: t.durationS * 1000,
      iteration: async () => {
        const conv = nextId('bench-referral');
        let replies = await say(conv, 'Hi');
        for (let step = 0; step < 40; step++) {
          const text = replies.map((r) => r.text ?? '').join('\n');
          const last = replies[replies.length - 1];
          const options = (last?.suggestedActions?.actions ?? []).map((a) => String(a.title));
          const answer = reporterAnswer(m, text, options, town);
          replies = await say(conv, 'pick' in answer ? answer.pick : answer.say);
          if (REFERENCE_RE.test(replies.map((r) => r.text ?? '').join('\n'))) {
            completed += 1;
            return;
          }
        }
        throw new Error('no reference after 40 turns');
      },
    });
    const sortedTurns = Float64Array.from(turnMs).sort();
    return {
      id: 'referral-conversations',
      title: 'Complete referral conversations (/api/messages)',
      against: 'speaksafe',
      unit: 'referral',
      concurrency: t.connections,
      ...stats,
      extra: {
        referralsIncludingWarmup: completed,
        turnsPerSecond: Math.round(turns / stats.seconds),
        turnP50Ms: round1(percentile(sortedTurns, 50)),
        turnP99Ms: round1(percentile(sortedTurns, 99)),
      },
    };
  } finally {
    client.close();
  }
}

const round1 = (v: number | null): number => (v === null ? 0 : Math.round(v * 10) / 10);

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
