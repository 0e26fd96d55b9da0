// The self-hosted Direct Line API, driven by Microsoft's own client,
// botframework-directlinejs (the one Web Chat uses), polling a running server.
import type { Activity as DlActivity, DirectLine as DirectLineType } from 'botframework-directlinejs';
import { channelsOf } from '../../bot/channels';
import { TokenSigner } from '../../bot/channels/directLine/tokens';
import { databaseBytes, REFERENCE_RE, reporterAnswer, startChannelApp, waitUntil, type ChannelTestApp } from './helpers';

// directlinejs needs these in Node, even with webSocket: false.
(global as unknown as { WebSocket: unknown }).WebSocket = require('ws');
(global as unknown as { XMLHttpRequest: unknown }).XMLHttpRequest = require('xhr2');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DirectLine, ConnectionStatus } = require('botframework-directlinejs') as typeof import('botframework-directlinejs');

let t: ChannelTestApp;
let base = '';
beforeAll(async () => {
  t = await startChannelApp();
  base = `${t.url}/v3/directline`;
});
afterAll(async () => {
  for (const c of clients) c.end();
  await channelsOf(t.app.server).directLine.idle();
  await t?.close();
});

const m = () => t.app.services.content.messages;

async function generate(): Promise<{ conversationId: string; token: string; expires_in: number }> {
  const res = await fetch(`${base}/tokens/generate`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (await res.json()) as { conversationId: string; token: string; expires_in: number };
}

const clients: Client[] = [];

/** A person on Web Chat, through directlinejs: what they have seen, and what they can do. */
class Client {
  readonly dl: DirectLineType;
  readonly seen: DlActivity[] = [];
  private seenBotCount = 0;
  private sent = 0;

  constructor(token: string) {
    this.dl = new DirectLine({ domain: base, token, webSocket: false, pollingInterval: 200 } as never);
    // An ended client's stream errors with "conversation ended": expected, not a failure.
    this.dl.activity$.subscribe((a) => this.seen.push(a), () => undefined);
    clients.push(this);
  }

  bot(): DlActivity[] {
    return this.seen.filter((a) => a.from?.role === 'bot' || a.from?.id === 'speaksafe');
  }

  /** Wait for bot activities after the ones already read, until one asks for input. */
  async nextTurn(): Promise<{ text: string; options: string[] }> {
    const start = this.seenBotCount;
    const replies = await waitUntil(() => {
      const fresh = this.bot().slice(start);
      return fresh.some((a) => a.type === 'message' && (a.inputHint === 'expectingInput' || (a as { suggestedActions?: unknown }).suggestedActions)) ? fresh : undefined;
    }, 'the bot to ask something');
    await new Promise((r) => setTimeout(r, 50));
    const all = this.bot().slice(start);
    this.seenBotCount = start + all.length;
    const last = [...all].reverse().find((a) => (a as { suggestedActions?: { actions?: unknown[] } }).suggestedActions?.actions?.length);
    const options = ((last as { suggestedActions?: { actions: Array<{ title: string }> } } | undefined)?.suggestedActions?.actions ?? []).map((a) => a.title);
    void replies;
    return { text: all.map((a) => (a as { text?: string }).text ?? '').join('\n'), options };
  }

  async send(text: string): Promise<string> {
    this.sent += 1;
    const clientActivityID = `client-${this.sent}-${Math.random().toString(36).slice(2)}`;
    const id = await new Promise<string>((resolve, reject) =>
      this.dl
        .postActivity({ type: 'message', from: { id: 'r_tester', name: '' }, text, channelData: { clientActivityID } } as never)
        .subscribe(resolve, reject),
    );
    // Web Chat marks a message "sent" only when it reads its own activity back.
    await waitUntil(() => this.seen.find((a) => (a as { channelData?: { clientActivityID?: string } }).channelData?.clientActivityID === clientActivityID), 'the echo');
    return id;
  }

  end(): void {
    try {
      this.dl.end();
    } catch {
      /* ended */
    }
  }
}

describe('directlinejs, polling', () => {
  it('a learning flow: welcome, buttons picked by title, Markdown delivered as Markdown', async () => {
    const { token, expires_in } = await generate();
    expect(expires_in).toBeGreaterThan(60);
    expect(expires_in).toBeLessThanOrEqual(3600);
    const c = new Client(token);
    let turn = await c.nextTurn();
    expect(turn.text).toContain(m().t('welcome'));
    expect(turn.options).toContain(m().t('audience.young_person'));
    expect(c.dl.connectionStatus$.getValue()).toBe(ConnectionStatus.Online);

    const id = await c.send(m().t('audience.young_person'));
    expect(id).toMatch(/\|\d{7}$/);
    turn = await c.nextTurn();
    expect(turn.text).toContain(m().t('topic_menu'));
    expect(turn.options).toContain('What is cuckooing?');

    await c.send('What is cuckooing?');
    turn = await c.nextTurn();
    expect(turn.text).toContain('**What is cuckooing?**');
    expect(turn.text).toContain(m().t('after_topic'));

    // Replies come in order, numbered by the watermark, each replying to the user's message.
    const ids = c.seen.map((a) => Number(String(a.id).split('|')[1]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    c.end();
  });

  it('a complete referral, picking buttons by title, stored on the webchat channel', async () => {
    const { token } = await generate();
    const c = new Client(token);
    let turn = await c.nextTurn();
    await c.send(m().t('audience.parent_carer'));
    turn = await c.nextTurn();
    expect(turn.options).toContain(m().t('menu.report'));
    await c.send(m().t('menu.report'));
    turn = await c.nextTurn();
    const town = t.app.services.content.area.towns[0].name;
    let reference: string | undefined;
    for (let i = 0; i < 30 && !reference; i++) {
      const answer = reporterAnswer(m(), turn.text, turn.options, town);
      if ('pick' in answer) expect(turn.options).toContain(answer.pick);
      await c.send('pick' in answer ? answer.pick : answer.say);
      if (turn.options.includes(m().t('referral.send'))) {
        reference = await waitUntil(() => REFERENCE_RE.exec(c.bot().map((a) => (a as { text?: string }).text ?? '').join('\n'))?.[0], 'the reference');
        break;
      }
      turn = await c.nextTurn();
    }
    expect(reference).toBeDefined();
    const referral = await t.app.services.db.referral.findUnique({ where: { reference: reference! } });
    expect(referral).toMatchObject({ channel: 'webchat', concernType: 'young_person', reporterRelationship: 'neighbour' });
    c.end();
  });

  it('refreshes a token for the same conversation', async () => {
    const { token, conversationId } = await generate();
    const res = await fetch(`${base}/tokens/refresh`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; conversationId: string };
    expect(body.conversationId).toBe(conversationId);
    const read = await fetch(`${base}/conversations/${conversationId}/activities`, { headers: { Authorization: `Bearer ${body.token}` } });
    expect(read.status).toBe(200);
  });

  it('resumes a conversation given its id (GET /conversations/:id)', async () => {
    const { token, conversationId } = await generate();
    const c = new Client(token);
    await c.nextTurn();
    c.end();
    const again = new DirectLine({ domain: base, token, conversationId, webSocket: false, pollingInterval: 200 } as never) as DirectLineType;
    const seen: DlActivity[] = [];
    again.activity$.subscribe((a) => seen.push(a), () => undefined);
    await waitUntil(() => seen.find((a) => (a as { text?: string }).text?.includes(m().t('ask_audience'))), 'the earlier messages');
    again.end();
  });
});

describe('the HTTP contract', () => {
  it("a POST is answered once the bot has replied: one poll then finds the message's echo and the replies to it", async () => {
    const { conversationId, token } = await generate();
    const json = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    expect((await fetch(`${base}/conversations`, { method: 'POST', headers: json })).status).toBe(201);
    const poll = async (watermark: string) => {
      const res = await fetch(`${base}/conversations/${conversationId}/activities?watermark=${watermark}`, { headers: json });
      expect(res.status).toBe(200);
      return (await res.json()) as { activities: Array<{ id: string; type: string; text?: string; replyToId?: string; from: { role?: string } }>; watermark: string };
    };
    // The welcome runs after the start is answered: wait for it.
    const welcome = await waitUntil(async () => {
      const page = await poll('');
      return page.activities.length ? page : undefined;
    }, 'the welcome');

    const posted = await fetch(`${base}/conversations/${conversationId}/activities`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ type: 'message', from: { id: 'user1' }, text: 'What is cuckooing?' }),
    });
    expect(posted.status).toBe(200);
    const { id } = (await posted.json()) as { id: string };
    const page = await poll(welcome.watermark);
    expect(page.activities[0]).toMatchObject({ id, type: 'message', text: 'What is cuckooing?', from: { role: 'user' } });
    const replies = page.activities.slice(1);
    expect(replies.length).toBeGreaterThan(0);
    expect(replies.every((a) => a.replyToId === id && a.from.role === 'bot')).toBe(true);
    expect(replies.map((a) => a.text).join('\n')).toContain(m().t('ask_audience'));
  });
});

describe('isolation and errors', () => {
  it("a token for conversation A cannot read or write conversation B", async () => {
    const a = await generate();
    const b = await generate();
    const bClient = new Client(b.token);
    await bClient.nextTurn();
    await bClient.send('What is county lines?');
    const before = await t.app.services.db.dlActivity.count({ where: { conversationId: b.conversationId } });
    const auth = { Authorization: `Bearer ${a.token}` };

    const read = await fetch(`${base}/conversations/${b.conversationId}/activities?watermark=`, { headers: auth });
    expect(read.status).toBe(403);
    expect(await read.text()).not.toContain('county lines');
    const resume = await fetch(`${base}/conversations/${b.conversationId}`, { headers: auth });
    expect(resume.status).toBe(403);
    const write = await fetch(`${base}/conversations/${b.conversationId}/activities`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'message', text: 'hello from A' }),
    });
    expect(write.status).toBe(403);
    await channelsOf(t.app.server).directLine.idle();
    expect(await t.app.services.db.dlActivity.count({ where: { conversationId: b.conversationId } })).toBe(before);

    // directlinejs itself, pointed at B with A's token, gets nothing of B's.
    const sneaky = new DirectLine({ domain: base, token: a.token, conversationId: b.conversationId, webSocket: false, pollingInterval: 200 } as never) as DirectLineType;
    const leaked: DlActivity[] = [];
    sneaky.activity$.subscribe((x) => leaked.push(x), () => undefined);
    await new Promise((r) => setTimeout(r, 600));
    expect(leaked).toEqual([]);
    expect(sneaky.connectionStatus$.getValue()).not.toBe(ConnectionStatus.Online);
    sneaky.end();
    bClient.end();
  });

  it('401 for a missing, malformed, forged or expired token; 404 for a conversation that is gone', async () => {
    const { conversationId, token } = await generate();
    const url = `${base}/conversations/${conversationId}/activities`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: 'Bearer nonsense' } })).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: `Bearer ${token}x` } })).status).toBe(401);
    const secret = t.app.services.secrets.tokenSigningSecret;
    const past = new TokenSigner(secret, { now: () => Date.now() - 2 * 60 * 60 * 1000 });
    expect((await fetch(url, { headers: { Authorization: `Bearer ${past.sign(conversationId).token}` } })).status).toBe(401);
    const forged = new TokenSigner(`${secret}-not-ours`).sign(conversationId).token;
    expect((await fetch(url, { headers: { Authorization: `Bearer ${forged}` } })).status).toBe(401);
    const ghost = 'AAAAAAAAAAAAAAAAAAAAAA';
    const ghostToken = new TokenSigner(secret).sign(ghost).token;
    expect((await fetch(`${base}/conversations/${ghost}/activities`, { headers: { Authorization: `Bearer ${ghostToken}` } })).status).toBe(404);
  });

  it('bad input gets 4xx, never 500', async () => {
    const { conversationId, token } = await generate();
    const auth = { Authorization: `Bearer ${token}` };
    const json = { ...auth, 'Content-Type': 'application/json' };
    const url = `${base}/conversations/${conversationId}/activities`;
    const statuses = [
      (await fetch(url, { method: 'POST', headers: json, body: '[1,2,3]' })).status,
      (await fetch(url, { method: 'POST', headers: json, body: '{"text": "no type"}' })).status,
      (await fetch(url, { method: 'POST', headers: json, body: '{"type": "message", "text": 42}' })).status,
      (await fetch(url, { method: 'POST', headers: json, body: '{"type": "message", "text": ""}' })).status,
      (await fetch(url, { method: 'POST', headers: json, body: '{not json' })).status,
      (await fetch(url, { method: 'POST', headers: json, body: JSON.stringify({ type: 'message', text: 'x'.repeat(200000) }) })).status,
      (await fetch(`${url}?watermark=abc`, { headers: auth })).status,
      (await fetch(`${url}?watermark=-1`, { headers: auth })).status,
      (await fetch(`${base}/conversations/not..an..id/activities`, { headers: auth })).status,
    ];
    for (const s of statuses) {
      expect(s).toBeGreaterThanOrEqual(400);
      expect(s).toBeLessThan(500);
    }
    // Typing indicators are acknowledged, not stored or run.
    const typing = await fetch(url, { method: 'POST', headers: json, body: '{"type": "typing"}' });
    expect(typing.status).toBe(200);
    expect(await t.app.services.db.dlActivity.count({ where: { conversationId } })).toBe(0);
  });

  it('answers CORS preflight for the Direct Line headers, and sends no cookies', async () => {
    const res = await fetch(`${base}/conversations/abc/activities`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://speaksafe.example.org', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, x-ms-bot-agent, content-type' },
    });
    expect(res.status).toBe(204);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'x-ms-bot-agent', 'content-type']) expect(allowed).toContain(h);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://speaksafe.example.org');
    const gen = await fetch(`${base}/tokens/generate`, { method: 'POST' });
    expect(gen.headers.get('set-cookie')).toBeNull();
    expect(gen.headers.get('cache-control')).toBe('no-store');
  });

});

describe('contact details', () => {
  it('are kept only sealed: the transcript shows a placeholder, and no trace is left in the database file', async () => {
    const secret = 'jane.secret@example.org 07700 900123';
    const { conversationId, token } = await generate();
    const c = new Client(token);
    let turn = await c.nextTurn();
    await c.send(m().t('audience.neighbour_resident'));
    turn = await c.nextTurn();
    await c.send(m().t('menu.report'));
    turn = await c.nextTurn();
    const town = t.app.services.content.area.towns[0].name;
    for (let i = 0; i < 30 && !turn.text.includes(m().t('referral.ask.contactDetails')); i++) {
      if (turn.options.includes(m().t('referral.contact_yes'))) await c.send(m().t('referral.contact_yes'));
      else {
        const answer = reporterAnswer(m(), turn.text, turn.options, town);
        await c.send('pick' in answer ? answer.pick : answer.say);
      }
      turn = await c.nextTurn();
    }
    expect(turn.text).toContain(m().t('referral.ask.contactDetails'));
    await c.send(secret);
    turn = await c.nextTurn();
    expect(turn.text).toContain(m().t('referral.contact_saved'));
    // What the client reads back is the placeholder, not the words.
    const echoes = c.seen.filter((a) => a.from?.role === 'user').map((a) => (a as { text?: string }).text);
    expect(echoes).toContain(m().t('referral.contact_echo'));
    expect(echoes.join('\n')).not.toContain('jane.secret');
    await c.send(m().t('referral.send'));
    const reference = await waitUntil(() => REFERENCE_RE.exec(c.bot().map((a) => (a as { text?: string }).text ?? '').join('\n'))?.[0], 'the reference');
    const stored = await t.app.services.db.referral.findUnique({ where: { reference }, include: { contact: true } });
    expect(stored?.contact).toBeTruthy();
    c.end();
    await channelsOf(t.app.server).directLine.idle();
    const inFile = () => databaseBytes(t.dbFile).includes(Buffer.from('jane.secret')) || databaseBytes(t.dbFile).includes(Buffer.from('900123'));
    expect(inFile()).toBe(false);
    // Nor after the transcript is pruned (deleted pages are overwritten, not left free).
    await channelsOf(t.app.server).directLine.prune(new Date(Date.now() + 1000));
    expect(await t.app.services.db.dlActivity.count({ where: { conversationId } })).toBe(0);
    expect(inFile()).toBe(false);
  });
});

describe('retention', () => {
  it('deletes idle conversations with their transcript and bot state', async () => {
    const { conversationId, token } = await generate();
    const c = new Client(token);
    await c.nextTurn();
    await c.send(m().t('audience.young_person'));
    await c.nextTurn();
    const words = `nobody-should-find-${conversationId.slice(0, 12)}`;
    await c.send(words);
    await c.nextTurn();
    c.end();
    await channelsOf(t.app.server).directLine.idle();
    expect(databaseBytes(t.dbFile).includes(Buffer.from(words))).toBe(true);
    const keys = [`webchat/conversations/${conversationId}/`, `webchat/users/u_${conversationId}/`];
    expect(Object.keys(await t.app.services.storage.read(keys)).length).toBeGreaterThan(0);
    const pruned = await channelsOf(t.app.server).directLine.prune(new Date(Date.now() + 1000));
    expect(pruned).toBeGreaterThan(0);
    expect(await t.app.services.db.dlConversation.findUnique({ where: { id: conversationId } })).toBeNull();
    expect(await t.app.services.db.dlActivity.count({ where: { conversationId } })).toBe(0);
    expect(await t.app.services.storage.read(keys)).toEqual({});
    // Gone from the file too: deleted pages are overwritten, and the log they passed through is emptied.
    expect(databaseBytes(t.dbFile).includes(Buffer.from(words))).toBe(false);
    const gone = await fetch(`${base}/conversations/${conversationId}/activities`, { headers: { Authorization: `Bearer ${token}` } });
    expect(gone.status).toBe(404);
  });
});

describe('abuse limits', () => {
  it('limits new conversations per source', async () => {
    let limited = 0;
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${base}/tokens/generate`, { method: 'POST' });
      if (res.status === 429) {
        limited += 1;
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(limited).toBeGreaterThan(0);
  });
});
