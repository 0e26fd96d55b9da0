// Database faults. (1) Another process holds SQLite's write lock: a turn waits
// (SQLite's busy handler retries) and succeeds if the lock is released within
// DB_BUSY_TIMEOUT_MS, otherwise the person gets the safety message (999 and
// helplines) in a normal reply, and the hub answers 503, never 500.
// (2) The database becomes unusable mid-run: danger messages still get 999
// guidance first, then the safety message, on every channel; /readyz says 503.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { channelsOf } from '../../bot/channels';
import { sqliteOf } from '../../bot/db/prisma';
import { hubOf } from '../../hub';
import { Client, PASSWORD } from '../hub/fixtures';
import { postSms, startChannelApp, twilioParams, type ChannelTestApp } from '../channels/helpers';
import { activity, postMessages, REFERENCE_RE, skippingReporter } from './helpers';

const DANGER_TEXT = 'please help they are going to stab me';

/**
 * Hold SQLite's write lock on `file` from another thread (its own connection)
 * for `ms`. better-sqlite3 waits on a busy database synchronously, so the lock
 * holder must not share the server's event loop.
 */
async function holdWriteLock(file: string, ms: number, mode: 'IMMEDIATE' | 'EXCLUSIVE' = 'IMMEDIATE'): Promise<{ released: Promise<void> }> {
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const Database = require(workerData.module);
     const db = new Database(workerData.file);
     db.exec('BEGIN ' + workerData.mode);
     db.prepare('UPDATE "DlConversation" SET "nextSeq" = "nextSeq" WHERE 0').run();
     parentPort.postMessage('locked');
     setTimeout(() => { db.exec('COMMIT'); db.close(); parentPort.postMessage('released'); }, workerData.ms);`,
    { eval: true, workerData: { module: require.resolve('better-sqlite3'), file, ms, mode } },
  );
  const next = (): Promise<void> =>
    new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  await next();
  const released = next().then(() => worker.terminate().then(() => undefined));
  return { released };
}

async function staffClient(t: ChannelTestApp): Promise<Client> {
  const hub = hubOf(t.app.server)!;
  await hub.users.create({ username: 'dana', role: 'supervisor', password: PASSWORD }, { type: 'system', id: 'test' });
  const client = new Client(t.url);
  const res = await client.login('dana');
  expect(res.status).toBe(303);
  return client;
}

const hasSafetyNumbers = (text: string): void => {
  expect(text).toContain('999');
  expect(text).toMatch(/Childline/);
};

describe('a busy (locked) database', () => {
  let t: ChannelTestApp;
  let staff: Client;
  let reference: string;
  beforeAll(async () => {
    t = await startChannelApp({ DB_BUSY_TIMEOUT_MS: '1000', LOG_LEVEL: 'silent' });
    staff = await staffClient(t);
    reference = (await t.app.services.referrals.create({
      draft: {
        concernType: 'young_person',
        subject: { ageBand: '13_15', residency: 'lives_here' },
        location: { town: 'Poole' },
        when: 'this_week',
        indicators: [],
        narrative: 'Busy test',
        reporterRelationship: 'neighbour',
        knowledge: 'saw',
        dangerReported: false,
        entities: { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] },
      },
      assessment: { urgency: 'standard', riskScore: 10, riskUnknown: false, reasons: [] },
      channel: 'test',
    })).reference;
  });
  afterAll(async () => t?.close());

  const m = () => t.app.services.content.messages;

  test('a lock shorter than the busy timeout: the turn waits for it and succeeds', async () => {
    const conversationId = 'busy-short';
    const lock = await holdWriteLock(t.dbFile, 250);
    const started = Date.now();
    const turn = await postMessages(t.url, activity('what is cuckooing', { conversationId }));
    const waited = Date.now() - started;
    await lock.released;
    expect(turn.status).toBe(200);
    expect(turn.texts.join('\n')).not.toContain(m().t('error_safety'));
    expect(turn.texts.length).toBeGreaterThan(0);
    // The state write waited for the lock (SQLite retried) instead of failing at once.
    expect(waited).toBeGreaterThanOrEqual(150);
    // …and it was saved: the next turn carries on from it.
    const next = await postMessages(t.url, activity('report', { conversationId }));
    expect(next.texts.join('\n')).toContain(m().t('referral.ask.concern'));
  });

  test('a lock held past the busy timeout: a clear safety reply, never a 500', async () => {
    expect((await staff.get(`/hub/referrals/${reference}`)).status).toBe(200);
    const csrf = staff.csrf();
    const lock = await holdWriteLock(t.dbFile, 3000, 'EXCLUSIVE');
    try {
      const turn = await postMessages(t.url, activity('what is cuckooing', { conversationId: 'busy-long' }));
      expect(turn.status).toBe(200);
      const last = turn.texts[turn.texts.length - 1]!;
      expect(last).toBe(m().t('error_safety'));
      hasSafetyNumbers(last);

      // Danger while the database is locked: 999 guidance first, exactly once.
      const danger = await postMessages(t.url, activity(DANGER_TEXT, { conversationId: 'busy-danger' }));
      expect(danger.status).toBe(200);
      expect(danger.texts[0]).toBe(m().t('danger'));
      expect(danger.texts.filter((x) => x === m().t('danger'))).toHaveLength(1);
      expect(danger.texts[danger.texts.length - 1]).toBe(m().t('error_safety'));

      // The hub: 503 with Retry-After, for a page and for a form.
      const page = await staff.get(`/hub/referrals/${reference}`);
      expect(page.status).toBe(503);
      expect(page.headers.get('retry-after')).toBeTruthy();
      expect(page.text).toMatch(/busy|try again/i);
      const form = await staff.post(`/hub/referrals/${reference}/transition`, { _csrf: csrf, action: 'triage', version: '0' });
      expect(form.status).toBe(503);

      // Still alive and reachable for reads (WAL): health and readiness.
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await lock.released;
    }
    // Once released, everything works again, and the failed form changed nothing.
    const turn = await postMessages(t.url, activity('what is cuckooing', { conversationId: 'busy-after' }));
    expect(turn.texts.join('\n')).not.toContain(m().t('error_safety'));
    expect((await t.app.services.referrals.getJson(reference))!.status).toBe('new');
    expect((await staff.get(`/hub/referrals/${reference}`)).status).toBe(200);
  }, 20_000);

  test('"Send it" while locked: no reference, no referral row; the same answer after the lock is released sends it', async () => {
    const conversationId = 'busy-send';
    let turn = await postMessages(t.url, activity('report', { conversationId }));
    for (let i = 0; i < 30 && !turn.options.includes(m().t('referral.send')); i++) {
      const answer = skippingReporter(m(), turn.texts.join('\n'), turn.options);
      turn = await postMessages(t.url, activity('pick' in answer ? answer.pick : answer.say, { conversationId }));
    }
    expect(turn.options).toContain(m().t('referral.send'));
    const before = await t.app.services.db.referral.count();

    const lock = await holdWriteLock(t.dbFile, 2500);
    let failed;
    try {
      failed = await postMessages(t.url, activity(m().t('referral.send'), { conversationId }));
    } finally {
      await lock.released;
    }
    expect(failed.status).toBe(200);
    expect(failed.texts.join('\n')).not.toMatch(REFERENCE_RE);
    expect(failed.texts.join('\n')).toContain(m().t('error_safety'));
    expect(await t.app.services.db.referral.count()).toBe(before);

    const sent = await postMessages(t.url, activity(m().t('referral.send'), { conversationId }));
    const reference = REFERENCE_RE.exec(sent.texts.join('\n'))?.[0];
    expect(reference).toBeDefined();
    expect(await t.app.services.db.referral.count()).toBe(before + 1);
    expect(await t.app.services.referrals.exists(reference!)).toBe(true);
  }, 20_000);
});

describe('an unreachable database', () => {
  let t: ChannelTestApp;
  let staff: Client;
  beforeAll(async () => {
    t = await startChannelApp({ LOG_LEVEL: 'silent' });
    channelsOf(t.app.server).sms.setSender({ send: async () => undefined });
    staff = await staffClient(t);
    // A conversation already under way before the failure.
    await postMessages(t.url, activity('report', { conversationId: 'down-1' }));
    // The database goes away: its one connection is closed under the service.
    sqliteOf(t.app.services.db)!.close();
  });
  afterAll(async () => t?.close());

  const m = () => t.app.services.content.messages;

  test('/api/messages: danger gets 999 guidance first, then the safety message; anything else the safety message', async () => {
    const danger = await postMessages(t.url, activity(DANGER_TEXT, { conversationId: 'down-1' }));
    expect(danger.status).toBe(200);
    expect(danger.texts).toEqual([m().t('danger'), m().t('error_safety')]);

    const ordinary = await postMessages(t.url, activity('what is cuckooing', { conversationId: 'down-2' }));
    expect(ordinary.status).toBe(200);
    expect(ordinary.texts).toEqual([m().t('error_safety')]);
    hasSafetyNumbers(ordinary.texts[0]!);
  });

  test('SMS: danger gets 999 guidance first, then the safety message', async () => {
    const danger = await postSms(t.url, twilioParams('+447700900222', DANGER_TEXT));
    expect(danger.status).toBe(200);
    expect(danger.contentType).toMatch(/text\/xml/);
    expect(danger.messages.join('\n')).toContain('999');
    expect(danger.messages[0]).toContain(m().t('danger').split('\n')[0]);
    expect(danger.messages.join('\n')).toContain('Childline');
    const ordinary = await postSms(t.url, twilioParams('+447700900223', 'what is cuckooing'));
    expect(ordinary.status).toBe(200);
    expect(ordinary.messages.join('\n')).toContain('999');
  });

  test('web chat: the Direct Line API answers a clear 503, and the page still shows 999 and the helplines', async () => {
    const gen = await fetch(`${t.url}/v3/directline/tokens/generate`, { method: 'POST' });
    expect(gen.status).toBe(503);
    expect(gen.headers.get('retry-after')).toBeTruthy();
    // The page needs no database: its "chat isn't working" message and footer carry the numbers.
    const page = await fetch(`${t.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('999');
    expect(html).toContain('chat-problem');
    expect(html).toMatch(/Childline/);
  });

  test('hub pages answer 503, /readyz 503, /healthz 200', async () => {
    const page = await staff.get('/hub/queue');
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBeTruthy();
    const api = await fetch(`${t.url}/api/hub/referrals`, { headers: { authorization: 'Bearer sshub_nope' } });
    expect(api.status).toBe(503);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready', database: false });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
