/**
 * Detecting signs of exploitation (indicators) in a reporter's own words.
 *
 * Pure functions. The taxonomy lives in content/referrals/indicators.yml and is
 * loaded (and validated) by loadIndicators() in ./urgency.ts.
 *
 * Matching rules (documented for safeguarding leads in content/referrals/README.md):
 * - text and patterns are normalised the same way: accents stripped, lower case,
 *   apostrophes dropped ("didn't" = "didnt"), other punctuation becomes a space;
 * - every letter in a pattern may be stretched ("sooo", "missinggg"); in words
 *   longer than four letters any letter may also be doubled or a doubled letter
 *   typed single ("mising", "comming"); in short words a letter must be typed once
 *   or stretched to three or more, so "weed" does not match "wed";
 * - a space between words is optional ("traphouse" = "trap house");
 * - patterns match whole words at the start; the last word, if it has five or more
 *   letters, may take a common ending (s, es, d, ed, ing, in, er, ers, z) and may
 *   drop a final "e" ("knife" finds "knifed", "knifing", "knifes"); shorter last
 *   words may only take a plural "s"; in words of 5+ letters a final "ing" may be
 *   typed "in" ("goin", "comin");
 * - `*` stands for up to three words ("owes * money" finds "owes them loads of money");
 * - a pattern written `/.../` is a regular expression, matched as a whole phrase
 *   against the normalised text (lower case letters, digits and single spaces only).
 */
import type { ConcernType, IndicatorDef, IndicatorRef, IndicatorSet } from './types';

const ENDINGS = '(?:s|es|d|ed|ing|in|er|ers|z)?';
const WILDCARD = '(?: [a-z0-9]+){0,3} ';
const BEFORE = '(?<![a-z0-9])';
const AFTER = '(?![a-z0-9])';

/** Lower-case, strip accents and apostrophes, turn other punctuation into single spaces. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['\u2018\u2019\u201B\u0060\u00B4\u02BC]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function wordSource(word: string, isLast: boolean): string {
  const runs: string[] = [];
  for (const ch of word) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0] === ch) runs[runs.length - 1] = last + ch;
    else runs.push(ch);
  }
  const long = word.length > 4;
  const parts = runs.map((run) => {
    const ch = run[0] as string;
    if (!/[a-z]/.test(ch)) return escapeRe(run);
    if (long) return `${ch}+`;
    // Short words: a letter may be stretched (3+ times) but not simply doubled,
    // so "weed" is not found in "wed" and "sen" is not found in "seen".
    if (run.length === 1) return `${ch}(?:${ch}${ch}+)?`;
    return `${ch}{${run.length},}`;
  });
  // "goin", "comin", "nothin": a final g after "in" may be dropped in longer words.
  if (long && word.endsWith('ing') && runs[runs.length - 1] === 'g') parts[parts.length - 1] = 'g*';
  if (isLast && /[a-z]$/.test(word)) {
    if (long) {
      if (word.endsWith('e') && runs[runs.length - 1] === 'e') parts[parts.length - 1] = 'e*';
      return parts.join('') + ENDINGS;
    }
    return parts.join('') + 's?';
  }
  return parts.join('');
}

/**
 * Turn one pattern from indicators.yml into a regular-expression source (no
 * boundaries). Throws an Error with a readable message if the pattern is unusable.
 */
export function compilePattern(pattern: string): string {
  const raw = pattern.trim();
  if (raw.length > 2 && raw.startsWith('/') && raw.endsWith('/')) {
    const inner = raw.slice(1, -1);
    try {
      // eslint-disable-next-line no-new
      new RegExp(inner);
    } catch (err) {
      throw new Error(`pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(err as Error).message}`);
    }
    if (new RegExp(`^(?:${inner})$`).test('')) {
      throw new Error(`pattern ${JSON.stringify(pattern)} matches empty text`);
    }
    return `(?:${inner})`;
  }
  const cleaned = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['\u2018\u2019\u201B\u0060\u00B4\u02BC]/g, '')
    .replace(/[^a-z0-9*]+/g, ' ')
    .replace(/\*+/g, ' * ')
    .trim();
  const tokens = cleaned.split(/\s+/).filter((t) => t.length > 0);
  // Leading and trailing wildcards mean nothing.
  while (tokens[0] === '*') tokens.shift();
  while (tokens[tokens.length - 1] === '*') tokens.pop();
  if (tokens.length === 0) throw new Error(`pattern ${JSON.stringify(pattern)} has no letters or digits`);
  let src = '';
  let wildcard = false;
  tokens.forEach((tok, i) => {
    if (tok === '*') {
      wildcard = true;
      return;
    }
    if (src) src += wildcard ? WILDCARD : ' ?';
    wildcard = false;
    src += wordSource(tok, i === tokens.length - 1);
  });
  return `(?:${src})`;
}

const compiled = new WeakMap<IndicatorDef, RegExp>();

/** The combined matcher for one indicator (cached per definition object). */
export function indicatorRegExp(def: IndicatorDef): RegExp {
  let re = compiled.get(def);
  if (!re) {
    const alts = def.patterns.map(compilePattern);
    // An indicator without patterns can only be chosen by button.
    re = alts.length ? new RegExp(`${BEFORE}(?:${alts.join('|')})${AFTER}`) : /(?!)/;
    compiled.set(def, re);
  }
  return re;
}

function defsOf(indicators: IndicatorSet | readonly IndicatorDef[]): readonly IndicatorDef[] {
  return Array.isArray(indicators) ? (indicators as readonly IndicatorDef[]) : (indicators as IndicatorSet).indicators;
}

/** Longest text we scan; reporters' messages are short, this guards against abuse. */
export const MAX_DETECT_CHARS = 20000;

/**
 * Find indicators suggested by free text. Returns each code once, in order of
 * first appearance in the text, with source 'text'. If concernType is given,
 * only indicators whose appliesTo includes it are considered.
 */
export function detectIndicators(
  text: string,
  indicators: IndicatorSet | readonly IndicatorDef[],
  concernType?: ConcernType,
): IndicatorRef[] {
  const norm = normaliseText(String(text ?? '').slice(0, MAX_DETECT_CHARS));
  if (!norm) return [];
  const hits: { code: string; at: number; order: number }[] = [];
  const seen = new Set<string>();
  defsOf(indicators).forEach((def, order) => {
    if (concernType && !def.appliesTo.includes(concernType)) return;
    if (seen.has(def.code)) return;
    const m = indicatorRegExp(def).exec(norm);
    if (m) {
      seen.add(def.code);
      hits.push({ code: def.code, at: m.index, order });
    }
  });
  hits.sort((x, y) => x.at - y.at || x.order - y.order);
  return hits.map((h) => ({ code: h.code, source: 'text' as const }));
}

/**
 * Merge two lists of indicators: each code once, first position wins, and a
 * reporter's own choice ('choice') beats a detection ('text').
 */
export function mergeIndicators(a: readonly IndicatorRef[], b: readonly IndicatorRef[]): IndicatorRef[] {
  const out: IndicatorRef[] = [];
  const pos = new Map<string, number>();
  for (const ref of [...a, ...b]) {
    const i = pos.get(ref.code);
    if (i === undefined) {
      pos.set(ref.code, out.length);
      out.push({ code: ref.code, source: ref.source });
    } else if (ref.source === 'choice') {
      out[i] = { code: ref.code, source: 'choice' };
    }
  }
  return out;
}

/** The choice buttons for a concern type, as full definitions, in the configured order. */
export function choicesFor(set: IndicatorSet, concernType: ConcernType): IndicatorDef[] {
  const codes = set.choiceSets[concernType] ?? [];
  return codes.map((c) => set.byCode.get(c)).filter((d): d is IndicatorDef => d !== undefined);
}
