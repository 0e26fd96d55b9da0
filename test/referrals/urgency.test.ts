import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  URGENCY_RANK,
  assess,
  checkRulesAgainstIndicators,
  compareAssessments,
  loadIndicators,
  loadUrgencyRules,
  parseIndicators,
  parseUrgencyRules,
  ReferralContentError,
} from '../../bot/referrals/urgency';
import {
  AGE_BANDS,
  CHILD_AGE_BANDS,
  KNOWLEDGE_CODES,
  RELATIONSHIPS,
  RESIDENCIES,
  WHEN_CODES,
  type Assessment,
  type ReferralDraft,
  type UrgencyRules,
} from '../../bot/referrals/types';
import { codes, draft, randomDraft, rng } from './drafts';

const ROOT = path.resolve(__dirname, '../..');
const INDICATORS_FILE = path.join(ROOT, 'content/referrals/indicators.yml');
const RULES_FILE = path.join(ROOT, 'content/referrals/urgency-rules.yml');

const indicators = loadIndicators(INDICATORS_FILE);
const rules = loadUrgencyRules(RULES_FILE, indicators);
const allCodes = indicators.indicators.map((d) => d.code);

function atLeast(a: Assessment, b: Assessment): boolean {
  return URGENCY_RANK[a.urgency] >= URGENCY_RANK[b.urgency] && a.riskScore >= b.riskScore;
}
function codesOf(a: Assessment): string[] {
  return a.reasons.map((r) => r.code);
}
function rawRules(): Record<string, unknown> {
  return parseYaml(fs.readFileSync(RULES_FILE, 'utf8')) as Record<string, unknown>;
}
function rawIndicators(): Record<string, unknown> {
  return parseYaml(fs.readFileSync(INDICATORS_FILE, 'utf8')) as Record<string, unknown>;
}

/** Every way of filling the unknown fields of a draft with known values. */
function fills(d: ReferralDraft): ReferralDraft[] {
  let out: ReferralDraft[] = [d];
  const expand = (known: (x: ReferralDraft) => boolean, values: readonly string[], set: (x: ReferralDraft, v: string) => ReferralDraft): void => {
    out = out.flatMap((x) => (known(x) ? [x] : values.filter((v) => v !== 'unknown').map((v) => set(x, v))));
  };
  expand((x) => x.subject.ageBand !== 'unknown', AGE_BANDS, (x, v) => ({ ...x, subject: { ...x.subject, ageBand: v as never } }));
  expand((x) => x.subject.residency !== 'unknown', RESIDENCIES, (x, v) => ({ ...x, subject: { ...x.subject, residency: v as never } }));
  expand((x) => x.when !== 'unknown', WHEN_CODES, (x, v) => ({ ...x, when: v as never }));
  expand((x) => x.reporterRelationship !== 'unknown', RELATIONSHIPS, (x, v) => ({ ...x, reporterRelationship: v as never }));
  expand((x) => x.knowledge !== 'unknown', KNOWLEDGE_CODES, (x, v) => ({ ...x, knowledge: v as never }));
  return out;
}

describe('content files load and are consistent', () => {
  test('indicator taxonomy has 35–50 indicators with short labels and ≤ 8 choices per concern', () => {
    expect(indicators.indicators.length).toBeGreaterThanOrEqual(35);
    expect(indicators.indicators.length).toBeLessThanOrEqual(50);
    for (const d of indicators.indicators) {
      expect(d.label.length).toBeLessThanOrEqual(40);
      expect(d.weight).toBeGreaterThanOrEqual(1);
      expect(d.weight).toBeLessThanOrEqual(10);
      expect(d.patterns.length).toBeGreaterThan(0);
    }
    for (const concern of ['young_person', 'home_takeover', 'adult', 'self', 'other'] as const) {
      const set = indicators.choiceSets[concern] ?? [];
      expect(set.length).toBeGreaterThan(0);
      expect(set.length).toBeLessThanOrEqual(8);
    }
  });

  test('urgency rules only name indicator codes and categories that exist', () => {
    expect(checkRulesAgainstIndicators(rules, indicators)).toEqual([]);
  });

  test('the default paths find the same content', () => {
    expect(loadIndicators().indicators.length).toBe(indicators.indicators.length);
    expect(loadUrgencyRules().rules.length).toBe(rules.rules.length);
  });
});

describe('assess: danger and immediate risks', () => {
  test('danger reported → immediate, with a reason', () => {
    const a = assess(draft({ dangerReported: true }), rules, indicators);
    expect(a.urgency).toBe('immediate');
    expect(codesOf(a)).toContain('danger_reported');
  });

  test('staff see whether a danger phrase or only the classifier fired; both immediate by default', () => {
    const phrase = assess(draft({ dangerReported: true, dangerReportedBy: 'phrase' }), rules, indicators);
    const classifier = assess(draft({ dangerReported: true, dangerReportedBy: 'classifier' }), rules, indicators);
    expect(codesOf(phrase)).toContain('danger_reported');
    expect(codesOf(phrase)).not.toContain('danger_flagged_by_classifier');
    expect(codesOf(classifier)).toContain('danger_flagged_by_classifier');
    expect(codesOf(classifier)).not.toContain('danger_reported');
    expect([phrase.urgency, classifier.urgency]).toEqual(['immediate', 'immediate']);
    // A source without the flag means nothing: no danger reason at all.
    const none = assess(draft({ dangerReported: false, dangerReportedBy: 'classifier' }), rules, indicators);
    expect(codesOf(none).filter((c) => c.startsWith('danger'))).toEqual([]);
  });

  test('the safeguarding lead can make a classifier-only flag weigh less, and a phrase still counts in full', () => {
    const raw = rawRules();
    const rule = (raw.rules as Array<Record<string, unknown>>).find((r) => r.id === 'danger_flagged_by_classifier')!;
    rule.urgency = 'high';
    rule.points = 20;
    const edited = parseUrgencyRules(raw, 'test.yml');
    const base = draft({ concernType: 'adult', when: 'ongoing', subject: { ageBand: '25_plus', residency: 'lives_here' } });
    const byClassifier = assess({ ...base, dangerReported: true, dangerReportedBy: 'classifier' }, edited, indicators);
    const byPhrase = assess({ ...base, dangerReported: true, dangerReportedBy: 'phrase' }, edited, indicators);
    expect(byClassifier.urgency).toBe('high');
    expect(byPhrase.urgency).toBe('immediate');
    expect(byPhrase.riskScore).toBeGreaterThan(byClassifier.riskScore);
  });

  test('a rule naming an unknown danger source is refused', () => {
    const raw = rawRules();
    (raw.rules as unknown[]).push({ id: 'odd_source', when: { field: 'dangerReportedBy', equals: 'model' }, points: 5, text: 'x' });
    expect(() => parseUrgencyRules(raw, 'test.yml')).toThrow(/"model" is not a value of dangerReportedBy \(expected one of phrase, classifier, none\)/);
  });

  test('happening now → immediate', () => {
    const a = assess(draft({ when: 'now' }), rules, indicators);
    expect(a.urgency).toBe('immediate');
    expect(codesOf(a)).toContain('happening_now');
  });

  test('a child missing now → immediate', () => {
    const a = assess(draft({ concernType: 'young_person', subject: { ageBand: '13_15' }, indicators: codes('yp_missing_now') }), rules, indicators);
    expect(a.urgency).toBe('immediate');
    expect(codesOf(a)).toContain('child_missing_now');
  });

  test('weapons → at least high; weapons today → immediate', () => {
    const a = assess(draft({ indicators: codes('cl_weapons') }), rules, indicators);
    expect(URGENCY_RANK[a.urgency]).toBeGreaterThanOrEqual(URGENCY_RANK.high);
    expect(codesOf(a)).toContain('weapons');
    const b = assess(draft({ indicators: codes('cl_weapons'), when: 'today' }), rules, indicators);
    expect(b.urgency).toBe('immediate');
  });

  test('plugging, threats and violence → at least high', () => {
    for (const code of ['cl_plugging', 'cl_threats', 'cl_violence']) {
      const a = assess(draft({ indicators: codes(code) }), rules, indicators);
      expect(URGENCY_RANK[a.urgency]).toBeGreaterThanOrEqual(URGENCY_RANK.high);
    }
  });

  test('a child asking for help for themselves → high', () => {
    const a = assess(
      draft({ concernType: 'self', reporterRelationship: 'self', subject: { ageBand: '16_17' }, indicators: codes('cl_debt') }),
      rules,
      indicators,
    );
    expect(URGENCY_RANK[a.urgency]).toBeGreaterThanOrEqual(URGENCY_RANK.high);
    expect(codesOf(a)).toContain('child_self_referral');
  });
});

describe('assess: scoring and reasons', () => {
  test('a child scores more than an adult with the same signs', () => {
    const adult = assess(draft({ indicators: codes('yp_multiple_phones') }), rules, indicators);
    const child = assess(draft({ subject: { ageBand: '13_15' }, indicators: codes('yp_multiple_phones') }), rules, indicators);
    expect(child.riskScore).toBeGreaterThan(adult.riskScore);
    expect(codesOf(child)).toContain('child_subject');
  });

  test('home takeover with a vulnerable resident gets points', () => {
    const a = assess(
      draft({ concernType: 'home_takeover', indicators: codes('ck_frequent_visitors', 'ad_vulnerable') }),
      rules,
      indicators,
    );
    expect(codesOf(a)).toContain('home_takeover_vulnerable');
  });

  test('debt or threats add points; ongoing adds points', () => {
    const base = assess(draft({ indicators: codes('yp_multiple_phones') }), rules, indicators);
    const debt = assess(draft({ indicators: codes('yp_multiple_phones', 'cl_debt') }), rules, indicators);
    expect(codesOf(debt)).toContain('debt_threats');
    expect(debt.riskScore).toBeGreaterThan(base.riskScore);
    const ongoing = assess(draft({ indicators: codes('yp_multiple_phones'), when: 'ongoing' }), rules, indicators);
    expect(codesOf(ongoing)).toContain('ongoing');
    expect(ongoing.riskScore).toBeGreaterThan(base.riskScore);
  });

  test('each indicator code counts once', () => {
    const once = assess(draft({ indicators: codes('yp_multiple_phones') }), rules, indicators);
    const twice = assess(
      draft({ indicators: [{ code: 'yp_multiple_phones', source: 'choice' }, { code: 'yp_multiple_phones', source: 'text' }] }),
      rules,
      indicators,
    );
    expect(twice).toEqual(once);
  });

  test('every reason has a code and plain text; points add up to the score below the cap', () => {
    const a = assess(draft({ subject: { ageBand: '16_17' }, indicators: codes('yp_multiple_phones', 'yp_older_associates'), when: 'ongoing' }), rules, indicators);
    expect(a.riskScore).toBeLessThan(100);
    for (const r of a.reasons) {
      expect(r.code).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(r.text.length).toBeGreaterThan(10);
    }
    const sum = a.reasons.reduce((s, r) => s + (r.points ?? 0), rules.base);
    expect(a.riskScore).toBe(sum);
    expect(a.reasons.find((r) => r.code === 'indicator_weights')?.text).toContain('More than one phone or SIM');
  });

  test('score is capped at 100', () => {
    const a = assess(
      draft({ dangerReported: true, when: 'now', subject: { ageBand: 'under_13', residency: 'visiting' }, indicators: codes(...allCodes) }),
      rules,
      indicators,
    );
    expect(a.riskScore).toBe(100);
    expect(a.urgency).toBe('immediate');
  });

  test('victim-focused language: no reason calls anyone an offender', () => {
    const r = rng(7);
    for (let i = 0; i < 300; i += 1) {
      for (const reason of assess(randomDraft(r, allCodes), rules, indicators).reasons) {
        expect(reason.text.toLowerCase()).not.toMatch(/offender|perpetrator|criminal child/);
      }
    }
  });

  test('victim-focused language in every label and rule text', () => {
    const texts = [
      ...indicators.indicators.map((d) => d.label),
      ...Object.values(indicators.categories).map((c) => c.label),
      ...rules.rules.map((r) => r.text),
      rules.unknown.text,
    ];
    for (const t of texts) expect(t).not.toMatch(/\b(offenders?|perpetrators?|criminals?)\b/i);
  });

  test('unrecognised indicator codes are reported, not scored, and do not crash', () => {
    const a = assess(draft({ indicators: codes('no_such_sign') }), rules, indicators);
    expect(a.reasons.find((r) => r.code === 'indicator_weights')?.text).toContain('no_such_sign');
  });

  test('assess is deterministic and does not change its input', () => {
    const d = draft({ concernType: 'young_person', subject: { ageBand: 'unknown', residency: 'unknown' }, when: 'unknown', indicators: codes('cl_debt') });
    const copy = JSON.parse(JSON.stringify(d)) as ReferralDraft;
    expect(assess(d, rules, indicators)).toEqual(assess(d, rules, indicators));
    expect(d).toEqual(copy);
  });
});

describe('invariant: visiting children are never rated lower than children who live here', () => {
  test('a visiting child scores at least as high as the same child living here (and higher by the rules)', () => {
    for (const ageBand of CHILD_AGE_BANDS) {
      const here = assess(draft({ concernType: 'young_person', subject: { ageBand, residency: 'lives_here' }, indicators: codes('yp_missing_episodes') }), rules, indicators);
      const visiting = assess(draft({ concernType: 'young_person', subject: { ageBand, residency: 'visiting' }, indicators: codes('yp_missing_episodes') }), rules, indicators);
      expect(atLeast(visiting, here)).toBe(true);
      expect(visiting.riskScore).toBeGreaterThan(here.riskScore);
      expect(codesOf(visiting)).toContain('child_visiting');
    }
  });

  test('property: 3000 random drafts, visiting ≥ lives_here in urgency and score', () => {
    const r = rng(2018);
    for (let i = 0; i < 3000; i += 1) {
      const d = randomDraft(r, allCodes);
      const here = assess({ ...d, subject: { ...d.subject, residency: 'lives_here' } }, rules, indicators);
      const visiting = assess({ ...d, subject: { ...d.subject, residency: 'visiting' } }, rules, indicators);
      if (!atLeast(visiting, here)) throw new Error(`visiting rated lower for ${JSON.stringify(d)}`);
    }
  });

  test('enforced in code even if the rules favoured residents', () => {
    const bad: UrgencyRules = {
      ...rules,
      rules: [
        ...rules.rules,
        { id: 'bad_resident_bonus', text: 'test only', when: { field: 'subject.residency', equals: 'lives_here' }, points: 50, urgency: 'immediate' },
      ],
    };
    const d = draft({ subject: { ageBand: '13_15', residency: 'visiting' } });
    const here = assess({ ...d, subject: { ...d.subject, residency: 'lives_here' } }, bad, indicators);
    const visiting = assess(d, bad, indicators);
    expect(here.urgency).toBe('immediate');
    expect(atLeast(visiting, here)).toBe(true);
    expect(codesOf(visiting)).toContain('floor_visiting');
  });

  test('the loader refuses rules that favour residents, with a clear message', () => {
    const raw = rawRules();
    (raw.rules as unknown[]).push({ id: 'resident_bonus', when: { field: 'subject.residency', equals: 'lives_here' }, points: 5, text: 'x' });
    expect(() => parseUrgencyRules(raw, 'test.yml')).toThrow(/resident_bonus.*visiting the area must never be rated lower/s);
    const raw2 = rawRules();
    (raw2.rules as unknown[]).push({ id: 'not_visiting', when: { not: { field: 'subject.residency', equals: 'visiting' } }, points: 5, text: 'x' });
    expect(() => parseUrgencyRules(raw2, 'test.yml')).toThrow(/not_visiting/);
  });
});

describe('invariant: risk unknown is a flag, never a low rating', () => {
  test('an almost empty referral is flagged, high and not low-scoring', () => {
    const a = assess(
      draft({ concernType: 'other', subject: { ageBand: 'unknown', residency: 'unknown' }, when: 'unknown', narrative: '', reporterRelationship: 'unknown', knowledge: 'unknown' }),
      rules,
      indicators,
    );
    expect(a.riskUnknown).toBe(true);
    expect(URGENCY_RANK[a.urgency]).toBeGreaterThanOrEqual(URGENCY_RANK.high);
    expect(a.riskScore).toBeGreaterThanOrEqual(rules.thresholds.high);
    expect(codesOf(a)).toContain('risk_unknown');
  });

  test('a detailed referral is not flagged', () => {
    const a = assess(draft({ concernType: 'young_person', subject: { ageBand: '13_15' }, indicators: codes('yp_missing_episodes', 'yp_multiple_phones') }), rules, indicators);
    expect(a.riskUnknown).toBe(false);
  });

  test('property: unknown fields never rate lower than the least-risk filling of them', () => {
    const r = rng(42);
    let checked = 0;
    for (let i = 0; i < 400 && checked < 120; i += 1) {
      const d = randomDraft(r, allCodes);
      const options = fills(d);
      if (options.length === 1) continue;
      checked += 1;
      const own = assess(d, rules, indicators);
      const least = options.map((f) => assess(f, rules, indicators)).reduce((m, a) => (compareAssessments(a, m) < 0 ? a : m));
      if (!atLeast(own, least)) throw new Error(`unknown rated lower than least-risk filling for ${JSON.stringify(d)}`);
    }
    expect(checked).toBeGreaterThan(50);
  });

  test('enforced in code even if the rules rewarded known details', () => {
    const bad: UrgencyRules = {
      ...rules,
      rules: [{ id: 'known_age_bonus', text: 'test only', when: { field: 'subject.ageBand', notEquals: 'unknown' }, points: 30, urgency: 'high' }],
      unknown: { ...rules.unknown, when: { all: [{ field: 'narrative', equals: 'never' }] } },
    };
    const known = assess(draft({ subject: { ageBand: '25_plus' } }), bad, indicators);
    const unknown = assess(draft({ subject: { ageBand: 'unknown' } }), bad, indicators);
    expect(known.riskScore).toBe(30);
    expect(atLeast(unknown, known)).toBe(true);
    expect(codesOf(unknown)).toContain('floor_unknown');
  });
});

describe('loading: clear errors naming the bad entry', () => {
  test('a bad weight names the indicator', () => {
    const raw = rawIndicators();
    const list = raw.indicators as Record<string, unknown>[];
    (list[2] as Record<string, unknown>).weight = 11;
    const code = (list[2] as Record<string, unknown>).code as string;
    expect(() => parseIndicators(raw, 'indicators.yml')).toThrow(new RegExp(`indicators\\[2\\] \\(${code}\\)\\.weight`));
  });

  test('a long label, an unknown category, a duplicate code and a bad choice set are all reported', () => {
    const raw = rawIndicators();
    const list = raw.indicators as Record<string, unknown>[];
    (list[0] as Record<string, unknown>).label = 'x'.repeat(41);
    let err: unknown;
    try {
      parseIndicators(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReferralContentError);
    expect(String((err as Error).message)).toMatch(/label must be 40 characters or fewer/);

    const raw2 = rawIndicators();
    const list2 = raw2.indicators as Record<string, unknown>[];
    (list2[1] as Record<string, unknown>).category = 'nope';
    (list2[3] as Record<string, unknown>).code = (list2[4] as Record<string, unknown>).code;
    (raw2.choiceSets as Record<string, string[]>).adult = ['yp_school_attendance'];
    try {
      parseIndicators(raw2);
      throw new Error('should have thrown');
    } catch (e) {
      const problems = (e as ReferralContentError).problems.join('\n');
      expect(problems).toMatch(/category "nope" is not listed/);
      expect(problems).toMatch(/is used more than once/);
      expect(problems).toMatch(/choiceSets\.adult\[0\] \(yp_school_attendance\).*appliesTo does not include adult/);
    }
  });

  test('a broken regular expression pattern is reported', () => {
    const raw = rawIndicators();
    ((raw.indicators as Record<string, unknown>[])[0] as Record<string, unknown>).patterns = ['/(unclosed/'];
    expect(() => parseIndicators(raw)).toThrow(/patterns\[0\].*not a valid regular expression/);
  });

  test('rules: typos in fields, values, codes and named conditions are reported by rule id', () => {
    const raw = rawRules();
    const list = raw.rules as Record<string, unknown>[];
    list.push({ id: 'typo_field', when: { field: 'subject.agebnd', equals: 'x' }, points: 1, text: 't' });
    list.push({ id: 'typo_value', when: { field: 'when', equals: 'nw' }, points: 1, text: 't' });
    list.push({ id: 'typo_use', when: { use: 'is_chld' }, points: 1, text: 't' });
    list.push({ id: 'typo_code', when: { indicatorsAny: ['yp_no_such'] }, points: 1, text: 't' });
    list.push({ id: 'negative', points: -5, text: 't' });
    expect(() => parseUrgencyRules(raw)).toThrow(/rules cannot subtract points/);
    list.pop();
    try {
      parseUrgencyRules(raw, 'urgency-rules.yml', indicators);
      throw new Error('should have thrown');
    } catch (e) {
      const problems = (e as ReferralContentError).problems.join('\n');
      expect(problems).toMatch(/typo_field.*unknown field "subject\.agebnd"/);
      expect(problems).toMatch(/typo_value.*"nw" is not a value of when/);
      expect(problems).toMatch(/typo_use.*no condition named "is_chld"/);
      expect(problems).toMatch(/typo_code.*unknown indicator code "yp_no_such"/);
    }
  });

  test('duplicate rule ids and rules that do nothing are reported', () => {
    const raw = rawRules();
    const list = raw.rules as Record<string, unknown>[];
    list.push({ id: 'ongoing', points: 1, text: 't' });
    list.push({ id: 'does_nothing', text: 't' });
    expect(() => parseUrgencyRules(raw)).toThrow(/"ongoing" is used more than once[\s\S]*does_nothing.*does nothing/);
  });

  test('a missing file or broken YAML gives a readable error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speaksafe-'));
    const file = path.join(dir, 'bad.yml');
    fs.writeFileSync(file, 'rules: [\n  - id: x\n');
    expect(() => loadUrgencyRules(file)).toThrow(/not valid YAML/);
    expect(() => loadIndicators(path.join(dir, 'missing.yml'))).toThrow(/cannot read the file/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
