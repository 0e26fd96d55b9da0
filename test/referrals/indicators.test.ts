import * as path from 'node:path';
import { compilePattern, detectIndicators, mergeIndicators, normaliseText, choicesFor } from '../../bot/referrals/indicators';
import { loadIndicators } from '../../bot/referrals/urgency';
import type { ConcernType, IndicatorDef } from '../../bot/referrals/types';

const indicators = loadIndicators(path.resolve(__dirname, '../../content/referrals/indicators.yml'));

function found(text: string, concern?: ConcernType): string[] {
  return detectIndicators(text, indicators, concern).map((r) => r.code);
}

function def(patterns: string[]): IndicatorDef {
  return { code: 'x_test', label: 'Test', category: 'behaviour', appliesTo: ['other'], weight: 1, patterns };
}
function matches(pattern: string, text: string): boolean {
  return detectIndicators(text, [def([pattern])]).length === 1;
}

describe('detectIndicators on messy, indirect and slang text', () => {
  const cases: [string, ConcernType | undefined, string[]][] = [
    ['my son keeps going misssing, found in london last wk', 'young_person', ['yp_missing_episodes', 'yp_found_out_of_area']],
    ['hes got 2 phones n a burner, new trainers evry week', 'young_person', ['yp_multiple_phones', 'yp_new_items']],
    ['OLDER LADS keep picking her up in a car with tinted windows!!!', 'young_person', ['yp_older_associates', 'yp_unknown_cars']],
    ['he owes them loads of money and got taxed last nite', 'young_person', ['cl_debt', 'cl_violence']],
    ["he's carrying a shank", 'young_person', ['cl_weapons']],
    ['someone got knifed outside the shop', 'other', ['cl_weapons']],
    ['they made him plug it... plugging for them', 'young_person', ['cl_plugging']],
    ['she goes cunch every weekend, going OT with the youngers', 'young_person', ['cl_going_country', 'yp_slang']],
    ['sooo many people cominnnng and goinggg at all hours', 'home_takeover', ['ck_frequent_visitors', 'ck_all_hours']],
    ['the door is always propped open and it smells of weeeed', 'home_takeover', ['ck_door_damage', 'ck_drugs_smell']],
    ['she says her cousins are staying but they changed the locks', 'home_takeover', ['ck_cousins_staying', 'ck_locks_changed']],
    ["hasn't been seen for weeks, he looks terrified when he does come out", 'home_takeover', ['ck_resident_frightened']],
    ['flat is a trap house now, kids in school uniform going in and out', 'home_takeover', ['ck_frequent_visitors', 'ck_young_people_at_property']],
    ['he is on the deal line for them', 'adult', ['cl_deal_line']],
    ["he's bunking off school, got excluded", 'young_person', ['yp_school_attendance']],
    ["i'm scared they will hurt my family if i stop", 'self', ['cl_threats']],
  ];
  test.each(cases)('%s', (text, concern, expected) => {
    const got = found(text, concern);
    for (const code of expected) expect(got).toContain(code);
  });

  test('nothing is found in ordinary text', () => {
    expect(found('I went to the shop and bought some milk, then watched TV')).toEqual([]);
    expect(found('we had a wedding on wed, lovely day')).toEqual([]);
    expect(found('i have seen him at the bus stop')).not.toContain('yp_sen');
    expect(found('she is dealing with a lot at the moment')).not.toContain('cl_selling_drugs');
    expect(found('strapped for cash this month')).not.toContain('cl_weapons');
  });

  test('concernType limits detection to indicators that apply', () => {
    const text = 'people coming and going all hours, and the lad has two phones';
    expect(found(text, 'young_person')).not.toContain('ck_frequent_visitors');
    expect(found(text, 'young_person')).toContain('yp_multiple_phones');
    expect(found(text, 'home_takeover')).toContain('ck_frequent_visitors');
  });

  test('results are text-sourced, unique and in order of appearance', () => {
    const refs = detectIndicators('knife knife then goes missing then knife', indicators);
    expect(refs).toEqual([
      { code: 'cl_weapons', source: 'text' },
      { code: 'yp_missing_episodes', source: 'text' },
    ]);
  });

  test('empty or odd input gives an empty list', () => {
    expect(detectIndicators('', indicators)).toEqual([]);
    expect(detectIndicators('   !!! ', indicators)).toEqual([]);
  });

  // Speed is measured by `npm run bench`, not by timed unit tests.
  test('a long repeated message is detected once per code', () => {
    const msg = 'my neighbour has loads of people coming and going, I think the lad is 14 and has a burner, '.repeat(60);
    const codes = detectIndicators(msg, indicators).map((i) => i.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.length).toBeGreaterThan(0);
  });
});

describe('pattern matching rules', () => {
  test('case, punctuation and apostrophes are ignored', () => {
    expect(normaliseText("He DIDN'T come home—again!")).toBe('he didnt come home again');
    expect(matches("didn't come home", 'he DIDNT come home')).toBe(true);
  });

  test('stretched letters and doubled-letter typos in longer words', () => {
    expect(matches('missing', 'missinggggg')).toBe(true);
    expect(matches('missing', 'mising')).toBe(true);
    expect(matches('coming and going', 'comming and goin')).toBe(true);
    expect(matches('weed', 'weeeeed')).toBe(true);
    expect(matches('weed', 'wed')).toBe(false);
  });

  test('word boundaries and endings', () => {
    expect(matches('knife', 'knifed')).toBe(true);
    expect(matches('knife', 'knifing')).toBe(true);
    expect(matches('knife', 'knifes')).toBe(true);
    expect(matches('ket', 'basket')).toBe(false);
    expect(matches('ket', 'kets')).toBe(true);
    expect(matches('gun', 'begun')).toBe(false);
    expect(matches('trap house', 'traphouse')).toBe(true);
  });

  test('a * stands for up to three words', () => {
    expect(matches('owes * money', 'owes money')).toBe(true);
    expect(matches('owes * money', 'owes them loads of money')).toBe(true);
    expect(matches('owes * money', 'owes them a lot more of the money')).toBe(false);
  });

  test('regular expression patterns', () => {
    expect(matches('/[2-9] (phones|sims)/', 'he has 3 phones')).toBe(true);
    expect(matches('/[2-9] (phones|sims)/', 'he has 13 phones')).toBe(false);
    expect(() => compilePattern('/(oops/')).toThrow(/not a valid regular expression/);
    expect(() => compilePattern('!!!')).toThrow(/no letters or digits/);
  });

  test('every plain pattern in the taxonomy finds its own words', () => {
    const failures: string[] = [];
    for (const d of indicators.indicators) {
      for (const p of d.patterns) {
        if (p.startsWith('/')) continue;
        const text = `so ${p.replace(/\*/g, 'them')} yeah`;
        if (!detectIndicators(text, [d]).length) failures.push(`${d.code}: ${p}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('mergeIndicators', () => {
  test('dedupes by code, keeps first position, and a choice beats text', () => {
    const merged = mergeIndicators(
      [
        { code: 'a', source: 'text' },
        { code: 'b', source: 'choice' },
      ],
      [
        { code: 'a', source: 'choice' },
        { code: 'c', source: 'text' },
        { code: 'b', source: 'text' },
      ],
    );
    expect(merged).toEqual([
      { code: 'a', source: 'choice' },
      { code: 'b', source: 'choice' },
      { code: 'c', source: 'text' },
    ]);
  });

  test('does not change its inputs', () => {
    const a = [{ code: 'a', source: 'text' as const }];
    mergeIndicators(a, [{ code: 'a', source: 'choice' }]);
    expect(a).toEqual([{ code: 'a', source: 'text' }]);
  });
});

test('choicesFor returns the configured buttons in order', () => {
  const yp = choicesFor(indicators, 'young_person').map((d) => d.code);
  expect(yp).toEqual(indicators.choiceSets.young_person);
  expect(yp.length).toBeLessThanOrEqual(8);
});
