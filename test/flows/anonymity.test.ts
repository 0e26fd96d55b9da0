// A referral made over HTTP by a caller whose channel id is a phone number
// (as Azure's SMS channel does), with a user agent and forwarded address,
// leaves none of them anywhere in the database file.
import fs from 'node:fs';
import { startApp, type TestApp } from '../helpers/app';
import { REFERENCE_RE } from '../helpers/conversation';

let t: TestApp;
beforeAll(async () => {
  // The caller comes through a reverse proxy (X-Forwarded-For): remote, so allowed explicitly here.
  t = await startApp({ ALLOW_UNAUTHENTICATED_REMOTE: 'true' });
});
afterAll(async () => t?.close());

const PHONE = '+447700900461';
const UA = 'Mozilla/5.0 (SpeakSafeTestAgent/9.9.9)';
const IP = '203.0.113.77';

async function send(text: string): Promise<string> {
  const res = await fetch(`${t.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': UA, 'x-forwarded-for': IP },
    body: JSON.stringify({
      type: 'message',
      text,
      channelId: 'sms',
      from: { id: PHONE, name: PHONE },
      recipient: { id: 'bot' },
      conversation: { id: PHONE },
      deliveryMode: 'expectReplies',
      serviceUrl: 'http://127.0.0.1:9',
    }),
  });
  const body = (await res.json()) as { activities: Array<{ type: string; text?: string }> };
  return body.activities.filter((a) => a.type === 'message').map((a) => a.text).join('\n');
}

test('no phone number, IP address or user agent is stored anywhere', async () => {
  const m = t.app.services.content.messages;
  let text = await send('I want to report a worry about a boy');
  text = await send(m.t('referral.options.concern.young_person'));
  for (let i = 0; i < 20 && !text.includes(m.t('referral.ask.review')); i++) {
    text = await send(
      text.includes(m.t('referral.ask.contact')) ? m.t('referral.contact_no') : text.includes(m.t('referral.ask.signs')) ? m.t('referral.signs_none') : 'skip',
    );
  }
  text = await send(m.t('referral.send'));
  expect(text).toMatch(REFERENCE_RE);
  await t.close();
  const raw = Buffer.concat([t.dbFile, `${t.dbFile}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f))).toString('latin1');
  for (const needle of [PHONE, '447700900461', '07700900461', '7700900461', 'SpeakSafeTestAgent', IP, '127.0.0.1']) {
    expect(raw.includes(needle)).toBe(false);
  }
  expect(raw.includes('young_person')).toBe(true); // the referral itself is there
});
