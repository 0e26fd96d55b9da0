// Dialog tests with botbuilder-testing: every audience's topics, the fallback,
// and the danger interruption from inside every dialog.
import crypto from 'node:crypto';
import { AutoSaveStateMiddleware, type TestAdapter } from 'botbuilder';
import { DialogTestClient } from 'botbuilder-testing';
import { AUDIENCES } from '../../bot/content';
import { TurnAnalyser } from '../../bot/speakSafeBot';
import { startApp, type TestApp } from '../helpers/app';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t?.close());

function client(): DialogTestClient {
  const s = t.app.services;
  const analyse = new TurnAnalyser(
    { content: s.content, nlu: s.nlu, dangerRules: s.dangerRules, logger: s.logger, maxMessageChars: 4000 },
    s.conversationState,
  );
  const c = new DialogTestClient('test', t.app.dialog, undefined, [analyse, new AutoSaveStateMiddleware(s.userState)], s.conversationState);
  // Each client is a new person in a new conversation (the state store is shared).
  const adapter = (c as unknown as { _testAdapter: TestAdapter })._testAdapter;
  adapter.conversation.conversation = { ...adapter.conversation.conversation, id: `dialog-${crypto.randomUUID()}` };
  adapter.conversation.user = { id: `user-${crypto.randomUUID()}`, name: 'user' };
  return c;
}

/** Send a message and collect every reply of the turn. */
async function say(c: DialogTestClient, text: string): Promise<Array<{ text: string; options: string[] }>> {
  const out: Array<{ text: string; options: string[] }> = [];
  let reply = await c.sendActivity(text);
  while (reply) {
    out.push({ text: reply.text ?? '', options: (reply.suggestedActions?.actions ?? []).map((a: { title?: string }) => String(a.title)) });
    reply = c.getNextReply();
  }
  return out;
}

const last = (replies: Array<{ options: string[] }>): string[] => replies[replies.length - 1]?.options ?? [];

describe('teaching each audience', () => {
  for (const audience of AUDIENCES) {
    test(`${audience}: every topic in the menu is shown from content`, async () => {
      const { content } = t.app.services;
      const c = client();
      const hello = await say(c, 'hi');
      expect(hello[0].text).toBe(content.messages.t('welcome'));
      const audienceLabel = content.messages.t(`audience.${audience}`);
      expect(last(hello)).toContain(audienceLabel);
      const menu = await say(c, audienceLabel);
      const topics = content.topicMenu(audience);
      for (const topic of topics) expect(last(menu)).toContain(topic.title);
      for (const topic of topics) {
        const shown = await say(c, topic.title);
        expect(shown[0].text).toContain(topic.body);
        expect(last(shown)).toContain(content.messages.t('menu.report'));
        await say(c, content.messages.t('menu.topics'));
      }
    });
  }

  test('a question typed as free text goes straight to its topic', async () => {
    const { content } = t.app.services;
    const c = client();
    await say(c, 'hello');
    await say(c, content.messages.t('audience.neighbour_resident'));
    const replies = await say(c, 'what is cuckooing?');
    expect(replies[0].text).toContain(content.topicFor('cuckooing', 'neighbour_resident')!.body);
  });

  test('an unknown audience is asked before a topic, then the topic follows', async () => {
    const { content } = t.app.services;
    const c = client();
    const first = await say(c, 'what does county lines mean');
    expect(first[0].text).toBe(content.messages.t('ask_audience'));
    const shown = await say(c, content.messages.t('audience.parent_carer'));
    expect(shown[0].text).toContain(content.topicFor('county_lines', 'parent_carer')!.body);
  });
});

describe('fallback', () => {
  test('an off-topic or unclear message gets a helpful menu, never a dead end', async () => {
    const { content } = t.app.services;
    const c = client();
    const replies = await say(c, 'qwzx blorp flim');
    expect(replies[0].text).toBe(content.messages.t('fallback'));
    expect(replies[0].options).toEqual(
      expect.arrayContaining([content.messages.t('menu.topics'), content.messages.t('menu.report'), content.messages.t('menu.get_help')]),
    );
  });

  test('a wrong answer to a menu is asked again, and the second miss gets the fallback with options', async () => {
    const { content } = t.app.services;
    const c = client();
    await say(c, 'hi');
    const once = await say(c, 'banana');
    expect(once[0].text).toBe(content.messages.t('reprompt_choice'));
    expect(once[0].options.length).toBeGreaterThan(2);
    const twice = await say(c, 'banana');
    expect(twice[0].text).toBe(content.messages.t('fallback'));
  });
});

describe('danger interrupts every dialog, then the conversation resumes', () => {
  const DANGER = "there's a man with a knife outside my door right now";

  async function expectInterrupt(c: DialogTestClient, question: string): Promise<void> {
    const { content } = t.app.services;
    const replies = await say(c, DANGER);
    expect(replies[0].text).toBe(content.messages.t('danger'));
    expect(replies.map((r) => r.text)).toContain(content.messages.t('danger_resume'));
    expect(replies[replies.length - 1].text).toContain(question);
  }

  test('from a fresh start', async () => {
    const { content } = t.app.services;
    const replies = await say(client(), DANGER);
    expect(replies[0].text).toBe(content.messages.t('danger'));
    expect(last(replies)).toContain(content.messages.t('menu.report'));
  });

  test('inside the audience question', async () => {
    const { content } = t.app.services;
    const c = client();
    await say(c, 'hi');
    await expectInterrupt(c, content.messages.t('ask_audience'));
  });

  test('inside the topic menu and after a topic', async () => {
    const { content } = t.app.services;
    const c = client();
    await say(c, 'hi');
    await say(c, content.messages.t('audience.young_person'));
    await expectInterrupt(c, content.messages.t('topic_menu'));
    await say(c, content.topicMenu('young_person')[0].title);
    await expectInterrupt(c, content.messages.t('after_topic'));
  });

  test('inside the report, at every question, and the report is kept', async () => {
    const { content } = t.app.services;
    const m = content.messages;
    const c = client();
    await say(c, 'i want to report something');
    const answers: Array<[string, string]> = [
      [m.t('referral.ask.concern'), m.t('referral.options.concern.young_person')],
      [m.t('referral.ask.age', { who: m.t('referral.who.young_person') }), m.t('referral.options.age.13_15')],
      [m.t('referral.ask.name'), 'skip'],
      [m.t('referral.ask.residency', { who: m.t('referral.who.young_person') }), m.t('referral.options.residency.visiting')],
      [m.t('referral.ask.homeArea'), 'London'],
      [m.t('referral.ask.where'), 'Bournemouth'],
      [m.t('referral.ask.when'), m.t('referral.options.when.today')],
      [m.t('referral.ask.signs'), m.t('referral.signs_none')],
      [m.t('referral.ask.story'), 'He has two phones and older lads pick him up'],
      [m.t('referral.ask.relationship', { who: m.t('referral.who.young_person') }), m.t('referral.options.relationship.neighbour')],
      [m.t('referral.ask.knowledge'), m.t('referral.options.knowledge.saw')],
      [m.t('referral.ask.contact'), m.t('referral.contact_no')],
    ];
    const questions = [...answers.map(([q]) => q), m.t('referral.ask.review')];
    for (const [question, answer] of answers) {
      const replies = await say(c, DANGER);
      expect(replies[0].text).toBe(content.messages.t('danger'));
      const asked = replies[replies.length - 1].text;
      // Still in the report: the same question again, or (where free text is
      // welcome) the danger message was taken as the answer and the next comes.
      const at = questions.findIndex((q) => asked.includes(q));
      expect(at).toBeGreaterThanOrEqual(questions.indexOf(question));
      expect(at).toBeLessThanOrEqual(questions.indexOf(question) + 1);
      if (at === questions.indexOf(question)) await say(c, answer);
      else if (at > questions.indexOf(question)) continue;
    }
    const review = await say(c, DANGER);
    expect(review[0].text).toBe(content.messages.t('danger'));
    expect(review[review.length - 1].text).toContain(m.t('referral.ask.review'));
    expect(review[review.length - 1].text).toContain(DANGER.slice(0, 40));
  });

  test('inside adding to a report', async () => {
    const { content } = t.app.services;
    const c = client();
    await say(c, 'hi');
    await say(c, content.messages.t('audience.professional'));
    await say(c, content.messages.t('menu.main_menu'));
    await say(c, content.messages.t('menu.add_to_report'));
    await expectInterrupt(c, content.messages.t('addendum.ask_reference'));
  });
});
