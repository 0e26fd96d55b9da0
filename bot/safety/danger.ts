/**
 * Rule-based "is someone in danger right now?" check, independent of the intent classifier.
 * The phrases live in content/safety/danger-phrases.yml (edited by a safeguarding lead); this file
 * only knows how to tidy text and compile the phrase syntax described at the top of that file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export type DangerCategory = 'danger' | 'self_harm';

export interface DangerRule {
  id: string;
  description?: string;
  category: DangerCategory;
  /** Matches when any phrase matches. */
  any?: RegExp;
  /** Matches when every group matches (each group is one regex of alternatives). */
  all?: RegExp[];
  /** Matches when the whole message is one of these phrases. */
  whole?: RegExp;
  /** Stops this rule when it matches. */
  unless?: RegExp;
}

export interface DangerRules {
  rules: DangerRule[];
  /** Whole-message patterns that are learning questions, not danger. */
  exceptions: RegExp[];
  /** Groups that together say it is over and the person is safe ("two years ago ... I'm ok now"): every group must match. */
  overAndSafe: RegExp[];
  spellings: ReadonlyMap<string, string>;
  /** Symbols (emoji) read as words before matching: 🆘 → "sos". */
  symbols: ReadonlyArray<readonly [string, string]>;
  /** The classifier flags danger when its danger.immediate score reaches this. */
  classifierThreshold: number;
  source: string;
}

export interface DangerMatch {
  matched: boolean;
  /** The message says the danger is in the past and over (over_and_safe): the classifier is not asked either. */
  over?: boolean;
  rule?: string;
  category?: DangerCategory;
}

export interface DangerDecision {
  danger: boolean;
  by: 'rule' | 'nlu' | null;
  rule?: string;
  score?: number;
  category?: DangerCategory;
}

/** Only the first part of a very long message is scanned (keeps the check fast and bounded). */
export const MAX_SCAN_CHARS = 20_000;
export const DEFAULT_CLASSIFIER_THRESHOLD = 0.2;

const MAX_WILDCARD_WORDS = 4;

export function defaultDangerFile(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'content', 'safety', 'danger-phrases.yml');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return resolve(process.cwd(), 'content', 'safety', 'danger-phrases.yml');
}

// ------------------------------------------------------------------ text tidying

const APOSTROPHES = /['\u2018\u2019\u02bc`\u00b4]/g;
const MARKS = /\p{M}+/gu;
const NON_WORD = /[^\p{L}\p{N}]+/gu;
const REPEATS = /(\p{L})\1+/gu;

/** Lower case, strip accents and apostrophes, punctuation → space, squeeze repeated letters. */
function tidyWords(text: string): string[] {
  const t = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(MARKS, '')
    .replace(APOSTROPHES, '')
    .replace(NON_WORD, ' ')
    .replace(REPEATS, '$1')
    .trim();
  return t ? t.split(' ') : [];
}

function applySpellings(words: string[], spellings: ReadonlyMap<string, string>): string[] {
  if (!spellings.size) return words;
  const out: string[] = [];
  for (const w of words) {
    const s = spellings.get(w);
    if (s === undefined) out.push(w);
    else if (s) out.push(...s.split(' '));
  }
  return out;
}

/** The form both messages and phrases are matched in: " word word word " (padded with spaces). */
export function normaliseForDanger(text: string, spellings: ReadonlyMap<string, string>): string {
  const words = applySpellings(tidyWords(text), spellings);
  return words.length ? ` ${words.join(' ')} ` : ' ';
}

// ------------------------------------------------------------------ phrase compiler

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function wordsSource(text: string, spellings: ReadonlyMap<string, string>): string {
  return applySpellings(tidyWords(text), spellings)
    .map((w) => `${escapeRe(w)} `)
    .join('');
}

const PHRASE_TOKEN = /\(([^()]*)\)(\?)?|\*|[^\s()*]+/g;

/** Compiles one phrase to a regex source matching within a padded normalised message. */
export function compilePhrase(phrase: string, spellings: ReadonlyMap<string, string>): string {
  if (typeof phrase !== 'string' || !phrase.trim()) throw new Error('empty phrase');
  const opens = (phrase.match(/\(/g) ?? []).length;
  const closes = (phrase.match(/\)/g) ?? []).length;
  if (opens !== closes) throw new Error(`unbalanced brackets in phrase "${phrase}"`);
  if (/\([^()]*\(/.test(phrase)) throw new Error(`brackets inside brackets in phrase "${phrase}": write two phrases instead`);
  let source = '';
  let hasWord = false;
  for (const m of phrase.matchAll(PHRASE_TOKEN)) {
    const token = m[0];
    if (token === '*') {
      source += `(?:[^ ]+ ){0,${MAX_WILDCARD_WORDS}}`;
      continue;
    }
    if (m[1] !== undefined) {
      const alts = m[1]
        .split('|')
        .map((a) => wordsSource(a, spellings))
        .filter((a) => a.length > 0);
      if (!alts.length) throw new Error(`empty (...) group in phrase "${phrase}"`);
      source += `(?:${alts.join('|')})${m[2] ? '?' : ''}`;
      hasWord = true;
      continue;
    }
    const optional = token.endsWith('?') && token.length > 1;
    const w = wordsSource(optional ? token.slice(0, -1) : token, spellings);
    if (!w) continue;
    source += optional ? `(?:${w})?` : w;
    hasWord = true;
  }
  if (!hasWord) throw new Error(`phrase "${phrase}" has no words`);
  return ` ${source}`;
}

function compileList(
  list: unknown,
  spellings: ReadonlyMap<string, string>,
  where: string,
  wholeMessage = false,
): RegExp | undefined {
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw new Error(`${where} must be a list of phrases`);
  const sources = list.map((p, i) => {
    try {
      return compilePhrase(String(p), spellings);
    } catch (err) {
      throw new Error(`${where}[${i}]: ${(err as Error).message}`);
    }
  });
  if (!sources.length) return undefined;
  const body = sources.map((s) => `(?:${s})`).join('|');
  return new RegExp(wholeMessage ? `^(?:${body})$` : body);
}

/** A list of phrase lists where every list must match: one regex per list. */
function compileGroups(groups: unknown[], spellings: ReadonlyMap<string, string>, where: string): RegExp[] {
  return groups.map((group: unknown, g: number) => {
    const re = compileList(Array.isArray(group) ? group : [group], spellings, `${where}[${g}]`);
    if (!re) throw new Error(`${where}[${g}] is empty`);
    return re;
  });
}

// ------------------------------------------------------------------ loading

interface RawRule {
  id?: unknown;
  description?: unknown;
  category?: unknown;
  any?: unknown;
  all?: unknown;
  whole?: unknown;
  unless?: unknown;
}

interface RawFile {
  over_and_safe?: unknown;
  classifier_threshold?: unknown;
  spellings?: unknown;
  symbols?: unknown;
  rules?: unknown;
  exceptions?: unknown;
}

export function loadDangerRules(file: string = defaultDangerFile()): DangerRules {
  let raw: RawFile;
  try {
    raw = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as RawFile;
  } catch (err) {
    throw new Error(`${file}: cannot read danger phrases: ${(err as Error).message}`);
  }
  const spellings = new Map<string, string>();
  if (raw.spellings && typeof raw.spellings === 'object') {
    for (const [from, to] of Object.entries(raw.spellings as Record<string, unknown>)) {
      const key = tidyWords(String(from)).join(' ');
      const value = tidyWords(String(to ?? '')).join(' ');
      if (key && !key.includes(' ')) spellings.set(key, value);
    }
  }
  const symbols: Array<[string, string]> = [];
  if (raw.symbols !== undefined && raw.symbols !== null) {
    if (typeof raw.symbols !== 'object' || Array.isArray(raw.symbols)) throw new Error(`${file}: "symbols" must map a symbol to words`);
    for (const [symbol, words] of Object.entries(raw.symbols as Record<string, unknown>)) {
      const value = tidyWords(String(words ?? '')).join(' ');
      if (!symbol.trim() || !value) throw new Error(`${file}: symbols: "${symbol}" needs a symbol and the words it stands for`);
      symbols.push([symbol.trim(), value]);
    }
  }
  if (!Array.isArray(raw.rules) || raw.rules.length === 0) throw new Error(`${file}: "rules" must be a non-empty list`);
  const ids = new Set<string>();
  const rules: DangerRule[] = raw.rules.map((r: RawRule, i: number) => {
    const id = typeof r?.id === 'string' && r.id.trim() ? r.id.trim() : `rule_${i + 1}`;
    if (ids.has(id)) throw new Error(`${file}: duplicate rule id "${id}"`);
    ids.add(id);
    const where = `${file}: rule "${id}"`;
    const category: DangerCategory = r.category === 'self_harm' ? 'self_harm' : 'danger';
    const any = compileList(r.any, spellings, `${where} any`);
    let all: RegExp[] | undefined;
    if (r.all !== undefined) {
      if (!Array.isArray(r.all) || r.all.length === 0) throw new Error(`${where}: "all" must be a list of phrase lists`);
      all = compileGroups(r.all, spellings, `${where} all`);
    }
    const whole = compileList(r.whole, spellings, `${where} whole`, true);
    if (!any && !all && !whole) throw new Error(`${where}: needs "any", "all" or "whole"`);
    const unless = compileList(r.unless, spellings, `${where} unless`);
    return { id, description: typeof r.description === 'string' ? r.description : undefined, category, any, all, whole, unless };
  });
  // Self-harm rules are checked first so that "I'm going to kill myself" gets self-harm guidance.
  rules.sort((a, b) => (a.category === b.category ? 0 : a.category === 'self_harm' ? -1 : 1));
  const exceptions: RegExp[] = [];
  if (raw.exceptions !== undefined) {
    if (!Array.isArray(raw.exceptions)) throw new Error(`${file}: "exceptions" must be a list`);
    raw.exceptions.forEach((p: unknown, i: number) => {
      try {
        exceptions.push(new RegExp(`^${compilePhrase(String(p), spellings)}$`));
      } catch (err) {
        throw new Error(`${file}: exceptions[${i}]: ${(err as Error).message}`);
      }
    });
  }
  let overAndSafe: RegExp[] = [];
  if (raw.over_and_safe !== undefined && raw.over_and_safe !== null) {
    if (!Array.isArray(raw.over_and_safe) || raw.over_and_safe.length < 2) throw new Error(`${file}: "over_and_safe" must be a list of at least two phrase lists`);
    overAndSafe = compileGroups(raw.over_and_safe, spellings, `${file}: over_and_safe`);
  }
  const t = Number(raw.classifier_threshold);
  const classifierThreshold = Number.isFinite(t) && t > 0 && t <= 1 ? t : DEFAULT_CLASSIFIER_THRESHOLD;
  return { rules, exceptions, overAndSafe, spellings, symbols, classifierThreshold, source: file };
}

// ------------------------------------------------------------------ matching

/** Each listed symbol in the text becomes its words ("help 🔪" → "help  knife "). */
function readSymbols(text: string, symbols: DangerRules['symbols']): string {
  let out = text;
  for (const [symbol, words] of symbols) if (out.includes(symbol)) out = out.split(symbol).join(` ${words} `);
  return out;
}

/** Pure and fast. Never throws. */
export function matchDanger(text: string, rules: DangerRules): DangerMatch {
  if (typeof text !== 'string' || !text) return { matched: false };
  let norm: string;
  try {
    const scanned = text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
    norm = normaliseForDanger(readSymbols(scanned, rules.symbols ?? []), rules.spellings);
  } catch {
    return { matched: false };
  }
  if (norm.length < 2) return { matched: false };
  for (const ex of rules.exceptions) if (ex.test(norm)) return { matched: false };
  if (rules.overAndSafe?.length && rules.overAndSafe.every((re) => re.test(norm))) return { matched: false, over: true };
  for (const rule of rules.rules) {
    if (rule.unless && rule.unless.test(norm)) continue;
    if (rule.whole && rule.whole.test(norm)) return { matched: true, rule: rule.id, category: rule.category };
    if (rule.any && rule.any.test(norm)) return { matched: true, rule: rule.id, category: rule.category };
    if (rule.all && rule.all.every((re) => re.test(norm))) return { matched: true, rule: rule.id, category: rule.category };
  }
  return { matched: false };
}

export interface DangerClassifier {
  classify(t: string, l?: string): Promise<{ intent: string; score: number; dangerScore?: number }>;
}

/**
 * Danger if a rule matches OR the classifier's danger.immediate score reaches rules.classifierThreshold
 * (lower than the classifier's general threshold). If nlu is null or throws, the rules alone decide.
 */
export async function detectDanger(
  text: string,
  nlu: { classify(t: string, l?: string): Promise<{ intent: string; score: number }> } | null,
  rules: DangerRules,
  locale?: string,
): Promise<DangerDecision> {
  const byRule = matchDanger(text, rules);
  if (byRule.matched) return { danger: true, by: 'rule', rule: byRule.rule, category: byRule.category };
  if (!nlu || byRule.over) return { danger: false, by: null };
  try {
    const res = (await nlu.classify(text, locale)) as { intent: string; score: number; dangerScore?: number };
    const score =
      typeof res.dangerScore === 'number' ? res.dangerScore : res.intent === 'danger.immediate' ? res.score : 0;
    if (res.intent === 'danger.immediate' || score >= rules.classifierThreshold) {
      return { danger: true, by: 'nlu', score, category: 'danger' };
    }
    return { danger: false, by: null, score };
  } catch {
    return { danger: false, by: null };
  }
}
