// The audit log is hash-chained: verify() proves it intact, and detects an
// edited, deleted or reordered row.
import { auditHash, canonicalJson, GENESIS_HASH } from '../../hub/audit';
import { Client, createStaff, makeReferral, startHubApp, type HubTestApp } from './fixtures';

let t: HubTestApp;

beforeEach(async () => {
  t = await startHubApp();
  await createStaff(t, 'ada', 'admin');
});
afterEach(async () => t?.close());

async function someActivity(): Promise<string> {
  const ref = await makeReferral(t.services);
  const c = new Client(t.url);
  await c.login('ada');
  await c.get(`/hub/referrals/${ref}`);
  await c.post(`/hub/referrals/${ref}/transition`, { action: 'triage', version: c.version() });
  await c.get('/hub/queue');
  return ref;
}

test('canonical JSON sorts keys at every level', () => {
  expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":2,"f":1}]},"b":1}');
});

test('each row chains to the one before it', async () => {
  await someActivity();
  const rows = await t.services.db.auditLog.findMany({ orderBy: { seq: 'asc' } });
  expect(rows.length).toBeGreaterThan(4);
  expect(rows[0]!.prevHash).toBe(GENESIS_HASH);
  rows.forEach((r, i) => {
    expect(r.seq).toBe(i + 1);
    if (i > 0) expect(r.prevHash).toBe(rows[i - 1]!.hash);
    expect(auditHash(r)).toBe(r.hash);
  });
  const result = await t.hub.audit.verify();
  expect(result).toMatchObject({ ok: true, checked: rows.length, headSeq: rows.length, headHash: rows[rows.length - 1]!.hash });
});

test('views, changes and exports are all audited, with who, what and when', async () => {
  const ref = await someActivity();
  const c = new Client(t.url);
  await c.login('ada');
  await c.get('/hub/export.csv');
  await c.get('/hub/dashboard');
  const rows = await t.services.db.auditLog.findMany({ orderBy: { seq: 'asc' } });
  const ada = await t.services.db.staffUser.findUniqueOrThrow({ where: { username: 'ada' } });
  const by = (action: string) => rows.filter((r) => r.action === action);
  expect(by('referral.view')[0]).toMatchObject({ actorType: 'staff', actorId: ada.id, target: `referral:${ref}` });
  expect(by('referral.triage')[0]).toMatchObject({ actorType: 'staff', actorId: ada.id, target: `referral:${ref}` });
  expect(by('queue.view').length).toBeGreaterThan(0);
  expect(by('export.csv').length).toBe(1);
  expect(by('dashboard.view').length).toBe(1);
  for (const r of rows) expect(r.at).toBeInstanceOf(Date);
  // Reporter text never enters the audit log.
  expect(JSON.stringify(rows)).not.toContain('new trainers');
});

test('editing a row with raw SQL is detected at that row', async () => {
  await someActivity();
  const target = await t.services.db.auditLog.findFirstOrThrow({ where: { action: 'referral.triage' } });
  await t.services.db.$executeRawUnsafe(`UPDATE "AuditLog" SET "action" = 'referral.view' WHERE "seq" = ${target.seq}`);
  const result = await t.hub.audit.verify();
  expect(result.ok).toBe(false);
  expect(result.problem).toEqual({ seq: target.seq, reason: expect.stringContaining('edited') });
  expect(result.checked).toBe(target.seq - 1);
});

test('editing a row and recomputing its hash is still detected at the next row', async () => {
  await someActivity();
  const rows = await t.services.db.auditLog.findMany({ orderBy: { seq: 'asc' } });
  const victim = rows[2]!;
  const forged = { ...victim, actorId: 'someone-else' };
  const hash = auditHash(forged);
  await t.services.db.$executeRawUnsafe(`UPDATE "AuditLog" SET "actorId" = 'someone-else', "hash" = '${hash}' WHERE "seq" = ${victim.seq}`);
  const result = await t.hub.audit.verify();
  expect(result.ok).toBe(false);
  expect(result.problem!.seq).toBe(victim.seq + 1);
});

test('deleting a row is detected', async () => {
  await someActivity();
  await t.services.db.$executeRawUnsafe(`DELETE FROM "AuditLog" WHERE "seq" = 3`);
  const result = await t.hub.audit.verify();
  expect(result).toMatchObject({ ok: false, problem: { seq: 4 } });
});

test('an admin verifies the chain in the hub and sees where it broke', async () => {
  await someActivity();
  const c = new Client(t.url);
  await c.login('ada');
  // Paging takes a sequence number; anything else (huge, negative, not a number) shows the newest entries.
  for (const before of ['99999999999999999999', '2147483648', '-1', '1e9', 'abc']) expect((await c.get(`/hub/audit?before=${before}`)).status).toBe(200);
  await c.get('/hub/audit');
  const ok = await c.post('/hub/audit/verify');
  expect(ok.status).toBe(200);
  expect(ok.text).toContain('Chain intact');
  await t.services.db.$executeRawUnsafe(`UPDATE "AuditLog" SET "detail" = '{"edited":true}' WHERE "seq" = 2`);
  const broken = await c.post('/hub/audit/verify');
  expect(broken.text).toContain('Chain broken at row 2');
});

test('concurrent writers never fork the chain', async () => {
  const actor = { type: 'system' as const, id: 'load' };
  await Promise.all(Array.from({ length: 40 }, (_, i) => t.hub.audit.record(actor, { action: 'test.concurrent', detail: { i } })));
  const result = await t.hub.audit.verify();
  expect(result.ok).toBe(true);
  expect(await t.services.db.auditLog.count({ where: { action: 'test.concurrent' } })).toBe(40);
});
