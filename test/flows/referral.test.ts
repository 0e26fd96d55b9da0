// Report a worry, end to end through the real bot, storage and SQLite file.
import fs from 'node:fs';
import { startApp, type TestApp } from '../helpers/app';
import { Conversation, REFERENCE_RE } from '../helpers/conversation';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t?.close());

const m = () => t.app.services.content.messages;
const convo = (channelId = 'test') => new Conversation(t.app.services.runner, channelId);
const referral = (reference: string) => t.app.services.referrals.getJson(reference);

/** Answer every question with a skip (or the given answer), until the summary. */
async function toSummary(c: Conversation, answers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const text = c.text();
    if (text.includes(m().t('referral.ask.review'))) return;
    const match = Object.entries(answers).find(([q]) => text.includes(q));
    if (match) await c.say(match[1]);
    else if (c.options().includes(m().t('referral.signs_none'))) await c.pick(m().t('referral.signs_none'));
    else if (c.options().includes(m().t('referral.contact_no'))) await c.pick(m().t('referral.contact_no'));
    else await c.say('skip');
  }
  throw new Error(`never reached the summary: ${c.text()}`);
}

test('a young person visiting the area: every field captured, reference given after commit', async () => {
  const c = convo();
  await c.say('I think my neighbour is using a kid to sell drugs');
  expect(c.text()).toContain(m().t('referral.ask.concern'));
  await c.pick(m().t('referral.options.concern.young_person'));
  await c.pick(m().t('referral.options.age.13_15'));
  await c.say('Little T');
  await c.pick(m().t('referral.options.residency.visiting'));
  await c.say('Birmingham');
  await c.say('outside the flats on Alma Road, BH9 1AA');
  await c.pick(m().t('referral.options.when.ongoing'));
  const signs = c.options();
  expect(signs.length).toBeGreaterThan(2);
  await c.pick(signs[0]);
  expect(c.text()).toContain(m().t('referral.ask.signs'));
  expect(c.options()).not.toContain(signs[0]);
  await c.pick(m().t('referral.signs_done'));
  await c.say('He has 2 phones, the line is 07700 900123, gets dropped off by a black car AB12 CDE. Snap is @trapboy_99');
  await c.pick(m().t('referral.options.relationship.neighbour'));
  await c.pick(m().t('referral.options.knowledge.saw'));
  await c.pick(m().t('referral.contact_no'));
  expect(c.text()).toContain(m().t('referral.summary_title'));
  expect(c.text()).toContain('Little T');
  expect(c.reference()).toBeUndefined();
  await c.pick(m().t('referral.send'));
  const reference = c.reference();
  expect(reference).toMatch(REFERENCE_RE);
  const r = await referral(reference!);
  expect(r).toMatchObject({
    status: 'new',
    channel: 'test',
    concernType: 'young_person',
    reporterRelationship: 'neighbour',
    knowledge: 'saw',
    when: 'ongoing',
    subject: { ageBand: '13_15', residency: 'visiting', homeArea: 'Birmingham', name: 'Little T' },
    location: { postcodeDistrict: 'BH9' },
  });
  expect(r!.location.town).toBeTruthy();
  expect(r!.entities.phones).toContain('+447700900123');
  expect(r!.entities.vehicles).toContain('AB12CDE');
  expect(r!.entities.handles.join(' ')).toMatch(/trapboy_99/);
  expect(r!.indicators).toContain(t.app.services.referralDomain.choices('young_person')[0].code);
  expect(r!.narrative).toContain('07700 900123');
  expect(['high', 'immediate']).toContain(r!.urgency);
  expect(r!.reasons.length).toBeGreaterThan(0);
});

test('a home being taken over, with skips everywhere: stored with risk flagged, not dropped', async () => {
  const c = convo();
  await c.say('report');
  await c.pick(m().t('referral.options.concern.home_takeover'));
  await toSummary(c);
  await c.pick(m().t('referral.send'));
  const r = await referral(c.reference()!);
  expect(r).toMatchObject({ concernType: 'home_takeover', subject: { residency: 'lives_here', ageBand: 'unknown' }, knowledge: 'unknown' });
  expect(r!.riskUnknown).toBe(true);
  expect(r!.urgency).not.toBe('standard');
});

test('an adult being exploited, and something else', async () => {
  for (const concern of ['adult', 'other'] as const) {
    const c = convo();
    await c.say('I want to report something');
    await c.pick(m().t(`referral.options.concern.${concern}`));
    await toSummary(c, { [m().t('referral.ask.story')]: 'Men keep coming to his flat at all hours and he looks scared' });
    await c.pick(m().t('referral.send'));
    const r = await referral(c.reference()!);
    expect(r!.concernType).toBe(concern);
    expect(r!.narrative).toContain('all hours');
  }
});

test('a self-referral from a young person: victim-focused, no relationship question', async () => {
  const c = convo();
  await c.say('my olders say i owe them money and i have to keep running for them');
  await c.pick(m().t('yes'));
  expect(c.text()).toContain(m().t('referral.intro_self'));
  expect(c.text()).toContain(m().t('referral.ask_self.age'));
  await c.say("I'm 15");
  await toSummary(c);
  expect(c.text()).not.toContain(`${m().t('referral.fields.relationship')}:`);
  await c.pick(m().t('referral.send'));
  const r = await referral(c.reference()!);
  expect(r).toMatchObject({ concernType: 'self', reporterRelationship: 'self', subject: { ageBand: '13_15' } });
  expect(r!.urgency).not.toBe('standard');
});

test('a self-referral speaks to the young person as "you", signs in the first person, and never asks how they know', async () => {
  const c = convo();
  const said: string[] = [];
  const say = async (text: string) => said.push(...(await c.say(text)).map((r) => r.text ?? ''));
  await say('report');
  await say(m().t('referral.options.concern.self'));
  await say('14');
  expect(c.text()).toContain(m().t('referral.ask_self.residency'));
  expect(c.options()).toEqual(expect.arrayContaining([m().t('referral.options_self.residency.lives_here'), m().t('referral.options_self.residency.visiting')]));
  await say(m().t('referral.options_self.residency.visiting'));
  expect(c.text()).toContain(m().t('referral.ask_self.homeArea'));
  await say('Birmingham');
  await say('skip'); // where
  await say(m().t('referral.options.when.ongoing'));
  expect(c.text()).toContain(m().t('referral.ask_self.signs'));
  expect(c.options()).toContain('Threats to me or my family');
  expect(c.options()).not.toContain('Threats to them or their family');
  await say('Threats to me or my family');
  await say(m().t('referral.signs_done'));
  expect(c.text()).toContain(m().t('referral.ask_self.story'));
  await toSummary(c);
  said.push(c.text());
  const all = said.join('\n');
  expect(all).not.toContain(m().t('referral.ask.knowledge'));
  expect(all).not.toMatch(/\bDoes you\b|\bthey come from\b|Roughly how old is you/);
  expect(c.text()).toContain('Threats to me or my family');
  expect(c.text()).not.toContain(`${m().t('referral.fields.knowledge')}:`);
  await c.pick(m().t('referral.send'));
  const r = await referral(c.reference()!);
  expect(r).toMatchObject({ concernType: 'self', reporterRelationship: 'self', knowledge: 'saw', subject: { residency: 'visiting', homeArea: 'Birmingham' } });
});

test('back, start again and a correction from the summary', async () => {
  const c = convo();
  await c.say('report a worry');
  await c.pick(m().t('referral.options.concern.young_person'));
  await c.pick(m().t('referral.options.age.under_13'));
  await c.say('back');
  expect(c.text()).toContain(m().t('referral.ask.age', { who: m().t('referral.who.young_person') }));
  await c.pick(m().t('referral.options.age.16_17'));
  await c.say('start again');
  expect(c.text()).toContain(m().t('referral.restarted'));
  expect(c.text()).toContain(m().t('referral.ask.concern'));
  await c.pick(m().t('referral.options.concern.young_person'));
  await c.pick(m().t('referral.options.age.16_17'));
  await toSummary(c);
  expect(c.text()).toContain(m().t('referral.options.age.16_17'));
  await c.pick(m().t('referral.change'));
  await c.pick(m().t('referral.fields.age'));
  await c.pick(m().t('referral.options.age.13_15'));
  expect(c.text()).toContain(m().t('referral.ask.review'));
  expect(c.text()).toContain(m().t('referral.options.age.13_15'));
  await c.pick(m().t('referral.send'));
  expect((await referral(c.reference()!))!.subject.ageBand).toBe('13_15');
});

test('danger mid-report: 999 first, the report is kept, and the danger is recorded on it', async () => {
  const c = convo();
  await c.say('I need to report something');
  await c.pick(m().t('referral.options.concern.young_person'));
  await c.pick(m().t('referral.options.age.13_15'));
  await c.say('they just pulled a knife on him and are dragging him into a car');
  expect(c.replies[0].text).toBe(m().t('danger'));
  expect(c.text()).toContain(m().t('referral.ask.name'));
  await toSummary(c);
  await c.pick(m().t('referral.send'));
  const r = await referral(c.reference()!);
  expect(r!.urgency).toBe('immediate');
  expect(r!.dangerReported).toBe(true);
  expect(r!.narrative).toContain('pulled a knife');
  // A danger phrase matched: staff see that reason, not the classifier's.
  const reasons = r!.reasons.map((x) => x.code);
  expect(reasons).toContain('danger_reported');
  expect(reasons).not.toContain('danger_flagged_by_classifier');
});

test('danger flagged by the classifier alone mid-report: 999 first, and staff are told which check fired', async () => {
  const { nlu } = t.app.services;
  const flagged = 'he has been acting really off all week';
  const classify = nlu.classify;
  // Classifier decisions move with training data: this one is fixed for the test, and no danger phrase matches it.
  nlu.classify = async (text, locale) => (text === flagged ? { intent: 'danger.immediate', score: 0.97, dangerScore: 0.97 } : classify.call(nlu, text, locale));
  try {
    const c = convo();
    await c.say('I need to report something');
    await c.pick(m().t('referral.options.concern.young_person'));
    await c.pick(m().t('referral.options.age.13_15'));
    await c.say(flagged);
    expect(c.replies[0].text).toBe(m().t('danger'));
    await toSummary(c);
    await c.pick(m().t('referral.send'));
    const r = await referral(c.reference()!);
    expect(r!.dangerReported).toBe(true);
    expect(r!.urgency).toBe('immediate'); // the default rules weigh both the same
    const reasons = r!.reasons.map((x) => x.code);
    expect(reasons).toContain('danger_flagged_by_classifier');
    expect(reasons).not.toContain('danger_reported');
  } finally {
    nlu.classify = classify;
  }
});

test('"happening now" gets 999 guidance at once and carries on', async () => {
  const c = convo();
  await c.say('report');
  await c.pick(m().t('referral.options.concern.adult'));
  for (let i = 0; i < 8 && !c.options().includes(m().t('referral.options.when.now')); i++) await c.say('skip');
  await c.pick(m().t('referral.options.when.now'));
  expect(c.text()).toContain(m().t('danger'));
  expect(c.text()).toContain(m().t('referral.ask.signs'));
});

test.each(['right now', 'rn', 'happening right now!!', 'as we speak', 'At the moment.'])('typing "%s" at "When is this happening?" is "Happening now": 999 at once, kept as now', async (typed) => {
  const c = convo();
  await c.say('report');
  await c.pick(m().t('referral.options.concern.adult'));
  for (let i = 0; i < 8 && !c.options().includes(m().t('referral.options.when.now')); i++) await c.say('skip');
  await c.say(typed);
  expect(c.replies[0]?.text).toBe(m().t('danger'));
  expect(c.text()).toContain(m().t('referral.ask.signs'));
  await toSummary(c);
  expect(c.text()).toContain(m().t('referral.options.when.now'));
});

test('the reference code is never sent when the commit fails; a retry then succeeds', async () => {
  const { db } = t.app.services;
  const c = convo();
  await c.say('report');
  await c.pick(m().t('referral.options.concern.other'));
  await toSummary(c);
  const before = await db.referral.count();
  const outboxBefore = await db.outboxMessage.count();
  await db.$executeRawUnsafe(`CREATE TRIGGER fail_referral BEFORE INSERT ON "Referral" BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
  try {
    await c.pick(m().t('referral.send'));
    expect(c.reference()).toBeUndefined();
    expect(c.text()).toContain(m().t('referral.save_failed'));
    expect(await db.referral.count()).toBe(before);
    expect(await db.outboxMessage.count()).toBe(outboxBefore);
  } finally {
    await db.$executeRawUnsafe('DROP TRIGGER fail_referral');
  }
  await c.pick(m().t('referral.send'));
  expect(c.reference()).toMatch(REFERENCE_RE);
  expect(await db.referral.count()).toBe(before + 1);
});

test('a report sent again after its reply was lost is stored once, and the same reference comes back', async () => {
  const { db, storage } = t.app.services;
  const c = convo();
  await c.say('report');
  await c.pick(m().t('referral.options.concern.young_person'));
  await toSummary(c);
  const before = await db.referral.count();
  // The referral commits, then the conversation's state can't be saved (as if
  // the process died between the two): the conversation is still at "send?".
  const write = jest.spyOn(storage, 'write').mockRejectedValueOnce(new Error('SQLITE_IOERR'));
  try {
    await c.pick(m().t('referral.send'));
  } finally {
    write.mockRestore();
  }
  const first = c.reference();
  expect(first).toMatch(REFERENCE_RE);
  expect(await db.referral.count()).toBe(before + 1);
  await c.say(m().t('referral.send'));
  expect(c.reference()).toBe(first);
  expect(await db.referral.count()).toBe(before + 1);
  expect(await db.outboxMessage.count({ where: { dedupeKey: `hub.alert:${first}` } })).toBeLessThanOrEqual(1);
});

test('the same submission sent twice at once is stored once', async () => {
  const { referrals, referralDomain: domain, db } = t.app.services;
  const draft = {
    concernType: 'home_takeover' as const,
    subject: { ageBand: '25_plus' as const, residency: 'lives_here' as const },
    location: { town: 'Weymouth' },
    when: 'ongoing' as const,
    indicators: [{ code: 'ck_frequent_visitors', source: 'choice' as const }],
    narrative: 'Visitors at all hours.',
    reporterRelationship: 'neighbour' as const,
    knowledge: 'saw' as const,
    dangerReported: false,
    entities: { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] },
  };
  const input = { draft, assessment: domain.assess(draft), channel: 'test', submissionKey: `key-${Date.now()}` };
  const before = await db.referral.count();
  const [a, b] = await Promise.all([referrals.create(input), referrals.create(input)]);
  expect(a.reference).toBe(b.reference);
  expect([a.existing, b.existing].sort()).toEqual([false, true]);
  expect(await db.referral.count()).toBe(before + 1);
  // A different key is a different report.
  const other = await referrals.create({ ...input, submissionKey: `${input.submissionKey}-2` });
  expect(other.reference).not.toBe(a.reference);
});

test('a reporter comes back with the reference code, on another channel, and adds information', async () => {
  const c = convo();
  await c.say('report');
  await c.pick(m().t('referral.options.concern.young_person'));
  await toSummary(c);
  await c.pick(m().t('referral.send'));
  const reference = c.reference()!;
  const later = convo('sms');
  await later.say(`hi my ref is ${reference.toLowerCase()}`);
  expect(later.text()).toContain(m().t('addendum.ask_text'));
  await later.say('He was picked up again tonight by a silver car, reg WX65 ABC, and his phone is 07911 123456');
  expect(later.text()).toContain(reference);
  const r = await referral(reference);
  expect(r!.addenda).toHaveLength(1);
  expect(r!.addenda[0].channel).toBe('sms');
  expect(r!.entities.vehicles).toContain('WX65ABC');
  expect(r!.entities.phones).toContain('+447911123456');
});

test('volunteered contact details are stored only encrypted', async () => {
  const c = convo();
  await c.say('report');
  await c.pick(m().t('referral.options.concern.adult'));
  await toSummary(c, {
    [m().t('referral.ask.contact')]: m().t('referral.contact_yes'),
    [m().t('referral.ask.contactDetails')]: 'call me on 07123 456789 after 6pm, ask for Sam',
  });
  await c.pick(m().t('referral.send'));
  const reference = c.reference()!;
  expect(await t.app.services.referrals.readContact(reference)).toBe('call me on 07123 456789 after 6pm, ask for Sam');
  expect(JSON.stringify(await referral(reference))).not.toContain('07123');
  const raw = Buffer.concat([t.dbFile, `${t.dbFile}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
  expect(raw.includes('07123 456789')).toBe(false);
  expect(raw.includes('ask for Sam')).toBe(false);
});

describe('words from content/answers.yml work as their buttons', () => {
  const answers = () => t.app.services.content.answers;

  test('every "don\'t know" word skips the age question and moves on', async () => {
    for (const word of answers().skip) {
      const c = convo();
      await c.say('report');
      await c.pick(m().t('referral.options.concern.young_person'));
      await c.say(word);
      expect(`${word}: ${c.text()}`).toContain(m().t('referral.ask.name'));
    }
  });

  test('every "back" word goes back one question', async () => {
    for (const word of answers().during_report.back) {
      const c = convo();
      await c.say('report');
      await c.pick(m().t('referral.options.concern.young_person'));
      await c.say(word);
      expect(`${word}: ${c.text()}`).toContain(m().t('referral.ask.concern'));
    }
  });
});
