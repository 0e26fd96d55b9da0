// content/safety/danger-examples.yml, through the real bot: every message listed under `danger:` gets the
// danger advice as the bot's FIRST reply wherever it is sent (first message, at a menu, after a topic, at a
// report's choice, free-text and yes/no questions, and by SMS through the signed Twilio webhook); every
// message under `not_danger:` does not. Full app, real dialogs, trained classifier, SQLite.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { channelsOf } from '../../bot/channels';
import { matchDanger } from '../../bot/safety/danger';
import { Conversation } from '../helpers/conversation';
import { postSms, startChannelApp, twilioParams, type ChannelTestApp } from '../channels/helpers';

const EXAMPLES = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../../content/safety/danger-examples.yml'), 'utf8')) as {
  danger: Record<string, string[]>;
  not_danger: string[];
};
const DANGER = Object.entries(EXAMPLES.danger).flatMap(([group, list]) => list.map((text) => ({ group, text: String(text) })));

jest.setTimeout(180_000);

let t: ChannelTestApp;
beforeAll(async () => {
  t = await startChannelApp({ RATE_LIMIT_PER_CONVERSATION: '100000', RATE_LIMIT_PER_SOURCE: '100000' });
});
afterAll(async () => {
  await channelsOf(t.app.server).sms.idle();
  await t?.close();
});

const m = () => t.app.services.content.messages;

type Point = 'first message' | 'at the audience menu' | 'after a topic' | 'at a report choice' | 'at the report story' | 'at the report contact question';
const POINTS: Point[] = ['first message', 'at the audience menu', 'after a topic', 'at a report choice', 'at the report story', 'at the report contact question'];

function expectAsked(c: Conversation, key: string, vars?: Record<string, unknown>): void {
  const want = m().t(key, vars);
  if (!c.text().includes(want)) throw new Error(`set-up: expected "${want}", got: ${c.text()}`);
}

/** A new conversation brought to the given point, ready for the next message. */
async function at(point: Point): Promise<Conversation> {
  const c = new Conversation(t.app.services.runner, 'test');
  if (point === 'first message') return c;
  await c.start();
  if (point === 'at the audience menu') return c;
  if (point === 'after a topic') {
    await c.pick(m().t('audience.young_person'));
    await c.pick(c.options()[0]!);
    expectAsked(c, 'after_topic');
    return c;
  }
  await c.say('report');
  await c.pick(m().t('referral.options.concern.young_person'));
  expectAsked(c, 'referral.ask.age', { who: m().t('referral.who.young_person') });
  if (point === 'at a report choice') return c;
  await c.pick(m().t('referral.options.age.13_15'));
  await c.say('skip');
  await c.pick(m().t('referral.options.residency.lives_here'));
  await c.pick(m().t('referral.skip'));
  await c.pick(m().t('referral.options.when.this_week'));
  await c.pick(m().t('referral.signs_none'));
  expectAsked(c, 'referral.ask.story');
  if (point === 'at the report story') return c;
  await c.say('skip');
  await c.pick(m().t('referral.options.relationship.neighbour'));
  await c.pick(m().t('referral.options.knowledge.saw'));
  expectAsked(c, 'referral.ask.contact');
  return c;
}

let sender = 0;
async function bySms(text: string): Promise<string> {
  sender += 1;
  const reply = await postSms(t.url, twilioParams(`+4477009${String(sender).padStart(5, '0')}`, text));
  return reply.messages[0] ?? '';
}

const dangerFirst = (first: string | undefined): boolean => (first ?? '').startsWith(m().t('danger'));

test('the examples file is well formed', () => {
  expect(DANGER.length).toBeGreaterThan(200);
  expect(EXAMPLES.not_danger.length).toBeGreaterThan(20);
  const all = [...DANGER.map((d) => d.text), ...EXAMPLES.not_danger.map(String)];
  expect(all.filter((text, i) => all.indexOf(text) !== i)).toEqual([]);
});

test.each(POINTS)('every danger example gets the danger advice first: %s', async (point) => {
  const missed: string[] = [];
  for (const { group, text } of DANGER) {
    const c = await at(point);
    const replies = await c.say(text);
    if (!dangerFirst(replies[0]?.text)) missed.push(`[${group}] ${text} -> ${(replies[0]?.text ?? '(no reply)').slice(0, 70)}`);
  }
  expect(missed).toEqual([]);
});

test('every danger example gets the danger advice first: by SMS', async () => {
  const missed: string[] = [];
  for (const { group, text } of DANGER) if (!dangerFirst(await bySms(text))) missed.push(`[${group}] ${text}`);
  expect(missed).toEqual([]);
});

test('no not_danger example gets the danger advice, first message or by SMS', async () => {
  const alarms: string[] = [];
  for (const text of EXAMPLES.not_danger.map(String)) {
    const replies = await (await at('first message')).say(text);
    if (replies.some((r) => r.text === m().t('danger'))) alarms.push(`chat: ${text}`);
    if (dangerFirst(await bySms(text))) alarms.push(`sms: ${text}`);
  }
  expect(alarms).toEqual([]);
});

test('a message matched by a self-harm phrase gets Samaritans and Childline straight after the danger advice', async () => {
  const rules = t.app.services.dangerRules;
  const selfHarm = DANGER.filter((d) => matchDanger(d.text, rules).category === 'self_harm');
  // Most of the self_harm group is caught by self-harm phrases (the rest by other rules or the classifier).
  expect(selfHarm.length).toBeGreaterThanOrEqual(EXAMPLES.danger.self_harm!.length - 2);
  for (const { text } of selfHarm) {
    const texts = (await (await at('first message')).say(text)).map((r) => r.text);
    expect({ text, replies: texts.slice(0, 2) }).toEqual({ text, replies: [m().t('danger'), m().t('self_harm')] });
  }
  expect(m().t('self_harm')).toContain('116 123');
  expect(m().t('self_harm')).toContain('0800 1111');
});
