/**
 * Content checks for SpeakSafe.
 *
 * These tests protect the rules in content/README.md, so that a safeguarding
 * lead can edit content/ without a programmer and still know it is safe to
 * publish: every audience sees every topic, sources are cited, text is short
 * and readable, language is victim-focused, and every phone number matches
 * content/helplines.yml.
 */
import fs from 'fs';
import path from 'path';
import matter from 'gray-matter';
import { parse as parseYaml } from 'yaml';
import nunjucks from 'nunjucks';
import { fleschKincaid } from '../helpers/readability';
import { normalise } from '../../dialogs/choices';

const CONTENT = path.resolve(__dirname, '../../content');
const TOPICS_DIR = path.join(CONTENT, 'topics');

const AUDIENCES = ['young_person', 'parent_carer', 'landlord_housing', 'neighbour_resident', 'professional'] as const;
const TOPICS = [
  'county_lines',
  'grooming',
  'signs_young_person',
  'cuckooing',
  'signs_property',
  'what_to_do',
  'get_help',
  'help_self',
  'anonymity',
  'next_steps',
] as const;

const YOUNG_MAX_CHARS = 700;
const ADULT_MAX_CHARS = 1100;
const YOUNG_MAX_GRADE = 6.5;

/** Exact numbers the brief and domain.md confirm. */
const EXPECTED_HELPLINES: Record<string, { phone?: string | null; text?: string | null; web?: string }> = {
  police_non_emergency: { phone: '101' },
  childline: { phone: '0800 1111' },
  crimestoppers: { phone: '0800 555 111' },
  fearless: { web: 'https://www.fearless.org' },
  nspcc: { phone: '0808 800 5000' },
  safecall: { phone: '116 000', text: '116 000' },
  btp: { text: '61016' },
};

const REQUIRED_MESSAGE_KEYS = [
  'welcome',
  'ask_audience',
  'audience.young_person',
  'audience.parent_carer',
  'audience.landlord_housing',
  'audience.neighbour_resident',
  'audience.professional',
  'topic_menu',
  'menu.report',
  'menu.get_help',
  'menu.topics',
  'menu.change_audience',
  'menu.main_menu',
  'after_topic',
  'fallback',
  'goodbye',
  'danger',
  'danger_resume',
  'reprompt_choice',
  'help_self_offer',
  'yes',
  'no',
  'not_now',
  'privacy_short',
  'sms_help',
  'sms_stopped',
  'sms_started',
  'sms_no_pictures',
];

// The variables bot/content fills in (documented at the top of messages/en.yml).
const ALLOWED_PLACEHOLDERS = [
  'childline',
  'crimestoppers',
  'emergencyAlternatives',
  'hubName',
  'areaName',
  'emergency',
  'safecall',
  'nspcc',
  'samaritans',
  'police101',
  'numbers', // sms_reply_numbers: the option numbers, filled in by the SMS channel
];

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

interface Source {
  title: string;
  url: string;
}

interface TopicFile {
  file: string;
  data: Record<string, unknown>;
  body: string;
}

function loadTopics(): TopicFile[] {
  return fs
    .readdirSync(TOPICS_DIR)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((file) => {
      const parsed = matter(fs.readFileSync(path.join(TOPICS_DIR, file), 'utf8'));
      return { file, data: parsed.data as Record<string, unknown>, body: parsed.content.trim() };
    });
}

function loadYaml<T = any>(relative: string): T {
  return parseYaml(fs.readFileSync(path.join(CONTENT, relative), 'utf8')) as T;
}

/** gray-matter (js-yaml) turns an unquoted 2026-11-23 into a Date; accept either. */
function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const d = new Date(`${value}T00:00:00Z`);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

function get(obj: any, dotted: string): unknown {
  return dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

/** Every string in a nested object, with its dotted key. */
function allStrings(obj: any, prefix = ''): Array<[string, string]> {
  if (typeof obj === 'string') return [[prefix, obj]];
  if (obj && typeof obj === 'object') {
    return Object.entries(obj).flatMap(([k, v]) => allStrings(v, prefix ? `${prefix}.${k}` : k));
  }
  return [];
}

const topics = loadTopics();
const helplines = loadYaml('helplines.yml');
const messages = loadYaml('messages/en.yml');
const area = loadYaml('areas/dorset.yml');
const sourcesMd = fs.readFileSync(path.join(CONTENT, 'SOURCES.md'), 'utf8');

/** Numbers that may appear in copy, written exactly as in helplines.yml. */
const knownNumbers = new Set<string>(['999', '112', '18000']);
for (const h of helplines.helplines ?? []) {
  if (h.phone) knownNumbers.add(String(h.phone));
  if (h.text) knownNumbers.add(String(h.text));
}

/**
 * Find things that look like phone numbers: runs of digits, possibly split by
 * single spaces ("0800 555 111"). Short numbers (under 3 digits, such as
 * "section 45" or "press 55") and years are ignored.
 */
function phoneLikeNumbers(text: string): string[] {
  const found = text.match(/\d+(?: \d+)*/g) ?? [];
  return found.filter((n) => {
    const digits = n.replace(/ /g, '');
    if (digits.length < 3) return false;
    if (/^(19|20)\d\d$/.test(digits)) return false; // a year, e.g. "Modern Slavery Act 2015"
    return true;
  });
}

const helplineNumber = (id: string): string => {
  const h = (helplines.helplines ?? []).find((x: any) => x.id === id);
  return h?.phone ?? h?.text ?? '';
};

/** The same variables the bot passes when it renders a message. */
const sampleContext = {
  numbers: '1, 2 or 3',
  childline: helplineNumber('childline'),
  crimestoppers: helplineNumber('crimestoppers'),
  emergencyAlternatives: (helplines.emergency?.alternatives ?? []).join('; '),
  hubName: area.hub?.name,
  areaName: area.name,
  emergency: helplines.emergency?.number,
  safecall: helplineNumber('safecall'),
  nspcc: helplineNumber('nspcc'),
  samaritans: helplineNumber('samaritans'),
  police101: helplineNumber('police_non_emergency'),
};

// ---------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------

describe('topics', () => {
  it('has topic files', () => {
    expect(topics.length).toBeGreaterThan(0);
  });

  it('gives every audience exactly one variant of every topic', () => {
    const problems: string[] = [];
    for (const topic of TOPICS) {
      for (const audience of AUDIENCES) {
        const matches = topics.filter(
          (t) => t.data.topic === topic && Array.isArray(t.data.audience) && t.data.audience.includes(audience),
        );
        if (matches.length !== 1) {
          problems.push(`${topic} x ${audience}: ${matches.length} variants (${matches.map((m) => m.file).join(', ') || 'none'})`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  describe.each(topics.map((t) => [t.file, t] as const))('%s', (file, t) => {
    const audience = t.data.audience as string[];
    const isYoung = Array.isArray(audience) && audience.includes('young_person');

    it('has valid front matter', () => {
      const { id, topic, title, summary } = t.data as Record<string, any>;
      expect(typeof id).toBe('string');
      expect(`${id}.md`).toBe(file);
      expect(TOPICS).toContain(topic);
      expect(id.startsWith(`${topic}.`)).toBe(true);
      expect(id.split('.')).toHaveLength(2);

      expect(Array.isArray(audience)).toBe(true);
      expect(audience.length).toBeGreaterThan(0);
      expect(new Set(audience).size).toBe(audience.length);
      for (const a of audience) expect(AUDIENCES).toContain(a);

      expect(typeof title).toBe('string');
      expect(title.trim().length).toBeGreaterThan(0);
      expect(typeof summary).toBe('string');
      expect(summary.trim().length).toBeGreaterThan(0);
      expect(summary).not.toMatch(/\n/);
      expect(summary.length).toBeLessThanOrEqual(160);
    });

    it('cites sources with https addresses that are listed in SOURCES.md', () => {
      const sources = t.data.sources as Source[];
      expect(Array.isArray(sources)).toBe(true);
      expect(sources.length).toBeGreaterThan(0);
      for (const s of sources) {
        expect(typeof s.title).toBe('string');
        expect(s.title.trim().length).toBeGreaterThan(0);
        expect(typeof s.url).toBe('string');
        expect(s.url).toMatch(/^https:\/\//);
        expect(() => new URL(s.url)).not.toThrow();
        expect(sourcesMd).toContain(s.url);
      }
    });

    it('has a review date and a later review-due date', () => {
      const reviewed = toDate(t.data.reviewed);
      const due = toDate(t.data.review_due);
      expect(reviewed).not.toBeNull();
      expect(due).not.toBeNull();
      expect(due!.getTime()).toBeGreaterThan(reviewed!.getTime());
      // Reviews should come round at least once a year.
      const oneYearOn = new Date(reviewed!.getTime());
      oneYearOn.setUTCFullYear(oneYearOn.getUTCFullYear() + 1);
      expect(due!.getTime()).toBeLessThanOrEqual(oneYearOn.getTime());
    });

    it('is short enough to read on a phone', () => {
      expect(t.body.length).toBeGreaterThan(0);
      expect(t.body.length).toBeLessThanOrEqual(isYoung ? YOUNG_MAX_CHARS : ADULT_MAX_CHARS);
    });

    if (isYoung) {
      it(`reads at Flesch-Kincaid grade ${YOUNG_MAX_GRADE} or below`, () => {
        const { grade } = fleschKincaid(t.body);
        expect(grade).toBeLessThanOrEqual(YOUNG_MAX_GRADE);
      });
    }

    it('uses only the simple Markdown we allow', () => {
      expect(t.body).not.toMatch(/^\s{0,3}#/m); // headings
      expect(t.body).not.toMatch(/<\/?[a-z][^>]*>/i); // HTML
      expect(t.body).not.toMatch(/!\[/); // images
      expect(t.body).not.toMatch(/^\s*\|/m); // tables
    });

    it('never calls an exploited child an offender or perpetrator', () => {
      const text = `${t.data.title}\n${t.data.summary}\n${t.body}`;
      expect(text).not.toMatch(/\boffenders?\b/i);
      expect(text).not.toMatch(/\bperpetrators?\b/i);
    });

    it('only mentions phone numbers that are in helplines.yml', () => {
      const unknown = phoneLikeNumbers(t.body).filter((n) => !knownNumbers.has(n));
      expect(unknown).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

describe('messages/en.yml', () => {
  it('has every required key as a non-empty string', () => {
    const missing = REQUIRED_MESSAGE_KEYS.filter((k) => {
      const v = get(messages, k);
      return typeof v !== 'string' || v.trim().length === 0;
    });
    expect(missing).toEqual([]);
  });

  it('only contains strings', () => {
    const notStrings: string[] = [];
    const walk = (obj: any, prefix: string) => {
      for (const [k, v] of Object.entries(obj)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (v && typeof v === 'object') walk(v, key);
        else if (typeof v !== 'string') notStrings.push(key);
      }
    };
    walk(messages, '');
    expect(notStrings).toEqual([]);
  });

  it('uses only the documented placeholders, and they all render', () => {
    const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
    for (const [key, value] of allStrings(messages)) {
      const used = [...value.matchAll(/\{\{\s*([A-Za-z_][\w]*)\s*\}\}/g)].map((m) => m[1]);
      for (const name of used) expect({ key, name, allowed: ALLOWED_PLACEHOLDERS.includes(name) }).toEqual({ key, name, allowed: true });
      const rendered = env.renderString(value, sampleContext);
      expect(rendered).not.toMatch(/\{\{|\}\}|\{%/);
    }
  });

  it('puts 999 first in the danger message, and gives the alternatives and Childline', () => {
    const rendered = nunjucks.renderString(messages.danger, sampleContext);
    expect(rendered.startsWith('If you or someone else is in danger right now, call 999.')).toBe(true);
    expect(rendered).toContain('18000');
    expect(rendered).toContain('0800 1111');
  });

  it.each(['welcome', 'fallback', 'goodbye', 'sms_help'])('%s reminds people to call 999', (key) => {
    expect(get(messages, key)).toMatch(/\b999\b/);
  });

  it('sms_help gives Childline, Crimestoppers and STOP', () => {
    const rendered = nunjucks.renderString(messages.sms_help, sampleContext);
    expect(rendered).toContain('0800 1111');
    expect(rendered).toContain('0800 555 111');
    expect(rendered).toMatch(/\bSTOP\b/);
  });

  it('keeps SMS replies short', () => {
    for (const key of ['sms_help', 'sms_stopped', 'sms_started', 'sms_no_pictures']) {
      const rendered = nunjucks.renderString(get(messages, key) as string, sampleContext);
      expect({ key, length: rendered.length <= 320 }).toEqual({ key, length: true });
    }
  });

  it('only mentions phone numbers that are in helplines.yml', () => {
    for (const [key, value] of allStrings(messages)) {
      const unknown = phoneLikeNumbers(value).filter((n) => !knownNumbers.has(n));
      expect({ key, unknown }).toEqual({ key, unknown: [] });
    }
  });

  it('never uses "offender" or "perpetrator"', () => {
    for (const [, value] of allStrings(messages)) {
      expect(value).not.toMatch(/\b(offenders?|perpetrators?)\b/i);
    }
  });
});

// ---------------------------------------------------------------------------
// Helplines
// ---------------------------------------------------------------------------

describe('helplines.yml', () => {
  it('has the emergency number and alternatives', () => {
    expect(helplines.emergency.number).toBe('999');
    const alternatives: string[] = helplines.emergency.alternatives;
    expect(alternatives.some((a) => a.includes('112'))).toBe(true);
    expect(alternatives.some((a) => a.includes('18000'))).toBe(true);
    expect(alternatives.some((a) => /emergencySMS/i.test(a))).toBe(true);
  });

  it('has unique ids and well-formed entries', () => {
    const ids = helplines.helplines.map((h: any) => h.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const h of helplines.helplines) {
      expect(typeof h.name).toBe('string');
      expect(typeof h.description).toBe('string');
      expect(h.phone || h.text || h.web).toBeTruthy();
      if (h.web !== null && h.web !== undefined) expect(h.web).toMatch(/^https:\/\//);
      if (h.phone !== null) expect(typeof h.phone).toBe('string');
      if (h.text !== null) expect(typeof h.text).toBe('string');
      expect(Array.isArray(h.for)).toBe(true);
      for (const a of h.for) expect(AUDIENCES).toContain(a);
    }
  });

  it.each(Object.entries(EXPECTED_HELPLINES))('has the exact details for %s', (id, expected) => {
    const entry = helplines.helplines.find((h: any) => h.id === id);
    expect(entry).toBeDefined();
    if (expected.phone !== undefined) expect(entry.phone).toBe(expected.phone);
    if (expected.text !== undefined) expect(entry.text).toBe(expected.text);
    if (expected.web !== undefined) expect(entry.web).toBe(expected.web);
  });

  it('lists Childline first for young people', () => {
    const first = helplines.helplines.find((h: any) => h.for.includes('young_person'));
    expect(first.id).toBe('childline');
  });
});

// ---------------------------------------------------------------------------
// Area profile
// ---------------------------------------------------------------------------

describe('areas/dorset.yml', () => {
  it('has the basics', () => {
    expect(area.id).toBe('dorset');
    expect(typeof area.name).toBe('string');
    expect(typeof area.hub.name).toBe('string');
    expect(typeof area.hub.description).toBe('string');
    expect(area.postcodeAreas).toEqual(expect.arrayContaining(['BH', 'DT', 'SP']));
  });

  it('lists towns with valid postcode districts', () => {
    const names = area.towns.map((t: any) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const required of ['Bournemouth', 'Christchurch', 'Poole', 'Weymouth', 'Portland', 'Dorchester', 'Bridport', 'Swanage']) {
      expect(names).toContain(required);
    }
    for (const town of area.towns) {
      expect(Array.isArray(town.postcodeDistricts)).toBe(true);
      expect(town.postcodeDistricts.length).toBeGreaterThan(0);
      for (const d of town.postcodeDistricts) {
        expect(d).toMatch(/^[A-Z]{2}\d{1,2}$/);
        expect(area.postcodeAreas).toContain(d.replace(/\d+$/, ''));
      }
      if (town.aliases !== undefined) {
        expect(Array.isArray(town.aliases)).toBe(true);
        for (const a of town.aliases) expect(typeof a).toBe('string');
      }
    }
    const bournemouth = area.towns.find((t: any) => t.name === 'Bournemouth');
    expect(bournemouth.postcodeDistricts).toEqual(Array.from({ length: 11 }, (_, i) => `BH${i + 1}`));
  });

  it('does not use the same alias for two towns', () => {
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    for (const town of area.towns) {
      for (const a of [town.name, ...(town.aliases ?? [])]) {
        const key = a.toLowerCase();
        if (seen.has(key) && seen.get(key) !== town.name) clashes.push(`${a}: ${seen.get(key)} / ${town.name}`);
        seen.set(key, town.name);
      }
    }
    expect(clashes).toEqual([]);
  });

  it('only publishes phone numbers that are confirmed in helplines.yml', () => {
    const phones = [area.hub.phone, ...area.localContacts.map((c: any) => c.phone)].filter((p) => p !== null && p !== undefined);
    for (const p of phones) expect(knownNumbers.has(String(p))).toBe(true);
    for (const c of area.localContacts) {
      expect(typeof c.name).toBe('string');
      expect(typeof c.description).toBe('string');
      if (c.web) expect(c.web).toMatch(/^https:\/\//);
    }
  });
});

// ---------------------------------------------------------------------------
// Guides
// ---------------------------------------------------------------------------

describe('guides', () => {
  it('has a README for editors that points to the NLU guide', () => {
    const readme = fs.readFileSync(path.join(CONTENT, 'README.md'), 'utf8');
    expect(readme).toContain('content/nlu/README.md');
  });
});

describe('answers.yml', () => {
  const answers = parseYaml(fs.readFileSync(path.join(CONTENT, 'answers.yml'), 'utf8')) as Record<string, unknown>;
  const list = (key: string): string[] => (key.includes('.') ? (answers[key.split('.')[0]] as Record<string, string[]>)[key.split('.')[1]] : (answers[key] as string[]));

  // Buttons shown together on one question, and the commands that work on every report question.
  const together: Array<[string, string[]]> = [
    ['the contact question', ['contact_no', 'contact_yes']],
    ['the summary', ['send', 'change']],
    ['"When is this happening?"', ['when.now', 'when.today', 'when.this_week', 'when.ongoing', 'when.past', 'skip', 'during_report.back', 'during_report.restart', 'during_report.leave']],
    ['"leave the report?"', ['carry_on', 'leave']],
    ['the report commands and "don\'t know"', ['during_report.back', 'during_report.restart', 'during_report.leave', 'skip']],
    ['the report commands and "that\'s all"', ['during_report.back', 'during_report.restart', 'during_report.leave', 'signs_done']],
    ['the report commands and the contact question', ['during_report.back', 'during_report.restart', 'during_report.leave', 'contact_no', 'contact_yes']],
    ['the report commands and the summary', ['during_report.back', 'during_report.restart', 'during_report.leave', 'send', 'change']],
  ];

  it.each(together)('no word means two things on %s', (_where, keys) => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const key of keys) {
      for (const word of list(key)) {
        const n = normalise(String(word));
        const prior = owner.get(n);
        if (prior && prior !== key) clashes.push(`"${word}" is in both ${prior} and ${key}`);
        owner.set(n, key);
      }
    }
    expect(clashes).toEqual([]);
  });

  it('every word is plain text that a reply can match (not only punctuation)', () => {
    const all = Object.keys(answers).flatMap((k) => (Array.isArray(answers[k]) ? list(k) : Object.keys(answers[k] as object).map((c) => `${k}.${c}`).flatMap(list)));
    expect(all.filter((w) => typeof w !== 'string' || !normalise(w))).toEqual([]);
  });
});
