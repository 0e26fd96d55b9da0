// What the bot does with each kind of activity, over /api/messages: a message
// and a person joining get answers; every other kind is accepted and ignored,
// with nothing stored about it.
import crypto from 'node:crypto';
import { startApp, type TestApp } from '../helpers/app';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t?.close());

async function post(activity: Record<string, unknown>): Promise<{ status: number; activities: Array<{ type: string; text?: string }> }> {
  const res = await fetch(`${t.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      channelId: 'emulator',
      from: { id: 'types-user' },
      recipient: { id: 'bot' },
      conversation: { id: `types-${crypto.randomUUID()}` },
      deliveryMode: 'expectReplies',
      serviceUrl: 'http://127.0.0.1:9',
      ...activity,
    }),
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as { activities?: Array<{ type: string; text?: string }> }) : {};
  return { status: res.status, activities: body.activities ?? [] };
}

const messages = (r: { activities: Array<{ type: string; text?: string }> }) => r.activities.filter((a) => a.type === 'message');

test('a message is answered', async () => {
  const r = await post({ type: 'message', text: 'hi' });
  expect(r.status).toBe(200);
  expect(messages(r)[0].text).toBe(t.app.services.content.messages.t('welcome'));
});

test('someone joining is welcomed; the bot joining alone is not', async () => {
  const joined = await post({ type: 'conversationUpdate', membersAdded: [{ id: 'types-user' }] });
  expect(messages(joined)[0].text).toBe(t.app.services.content.messages.t('welcome'));
  const botOnly = await post({ type: 'conversationUpdate', membersAdded: [{ id: 'bot' }] });
  expect(botOnly.status).toBe(200);
  expect(messages(botOnly)).toEqual([]);
});

test.each(['typing', 'event', 'endOfConversation', 'messageReaction', 'installationUpdate', 'somethingNew'])(
  'a %s activity is accepted, not answered, and stores nothing',
  async (type) => {
    const before = await t.app.services.db.botState.count();
    const r = await post({ type, name: 'x', value: { a: 1 } });
    expect(r.status).toBe(200);
    expect(messages(r)).toEqual([]);
    expect(await t.app.services.db.botState.count()).toBe(before);
  },
);

test('an invoke activity gets 501 Not Implemented, as botbuilder answers invokes nobody handles', async () => {
  const r = await post({ type: 'invoke', name: 'adaptiveCard/action', value: {}, deliveryMode: 'normal' });
  expect(r.status).toBe(501);
});
