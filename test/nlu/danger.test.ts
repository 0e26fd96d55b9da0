import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compilePhrase,
  detectDanger,
  loadDangerRules,
  matchDanger,
  normaliseForDanger,
  type DangerRules,
} from '../../bot/safety/danger';

let rules: DangerRules;

beforeAll(() => {
  rules = loadDangerRules();
});

describe('danger rules: positive cases (slang, typos, SMS spelling)', () => {
  const positives = [
    'got a shank',
    'gonna stab',
    'dey r outside',
    'help me now',
    'HELP MEEEEE',
    'help!!!',
    'sos',
    "they've got a knife and they're outside my flat",
    'ma olders are outside wiv a shank',
    'they r outsideeee wiv a blade',
    "he's got a machete",
    'they pulled a gun on me',
    "he's OD'd",
    'my mate just got shanked',
    'bro got merked',
    "they're going to kill me",
    'dey gonna kill me 2nite',
    "they said if i don't pay today i'm dead",
    "they're banging on the door",
    'someones trying to kick my door in',
    "i'm locked in a room and can't get out",
    'they wont let me leave',
    'im being held against my will',
    "they've kidnapped my brother",
    "i'm hiding from them",
    "i'm in danger",
    'i am not safe here',
    'please help me',
    'call the police',
    'send help',
    'my mate is overdosing',
    "he's not breathing",
    'she passed out and wont wake up',
    "i've swallowed a whole packet of paracetamol",
    'something burst inside after plugging',
    "i'm bleeding loads",
  ];
  it.each(positives)('flags "%s"', (text) => {
    expect(matchDanger(text, rules).matched).toBe(true);
  });
});

describe('danger rules: self-harm', () => {
  it.each(["I'm going to kill myself", 'i want to die', 'gonna end it all tonight', 'kms', 'killll myselfff', 'i want to end my life'])(
    '"%s" is self_harm',
    (text) => {
      const m = matchDanger(text, rules);
      expect(m.matched).toBe(true);
      expect(m.category).toBe('self_harm');
    },
  );
});

describe('danger rules: negatives (learning questions, ordinary messages)', () => {
  const negatives = [
    'what does shank mean',
    'what is a trap house',
    'wot does plugging mean',
    'what is a bando',
    'what does taxing mean',
    'shank meaning',
    'is carrying a knife a sign',
    'what is cuckooing',
    'how do i know if my son is being exploited',
    'where can i get help',
    'can you help me understand county lines',
    'what is the non emergency number',
    'is this anonymous',
    'hello',
    'bye',
    "what's the weather like today",
    'my son has two phones and lots of cash',
    'there are people coming and going from the flat next door at all hours',
    '',
  ];
  it.each(negatives)('does not flag "%s"', (text) => {
    expect(matchDanger(text, rules).matched).toBe(false);
  });
});

describe('matchDanger: robustness and speed', () => {
  it('never throws on odd input', () => {
    const odd: unknown[] = [null, undefined, 42, {}, '\u0000\u0007', '😀🔪', '\u202eمرحبا', 'x'.repeat(200_000), '\ud800'];
    for (const input of odd) expect(() => matchDanger(input as string, rules)).not.toThrow();
  });

  it('scans huge messages quickly and still finds danger near the start', () => {
    const t0 = Date.now();
    const m = matchDanger(`they've got a knife at my door ${'blah '.repeat(100_000)}`, rules);
    expect(m.matched).toBe(true);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('checks thousands of messages per second', () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 10_000; i += 1) matchDanger(`my son keeps going missing and has ${i} phones`, rules);
    const perSecond = 10_000 / (Number(process.hrtime.bigint() - t0) / 1e9);
    expect(perSecond).toBeGreaterThan(5_000);
  });
});

describe('phrase syntax', () => {
  const sp = new Map<string, string>();
  it('compiles groups, optional words and wildcards', () => {
    const re = new RegExp(compilePhrase('(gonna|going to) * (kill|stab) me now?', sp));
    expect(re.test(normaliseForDanger('Going to REALLY stab me!', sp))).toBe(true);
    expect(re.test(normaliseForDanger('gonna killll me now', sp))).toBe(true); // repeated letters squeezed on both sides
    expect(re.test(normaliseForDanger('going to hug me', sp))).toBe(false);
    expect(normaliseForDanger("They're OUTSIDE!!", sp)).toBe(' theyre outside ');
  });

  it('a malformed file fails loudly with its name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'danger-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'rules:\n  - id: broken\n    any:\n      - (knife|gun\n');
    expect(() => loadDangerRules(file)).toThrow(/bad\.yml.*broken/);
    writeFileSync(file, 'rules: []\n');
    expect(() => loadDangerRules(file)).toThrow(/rules/);
    writeFileSync(file, 'rules:\n  - id: nested\n    any:\n      - (refusing to (leave|go))\n');
    expect(() => loadDangerRules(file)).toThrow(/bad\.yml.*nested.*brackets inside brackets/);
    writeFileSync(file, 'symbols:\n  "🆘": ""\nrules:\n  - id: ok\n    any:\n      - sos\n');
    expect(() => loadDangerRules(file)).toThrow(/bad\.yml: symbols/);
  });

  it('over_and_safe: past AND safe now is not danger, and the classifier is not asked; either alone still is', async () => {
    const over = "I was stabbed two years ago but I'm ok now";
    expect(matchDanger(over, rules)).toEqual({ matched: false, over: true });
    let asked = 0;
    const alarmist = { classify: async () => ((asked += 1), { intent: 'danger.immediate', score: 1, dangerScore: 1 }) };
    await expect(detectDanger(over, alarmist, rules)).resolves.toEqual({ danger: false, by: null });
    expect(asked).toBe(0);
    // Past without "safe now", or "now" without being safe, stays danger.
    expect(matchDanger('I was stabbed two years ago and they said they will do it again tonight', rules).matched).toBe(true);
    expect(matchDanger("I used to self harm and now I'm doing it again", rules).matched).toBe(true);
    // A file must give at least two lists (past, and safe now).
    const dir = mkdtempSync(join(tmpdir(), 'danger-'));
    const file = join(dir, 'over.yml');
    writeFileSync(file, 'over_and_safe:\n  - - years ago\nrules:\n  - id: ok\n    any:\n      - sos\n');
    expect(() => loadDangerRules(file)).toThrow(/over_and_safe/);
  });

  it('symbols are read as the words they stand for', () => {
    for (const text of ['🆘', '🆘🆘🆘', 'help 🔪', '🚨🚨']) expect({ text, matched: matchDanger(text, rules).matched }).toEqual({ text, matched: true });
    expect(matchDanger('😀 thanks', rules).matched).toBe(false);
  });
});

describe('detectDanger', () => {
  it('with nlu null, the rules alone decide', async () => {
    await expect(detectDanger('they got a shank outside', null, rules)).resolves.toMatchObject({ danger: true, by: 'rule' });
    await expect(detectDanger('what is cuckooing', null, rules)).resolves.toEqual({ danger: false, by: null });
  });

  it('when the classifier throws, the rules alone decide', async () => {
    const broken = {
      classify: async (): Promise<{ intent: string; score: number }> => {
        throw new Error('boom');
      },
    };
    await expect(detectDanger('they got a shank outside', broken, rules)).resolves.toMatchObject({ danger: true, by: 'rule' });
    await expect(detectDanger('hello', broken, rules)).resolves.toEqual({ danger: false, by: null });
  });

  it('flags danger from the classifier at its own lower threshold', async () => {
    const fake = (intent: string, score: number, dangerScore?: number) => ({
      classify: async () => ({ intent, score, dangerScore }),
    });
    const t = rules.classifierThreshold;
    await expect(detectDanger('some message', fake('danger.immediate', 0.9), rules)).resolves.toMatchObject({ danger: true, by: 'nlu' });
    await expect(detectDanger('some message', fake('help.self', 0.6, t), rules)).resolves.toMatchObject({ danger: true, by: 'nlu' });
    await expect(detectDanger('some message', fake('help.self', 0.9, t / 2), rules)).resolves.toMatchObject({ danger: false });
    await expect(detectDanger('some message', fake('none', 1), rules)).resolves.toMatchObject({ danger: false, by: null });
  });

  it('works with the real classifier', async () => {
    const { NluService } = await import('../../bot/nlu/nlu');
    const nlu = await NluService.train();
    const d = await detectDanger("they're holding me in a flat and I don't know where I am", nlu, rules, 'en');
    expect(d.danger).toBe(true);
    expect((await detectDanger('wot is cuckooing', nlu, rules, 'en')).danger).toBe(false);
  });
});
