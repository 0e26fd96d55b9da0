// State lives in the database: a restart mid-conversation loses nothing.
import { startApp, tempDir } from '../helpers/app';

async function send(url: string, text: string): Promise<string[]> {
  const res = await fetch(`${url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'message',
      text,
      channelId: 'emulator',
      from: { id: 'restart-user' },
      recipient: { id: 'bot' },
      conversation: { id: 'restart-conv' },
      deliveryMode: 'expectReplies',
      serviceUrl: 'http://127.0.0.1:9',
    }),
  });
  const body = (await res.json()) as { activities: Array<{ type: string; text?: string }> };
  return body.activities.filter((a) => a.type === 'message').map((a) => a.text ?? '');
}

test('a referral in progress continues after the process restarts', async () => {
  const dir = tempDir();
  const first = await startApp({}, dir);
  const m = first.app.services.content.messages;
  await send(first.url, 'I need to report something');
  await send(first.url, m.t('referral.options.concern.young_person'));
  const afterAge = await send(first.url, m.t('referral.options.age.16_17'));
  expect(afterAge.join('\n')).toContain(m.t('referral.ask.name'));
  await first.close();

  const second = await startApp({}, dir);
  try {
    const replies = await send(second.url, 'Jay');
    // The next question, not a fresh start: the name was accepted and residency comes next.
    expect(replies.join('\n')).toContain(m.t('referral.ask.residency', { who: m.t('referral.who.young_person') }));
    const back = await send(second.url, 'back');
    expect(back.join('\n')).toContain(m.t('referral.ask.name'));
  } finally {
    await second.close();
  }
});

test('the audience chosen before a restart is remembered after it', async () => {
  const dir = tempDir();
  const first = await startApp({}, dir);
  const m = first.app.services.content.messages;
  await send(first.url, 'hi');
  await send(first.url, m.t('audience.landlord_housing'));
  await first.close();
  const second = await startApp({}, dir);
  try {
    const replies = await send(second.url, 'what is cuckooing');
    expect(replies[0]).toContain(second.app.services.content.topicFor('cuckooing', 'landlord_housing')!.body);
  } finally {
    await second.close();
  }
});

test("a first message stores the conversation's state, and nothing about the person until they tell the bot something", async () => {
  const t = await startApp();
  try {
    await send(t.url, 'what is cuckooing');
    // One row: the conversation (where it is, which buttons were offered). No empty profile.
    expect(await t.app.services.db.botState.count()).toBe(1);
  } finally {
    await t.close();
  }
});

test('a turn reads its state (conversation and user) in one storage read', async () => {
  const t = await startApp();
  try {
    await send(t.url, 'hi');
    const read = jest.spyOn(t.app.services.storage, 'read');
    await send(t.url, t.app.services.content.messages.t('audience.parent_carer'));
    expect(read).toHaveBeenCalledTimes(1);
    expect(read.mock.calls[0][0]).toHaveLength(2);
    expect(read.mock.calls[0][0].map((k) => k.split('/')[1]).sort()).toEqual(['conversations', 'users']);
  } finally {
    await t.close();
  }
});
