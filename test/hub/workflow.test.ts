// The referral workflow through the web pages: queue order, overdue markers,
// transitions, the closure guard and its approval, notes, grading, optimistic
// concurrency, role rules and linked referrals.
import { Client, createStaff, makeReferral, startHubApp, type HubTestApp } from './fixtures';

let t: HubTestApp;
let triager: Client;
let supervisor: Client;
let admin: Client;

beforeAll(async () => {
  t = await startHubApp({ TARGET_IMMEDIATE_MINUTES: '60', TARGET_HIGH_MINUTES: '1440', TARGET_STANDARD_MINUTES: '7200' });
  await createStaff(t, 'tina', 'triager');
  await createStaff(t, 'sam', 'supervisor');
  await createStaff(t, 'ada', 'admin');
  triager = new Client(t.url);
  supervisor = new Client(t.url);
  admin = new Client(t.url);
  await triager.login('tina');
  await supervisor.login('sam');
  await admin.login('ada');
});
afterAll(async () => t?.close());

const status = async (ref: string) => (await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } })).status;

async function act(c: Client, ref: string, form: Record<string, string>, path = 'transition') {
  await c.get(`/hub/referrals/${ref}`);
  return c.post(`/hub/referrals/${ref}/${path}`, { version: c.version(), ...form });
}

describe('queue', () => {
  test('most urgent first, then oldest; overdue referrals are marked in words', async () => {
    const hour = 3_600_000;
    const now = Date.now();
    const stdOld = await makeReferral(t.services, { urgency: 'standard', createdAt: new Date(now - 6 * 24 * hour), town: 'Poole' });
    const high = await makeReferral(t.services, { urgency: 'high', createdAt: new Date(now - 2 * hour), town: 'Poole' });
    const immNew = await makeReferral(t.services, { urgency: 'immediate', createdAt: new Date(now - 5 * 60_000), town: 'Poole' });
    const immOld = await makeReferral(t.services, { urgency: 'immediate', createdAt: new Date(now - 3 * hour), town: 'Poole' });
    const res = await triager.get('/hub/queue?town=Poole');
    expect(res.status).toBe(200);
    const order = [...res.text.matchAll(/href="\/hub\/referrals\/([A-Z0-9-]+)"/g)].map((m) => m[1]);
    expect(order).toEqual([immOld, immNew, high, stdOld]);
    const rows = res.text.split('<tr').slice(2);
    expect(rows[0]).toContain('Overdue by');
    expect(rows[1]).not.toContain('Overdue by');
    expect(rows[2]).not.toContain('Overdue by');
    expect(rows[3]).toContain('Overdue by');
    const overdue = await triager.get('/hub/queue?town=Poole&overdue=1');
    expect([...overdue.text.matchAll(/href="\/hub\/referrals\/([A-Z0-9-]+)"/g)].map((m) => m[1])).toEqual([immOld, stdOld]);
  });

  test('filters by urgency, concern, indicator, residency and status', async () => {
    const a = await makeReferral(t.services, { town: 'Weymouth', concernType: 'home_takeover', indicators: ['ck_frequent_visitors'], residency: 'visiting' });
    const b = await makeReferral(t.services, { town: 'Weymouth', concernType: 'young_person', urgency: 'high' });
    const refs = async (q: string) => [...(await triager.get(`/hub/queue?town=Weymouth&${q}`)).text.matchAll(/href="\/hub\/referrals\/([A-Z0-9-]+)"/g)].map((m) => m[1]);
    expect(await refs('concernType=home_takeover')).toEqual([a]);
    expect(await refs('urgency=high')).toEqual([b]);
    expect(await refs('indicator=ck_frequent_visitors')).toEqual([a]);
    expect(await refs('residency=visiting')).toEqual([a]);
    expect(await refs('status=closed')).toEqual([]);
    expect((await triager.get('/hub/queue?urgency=bogus')).status).toBe(400);
  });
});

describe('workflow', () => {
  test('new → triaged → assigned → closed, with events, timestamps and audit rows', async () => {
    const ref = await makeReferral(t.services, { urgency: 'standard' });
    expect((await act(triager, ref, { action: 'assign', agency: 'police' })).status).toBe(409); // must triage first
    const tri = await act(triager, ref, { action: 'triage' });
    expect(tri.status).toBe(303);
    expect(tri.location).toContain('done=triage');
    expect(await status(ref)).toBe('triaged');
    expect((await act(triager, ref, { action: 'assign' })).status).toBe(400); // agency required
    expect((await act(triager, ref, { action: 'assign', agency: 'childrens_social_care' })).status).toBe(303);
    expect(await status(ref)).toBe('assigned');
    const noReason = await act(triager, ref, { action: 'close', outcome: 'referred_on', reason: '' });
    expect(noReason.status).toBe(400);
    expect(noReason.text).toContain('Give a reason for closing');
    expect((await act(triager, ref, { action: 'close', outcome: 'referred_on', reason: 'Passed to the CSC duty team.' })).status).toBe(303);
    const row = await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref }, include: { events: true } });
    expect(row).toMatchObject({ status: 'closed', outcome: 'referred_on', assignedAgency: 'childrens_social_care', closeReason: 'Passed to the CSC duty team.' });
    expect(row.triagedAt).toBeInstanceOf(Date);
    expect(row.closedAt).toBeInstanceOf(Date);
    expect(row.events.map((e) => `${e.fromStatus}->${e.toStatus}`).sort()).toEqual(['assigned->closed', 'new->triaged', 'triaged->assigned'].sort());
    const actions = (await t.services.db.auditLog.findMany({ where: { target: `referral:${ref}` }, orderBy: { seq: 'asc' } })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['referral.view', 'referral.triage', 'referral.assign', 'referral.close']));
    const page = await triager.get(`/hub/referrals/${ref}`);
    expect(page.text).toContain('Passed to the CSC duty team.');
    expect(page.text).toContain('Reopen');
  });

  test('reopen needs a reason and returns the referral to triaged', async () => {
    const ref = await makeReferral(t.services);
    await act(triager, ref, { action: 'triage' });
    await act(triager, ref, { action: 'close', outcome: 'no_further_action', reason: 'Nothing to act on.' });
    expect(await status(ref)).toBe('closed');
    expect((await act(triager, ref, { action: 'reopen', reason: '' })).status).toBe(400);
    expect((await act(triager, ref, { action: 'reopen', reason: 'The reporter came back with more.' })).status).toBe(303);
    const row = await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } });
    expect(row).toMatchObject({ status: 'triaged', outcome: null, closedAt: null });
  });

  test('a stale version is a conflict, not an overwrite', async () => {
    const ref = await makeReferral(t.services);
    await triager.get(`/hub/referrals/${ref}`);
    const stale = triager.version();
    await act(supervisor, ref, { action: 'triage' });
    const res = await triager.post(`/hub/referrals/${ref}/transition`, { action: 'assign', agency: 'police', version: stale });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Someone else changed this referral');
    expect(await status(ref)).toBe('triaged');
  });

  test('notes can be added at any stage and are shown escaped', async () => {
    const ref = await makeReferral(t.services);
    await triager.get(`/hub/referrals/${ref}`);
    expect((await triager.post(`/hub/referrals/${ref}/notes`, { text: 'Called <b>school</b> – no answer.' })).status).toBe(303);
    await act(triager, ref, { action: 'triage' });
    await act(triager, ref, { action: 'close', outcome: 'duplicate', reason: 'Same as another.' });
    await triager.get(`/hub/referrals/${ref}`);
    expect((await triager.post(`/hub/referrals/${ref}/notes`, { text: 'Note after closing.' })).status).toBe(303);
    const page = await triager.get(`/hub/referrals/${ref}`);
    expect(page.text).toContain('Called &lt;b&gt;school&lt;/b&gt; – no answer.');
    expect(page.text).toContain('Note after closing.');
    expect((await triager.post(`/hub/referrals/${ref}/notes`, { text: '   ' })).status).toBe(400);
  });

  test('3x5x2 grading is validated, versioned and recorded', async () => {
    const ref = await makeReferral(t.services);
    expect((await act(triager, ref, { sourceEvaluation: '4', intelAssessment: 'B', handlingCode: 'P' }, 'grading')).status).toBe(400);
    expect((await act(triager, ref, { sourceEvaluation: '2', intelAssessment: 'B', handlingCode: 'C' }, 'grading')).status).toBe(303);
    const row = await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } });
    expect(row).toMatchObject({ sourceEvaluation: '2', intelAssessment: 'B', handlingCode: 'C', version: 1 });
    const page = await triager.get(`/hub/referrals/${ref}`);
    expect(page.text).toContain('2BC');
  });
});

describe('closure guard', () => {
  test.each([
    ['high urgency', { urgency: 'high' as const }],
    ['immediate urgency', { urgency: 'immediate' as const }],
    ['unknown risk', { urgency: 'standard' as const, riskUnknown: true }],
  ])('a triager cannot close a referral with %s: 403 with a clear message', async (_label, opts) => {
    const ref = await makeReferral(t.services, opts);
    await act(triager, ref, { action: 'triage' });
    const page = await triager.get(`/hub/referrals/${ref}`);
    expect(page.text).toContain('Request closure');
    const res = await act(triager, ref, { action: 'close', outcome: 'no_further_action', reason: 'Looks fine.' });
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/A supervisor must approve closing this referral because (its urgency is (high|immediate)|the risk to the person is unknown)/);
    expect(await status(ref)).toBe('triaged');
    const denied = await t.services.db.auditLog.findFirst({ where: { target: `referral:${ref}`, action: 'referral.denied' } });
    expect(denied).not.toBeNull();
  });

  test('a supervisor can close a high-urgency referral directly', async () => {
    const ref = await makeReferral(t.services, { urgency: 'high' });
    await act(triager, ref, { action: 'triage' });
    expect((await act(supervisor, ref, { action: 'close', outcome: 'strategy_discussion', reason: 'Strategy meeting held.' })).status).toBe(303);
    expect(await status(ref)).toBe('closed');
  });

  test('a triager requests closure; a supervisor approves it and the referral closes as requested', async () => {
    const ref = await makeReferral(t.services, { urgency: 'immediate' });
    await act(triager, ref, { action: 'triage' });
    await act(triager, ref, { action: 'assign', agency: 'police' });
    const req = await act(triager, ref, { outcome: 'intelligence_logged', reason: 'Logged with the police intelligence unit.' }, 'closure-request');
    expect(req.status).toBe(303);
    expect(await status(ref)).toBe('assigned');
    // A triager cannot approve, even by posting the form directly.
    const page = await triager.get(`/hub/referrals/${ref}`);
    expect(page.text).toContain('Closure awaiting a supervisor');
    expect(page.text).not.toContain('Approve and close');
    const self = await triager.post(`/hub/referrals/${ref}/closure-decision`, { decision: 'approve', version: triager.version() });
    expect(self.status).toBe(403);
    expect(await status(ref)).toBe('assigned');
    const sp = await supervisor.get(`/hub/referrals/${ref}`);
    expect(sp.text).toContain('Approve and close');
    const eventId = /name="eventId" value="([^"]+)"/.exec(sp.text)![1]!;
    const ok = await supervisor.post(`/hub/referrals/${ref}/closure-decision`, { decision: 'approve', eventId, version: supervisor.version() });
    expect(ok.status).toBe(303);
    const row = await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } });
    expect(row).toMatchObject({ status: 'closed', outcome: 'intelligence_logged', closeReason: 'Logged with the police intelligence unit.' });
    const close = await t.services.db.referralEvent.findFirstOrThrow({ where: { referralId: row.id, toStatus: 'closed' } });
    expect(JSON.parse(close.body)).toMatchObject({ approvedBy: expect.any(String), requestedBy: expect.any(String) });
    expect((await supervisor.get(`/hub/referrals/${ref}`)).text).not.toContain('Closure awaiting a supervisor');
  });

  test('a supervisor can decline a closure request', async () => {
    const ref = await makeReferral(t.services, { urgency: 'high' });
    await act(triager, ref, { action: 'triage' });
    await act(triager, ref, { outcome: 'no_further_action', reason: 'No concerns found.' }, 'closure-request');
    const sp = await supervisor.get(`/hub/referrals/${ref}`);
    const eventId = /name="eventId" value="([^"]+)"/.exec(sp.text)![1]!;
    expect((await supervisor.post(`/hub/referrals/${ref}/closure-decision`, { decision: 'decline', eventId, version: supervisor.version(), note: 'Check with school first.' })).status).toBe(303);
    expect(await status(ref)).toBe('triaged');
    expect((await supervisor.get(`/hub/referrals/${ref}`)).text).not.toContain('Closure awaiting a supervisor');
  });

  test('the guard lives in the service layer too', async () => {
    const ref = await makeReferral(t.services, { urgency: 'high' });
    const p = { actor: { type: 'system' as const, id: 'x' }, role: 'triager' as const, eventActorId: 'x' };
    await t.hub.workflow.transition(p, ref, { to: 'triaged' });
    await expect(t.hub.workflow.transition(p, ref, { to: 'closed', outcome: 'other', reason: 'r' })).rejects.toMatchObject({ code: 'needs_supervisor', status: 403 });
    await expect(t.hub.workflow.transition({ ...p, role: null }, ref, { to: 'closed', outcome: 'other', reason: 'r' })).rejects.toMatchObject({ status: 403 });
    await expect(t.hub.workflow.transition({ ...p, role: 'supervisor' }, ref, { to: 'closed', outcome: 'other', reason: 'r' })).resolves.toMatchObject({ status: 'closed' });
  });
});

describe('role rules', () => {
  test('triagers cannot reach admin pages, exports or contact details', async () => {
    for (const p of ['/hub/audit', '/hub/admin/users', '/hub/admin/tokens', '/hub/export.csv', '/hub/export.json']) {
      const res = await triager.get(p);
      expect([p, res.status]).toEqual([p, 403]);
    }
    const ref = await makeReferral(t.services, { contact: 'Ring 07700 900999 after 6pm' });
    const page = await triager.get(`/hub/referrals/${ref}`);
    expect(page.text).toContain('Only a supervisor or admin can see them');
    expect(page.text).not.toContain('07700 900999');
    expect((await triager.post(`/hub/referrals/${ref}/contact`)).status).toBe(403);
    expect((await triager.post('/hub/admin/tokens', { name: 'x', scopes: 'export' })).status).toBe(403);
  });

  test('supervisors see contact details on request, and the read is audited', async () => {
    const ref = await makeReferral(t.services, { contact: 'Ring 07700 900999 after 6pm' });
    const page = await supervisor.get(`/hub/referrals/${ref}`);
    expect(page.text).not.toContain('07700 900999');
    const shown = await supervisor.post(`/hub/referrals/${ref}/contact`);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('Ring 07700 900999 after 6pm');
    const audit = await t.services.db.auditLog.findFirst({ where: { target: `referral:${ref}`, action: 'referral.contact_view' } });
    expect(audit).not.toBeNull();
    expect(audit!.detail).not.toContain('07700');
    expect((await supervisor.get('/hub/audit')).status).toBe(403);
  });

  test('admins manage accounts in the hub', async () => {
    await admin.get('/hub/admin/users');
    const weak = await admin.post('/hub/admin/users', { username: 'newbie', role: 'triager', password: 'Password1234', confirm: 'Password1234' });
    expect(weak.status).toBe(400);
    expect(weak.text).toContain('too common');
    const short = await admin.post('/hub/admin/users', { username: 'newbie', role: 'triager', password: 'Short1!', confirm: 'Short1!' });
    expect(short.text).toContain('at least 12 characters');
    const ok = await admin.post('/hub/admin/users', { username: 'newbie', role: 'triager', password: 'violet harbour pencil 77', confirm: 'violet harbour pencil 77' });
    expect(ok.status).toBe(303);
    const c = new Client(t.url);
    expect((await c.login('newbie', 'violet harbour pencil 77')).status).toBe(303);
    const user = await t.services.db.staffUser.findUniqueOrThrow({ where: { username: 'newbie' } });
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    // A problem with one row's form names the account, opens that form again, and marks the page title.
    await admin.get('/hub/admin/users');
    const mismatch = await admin.post(`/hub/admin/users/${user.id}/password`, { password: 'amber lantern river 42', confirm: 'amber lantern river 43' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.text).toContain('New password for newbie: The two passwords do not match.');
    expect(mismatch.text).toMatch(/<title>Error: Staff accounts/);
    expect(mismatch.text).toMatch(new RegExp(`<details open>\\s*<summary>Set a new password<span class="visually-hidden"> for newbie</span>`));
    expect((await admin.post(`/hub/admin/users/${user.id}/disable`)).status).toBe(303);
    expect((await c.get('/hub/queue')).status).toBe(303);
  });
});

describe('new information on a closed referral', () => {
  test('a reporter adding to a closed referral reopens it: back in the open queue, with the reason in its history', async () => {
    const ref = await makeReferral(t.services, { urgency: 'high' });
    await t.services.db.referral.update({
      where: { reference: ref },
      data: { status: 'closed', closedAt: new Date(), outcome: 'no_further_action', closeReason: 'Nothing more to do.', triagedAt: new Date() },
    });
    expect((await triager.get('/hub/queue')).text).not.toContain(ref);
    const added = await t.services.referrals.addAddendum(ref, {
      channel: 'webchat',
      text: 'He is back at the flat tonight.',
      indicators: [],
      entities: { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] },
    });
    expect(added).toBe(true);
    const row = await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } });
    expect(row).toMatchObject({ status: 'triaged', closedAt: null, outcome: null });
    expect((await triager.get('/hub/queue')).text).toContain(ref);
    const page = await triager.get(`/hub/referrals/${ref}`);
    expect(page.text).toContain('The reporter added information after this referral was closed, so it was reopened.');
    expect(page.text).toContain('He is back at the flat tonight.');
  });
});

describe('referral page', () => {
  test('shows structured fields with labels, reasons, entities, addenda and linked referrals', async () => {
    const a = await makeReferral(t.services, {
      urgency: 'high',
      indicators: ['yp_missing_episodes'],
      reasons: [{ code: 'r1', text: 'Child reported missing overnight', points: 30 }],
      entities: { phones: ['+447700900111'], vehicles: ['AB12CDE'], names: ['little t'], postcodes: ['BH1', 'BH1 4AA'] },
      residency: 'visiting',
    });
    const b = await makeReferral(t.services, { entities: { phones: ['+447700900111'] } });
    const c = await makeReferral(t.services, { entities: { vehicles: ['AB12CDE'], names: ['little t'] } });
    const sameDistrict = await makeReferral(t.services, { entities: { postcodes: ['BH1'] } });
    const samePostcode = await makeReferral(t.services, { entities: { postcodes: ['BH1 4AA'] } });
    const unrelated = await makeReferral(t.services, { entities: { phones: ['+447700900222'] } });
    await t.services.referrals.addAddendum(a, { channel: 'test', text: 'Saw the car again <i>today</i>.', indicators: [], entities: { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] } });
    const page = await triager.get(`/hub/referrals/${a}`);
    expect(page.text).toContain('Child reported missing overnight');
    expect(page.text).toContain('Visiting or staying temporarily');
    expect(page.text).toContain('+447700900111');
    expect(page.text).toContain('Saw the car again &lt;i&gt;today&lt;/i&gt;.');
    const linked = page.text.slice(page.text.indexOf('id="linked-title"'), page.text.indexOf('id="contact-title"'));
    expect(linked).toContain(b);
    expect(linked).toContain(c);
    expect(linked).not.toContain(unrelated);
    expect(linked).toContain(samePostcode);
    expect(linked).not.toContain(sameDistrict); // a district alone is too broad to link on
    expect(linked).toContain('Vehicle: AB12CDE');
  });

  test('an unknown reference is a 404 page', async () => {
    expect((await triager.get('/hub/referrals/ZZZZ-ZZZZ')).status).toBe(404);
    expect((await triager.get('/hub/referrals/%3Cscript%3E')).status).toBe(404);
  });
});

describe('dashboard', () => {
  test('renders accessible SVG charts with text alternatives', async () => {
    await makeReferral(t.services, { ageBand: '16_17', residency: 'visiting', indicators: ['yp_missing_episodes'] });
    const res = await triager.get('/hub/dashboard?weeks=4');
    expect(res.status).toBe(200);
    const svgs = res.text.match(/<svg role="img"[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs.length).toBeGreaterThanOrEqual(5);
    for (const svg of svgs) {
      expect(svg).toMatch(/aria-labelledby="[^"]+-title [^"]+-desc"/);
      expect(svg).toMatch(/<title id=/);
      expect(svg).toMatch(/<desc id=/);
    }
    expect(res.text).toContain('Show the data as a table');
    expect(res.text).toContain('Referrals per week by concern type');
    expect(res.text).toContain('Time to triage');
    expect(res.text).toMatch(/of referrals about a child were about a child visiting/);
  });
});
