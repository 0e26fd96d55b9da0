// Hub alerts survive a receiver outage and arrive exactly once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OutboxWorker } from '../../bot/referrals/outbox';
import { emptyEntities, type ReferralDraft } from '../../bot/referrals/types';
import { silentLogger } from '../../bot/util/logger';
import { startApp, type TestApp } from '../helpers/app';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t?.close());

const draft: ReferralDraft = {
  concernType: 'young_person',
  subject: { ageBand: '13_15', residency: 'visiting', name: 'Kai' },
  location: { town: 'Poole' },
  when: 'now',
  indicators: [],
  narrative: 'Kai is being held in a flat on Kingland Road',
  reporterRelationship: 'friend',
  knowledge: 'saw',
  dangerReported: true,
  entities: emptyEntities(),
};

test('receiver down, then up: the alert arrives exactly once, with no personal details', async () => {
  const received: Array<{ body: Record<string, unknown>; key?: string }> = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ body: JSON.parse(body), key: req.headers['idempotency-key'] as string });
      res.statusCode = 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  await new Promise<void>((r) => receiver.close(() => r())); // down: connection refused

  const { db, referrals, referralDomain } = t.app.services;
  const assessment = referralDomain.assess(draft);
  expect(assessment.urgency).toBe('immediate');
  const { reference } = await referrals.create({ draft, assessment, channel: 'test' });
  const worker = new OutboxWorker(db, { webhookUrl: `http://127.0.0.1:${port}/hook`, pollMs: 10, maxBackoffMs: 1 }, silentLogger);

  expect(await worker.drain()).toBe(0);
  const failed = await db.outboxMessage.findUniqueOrThrow({ where: { dedupeKey: `hub.alert:${reference}` } });
  expect(failed).toMatchObject({ status: 'pending', attempts: 1 });
  expect(failed.lastError).toBeTruthy();

  const up = http.createServer(receiver.listeners('request')[0] as http.RequestListener);
  await new Promise<void>((r) => up.listen(port, '127.0.0.1', r));
  try {
    await new Promise((r) => setTimeout(r, 20));
    expect(await worker.drain()).toBe(1);
    expect(await worker.drain()).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(await worker.drain()).toBe(0);
  } finally {
    await new Promise<void>((r) => up.close(() => r()));
  }
  expect(received).toHaveLength(1);
  expect(received[0].key).toBe(`hub.alert:${reference}`);
  expect(received[0].body).toMatchObject({ reference, urgency: 'immediate' });
  const sent = JSON.stringify(received[0].body);
  for (const personal of ['Kai', 'Kingland', 'Poole', 'friend']) expect(sent).not.toContain(personal);
  expect((await db.outboxMessage.findUniqueOrThrow({ where: { dedupeKey: `hub.alert:${reference}` } })).status).toBe('sent');
});

test('standard referrals raise no alert', async () => {
  const { db, referrals } = t.app.services;
  const before = await db.outboxMessage.count();
  await referrals.create({
    draft: { ...draft, when: 'past', dangerReported: false },
    assessment: { urgency: 'standard', riskScore: 10, riskUnknown: false, reasons: [] },
    channel: 'test',
  });
  expect(await db.outboxMessage.count()).toBe(before);
});
