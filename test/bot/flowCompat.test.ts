// Conversations saved before MainDialog's flow stopped being a botbuilder
// WaterfallDialog carry on where they were. The fixtures are conversation
// states exactly as that code stored them (made by running it; only the eTag
// removed): one waiting at the "who are you?" menu, one part-way through a
// report.
import crypto from 'node:crypto';
import menuState from './fixtures/waterfall-menu-state.json';
import reportState from './fixtures/waterfall-report-state.json';
import { startApp, type TestApp } from '../helpers/app';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t?.close());

async function seeded(state: unknown): Promise<string> {
  const id = `compat-${crypto.randomUUID()}`;
  await t.app.services.storage.write({ [`sms/conversations/${id}/`]: structuredClone(state) as Record<string, unknown> });
  return id;
}

const say = (id: string, text: string) => t.app.services.runner.run({ channelId: 'sms', conversationId: id, userId: id, text });

interface StoredInstance {
  id: string;
  version?: string;
  state: { dialogs?: { dialogStack: Array<{ id: string; state: Record<string, unknown> }> } };
}

async function mainInstance(id: string): Promise<StoredInstance> {
  const items = await t.app.services.storage.read([`sms/conversations/${id}/`]);
  const stack = (items[`sms/conversations/${id}/`] as { dialogState: { dialogStack: StoredInstance[] } }).dialogState.dialogStack;
  return stack[0];
}

test('a menu saved by the waterfall takes the answer and goes on to the topic', async () => {
  const { content } = t.app.services;
  const id = await seeded(menuState);
  const replies = await say(id, content.messages.t('audience.parent_carer'));
  const texts = replies.map((r) => r.text ?? '');
  expect(texts[0]).toContain(content.topicFor('cuckooing', 'parent_carer')!.body);
  expect(replies.every((r) => r.type === 'message')).toBe(true);
  // The stored version is unchanged: no "version changed" event, no restart.
  const main = await mainInstance(id);
  expect(main.version).toBe(menuState.dialogState.dialogStack[0].version);
  expect(main.state.dialogs!.dialogStack.map((d) => d.id)).toEqual(['main.flow', 'choose']);
});

test('a report saved part-way by the waterfall keeps its answers and asks the next question', async () => {
  const { content } = t.app.services;
  const id = await seeded(reportState);
  const replies = await say(id, '13 to 15');
  expect(replies.length).toBeGreaterThan(0);
  const main = await mainInstance(id);
  const [flow, referral] = main.state.dialogs!.dialogStack;
  expect(flow).toMatchObject({ id: 'main.flow', state: { stepIndex: 0, options: { route: { kind: 'report' } } } });
  const r = referral.state.referral as { step: string; history: string[]; draft: { concernType: string; subject: { ageBand: string } } };
  expect(r.draft.concernType).toBe('young_person');
  expect(r.draft.subject.ageBand).toBe('13_15');
  expect(r.history).toEqual(['concern', 'age']);
  expect(replies.map((x) => x.text).join('\n')).not.toContain(content.messages.t('fallback'));
});

test('when a saved report ends, the flow carries on to the next route as the waterfall did', async () => {
  const { content } = t.app.services;
  const id = await seeded(reportState);
  // Leaving the report ends it with a route (the main menu); the flow's second
  // step takes that route.
  await say(id, 'cancel');
  const replies = await say(id, content.messages.t('referral.leave'));
  expect(replies.length).toBeGreaterThan(0);
  const main = await mainInstance(id);
  const ids = main.state.dialogs?.dialogStack.map((d) => d.id) ?? [];
  expect(ids).toEqual(['main.flow', 'choose']);
  expect(replies.map((x) => x.text).join('\n')).toContain(content.messages.t('main_menu'));
  expect(replies.map((x) => x.text).join('\n')).not.toContain(content.messages.t('fallback'));
});
