/**
 * Loading the referral content files (indicator taxonomy, urgency rules) and
 * assessing a referral draft against them.
 *
 * assess() is pure and deterministic. Whatever the rules file says, two safety
 * invariants (Dorset 2018 inspection) hold in code:
 *   1. A subject who is visiting / staying in the area is never rated lower
 *      (urgency or score) than the same subject living here.
 *   2. Unknown details ("risk unknown") never lower a rating: a referral with
 *      unknown fields is never rated lower than the same referral with those
 *      fields filled with the least-risk values (the filling that gives the
 *      lowest urgency, then the lowest score).
 * A rating raised by either invariant carries a reason saying so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { compilePattern } from './indicators';
import {
  AGE_BANDS,
  CONCERN_TYPES,
  DANGER_SOURCES,
  KNOWLEDGE_CODES,
  RELATIONSHIPS,
  RESIDENCIES,
  URGENCIES,
  WHEN_CODES,
  type Assessment,
  type Condition,
  type ConcernType,
  type FieldCondition,
  type IndicatorDef,
  type IndicatorSet,
  type Reason,
  type ReferralDraft,
  type Urgency,
  type UrgencyRule,
  type UrgencyRules,
} from './types';

// ---------------------------------------------------------------------------
// Errors and file helpers
// ---------------------------------------------------------------------------

/** Thrown when a content file is missing, is not valid YAML or breaks the rules. */
export class ReferralContentError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source}: ${problems.length === 1 ? 'problem' : `${problems.length} problems`}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ReferralContentError';
    this.problems = problems;
  }
}

/** Locate a file in content/referrals, from source (bot/referrals) or a build (dist/bot/referrals). */
export function referralContentPath(name: string): string {
  const candidates = [
    path.resolve(__dirname, '../../content/referrals', name),
    path.resolve(__dirname, '../../../content/referrals', name),
    path.resolve(process.cwd(), 'content/referrals', name),
  ];
  return candidates.find((c) => fs.existsSync(c)) ?? (candidates[0] as string);
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ReferralContentError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new ReferralContentError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
}

const SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const SNAKE_MSG = 'must be snake_case: lower-case letters, digits and single underscores';

/** Render a zod issue path as e.g. `indicators[12] (yp_foo).weight`, naming the entry. */
function describePath(issuePath: readonly PropertyKey[], raw: unknown): string {
  let out = '';
  let node: unknown = raw;
  for (const key of issuePath) {
    if (typeof key === 'number') {
      out += `[${key}]`;
      node = Array.isArray(node) ? node[key] : undefined;
      if (node && typeof node === 'object') {
        const named = (node as Record<string, unknown>).code ?? (node as Record<string, unknown>).id;
        if (typeof named === 'string') out += ` (${named})`;
      }
    } else {
      out += (out ? '.' : '') + String(key);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[String(key)] : undefined;
    }
  }
  return out || '(top level)';
}

function zodProblems(error: z.ZodError, raw: unknown): string[] {
  return error.issues.map((issue) => `${describePath(issue.path, raw)}: ${issue.message}`);
}

// ---------------------------------------------------------------------------
// Indicators
// ---------------------------------------------------------------------------

const IndicatorSchema = z.strictObject({
  code: z.string().regex(SNAKE, `code ${SNAKE_MSG}`),
  label: z.string().trim().min(1, 'label is required').max(40, 'label must be 40 characters or fewer (it is shown on a button)'),
  /** The button's words when someone reports about themselves ("Threats to me or my family"). */
  label_self: z.string().trim().min(1).max(40, 'label_self must be 40 characters or fewer (it is shown on a button)').optional(),
  category: z.string().min(1),
  appliesTo: z.array(z.enum(CONCERN_TYPES)).min(1, 'appliesTo needs at least one concern type'),
  weight: z.number().int('weight must be a whole number').min(1, 'weight must be 1 to 10').max(10, 'weight must be 1 to 10'),
  patterns: z.array(z.string().trim().min(1, 'empty pattern')).default([]),
  description: z.string().optional(),
});

const ChoiceList = z.array(z.string()).max(8, 'at most 8 choice buttons per concern type');

const IndicatorFileSchema = z.strictObject({
  version: z.number().int().min(1),
  categories: z.record(
    z.string().regex(SNAKE, `category name ${SNAKE_MSG}`),
    z.strictObject({ label: z.string().trim().min(1), description: z.string().optional() }),
  ),
  indicators: z.array(IndicatorSchema).min(1),
  choiceSets: z
    .strictObject({
      young_person: ChoiceList.optional(),
      home_takeover: ChoiceList.optional(),
      adult: ChoiceList.optional(),
      self: ChoiceList.optional(),
      other: ChoiceList.optional(),
    })
    .default({}),
});

/** Validate already-parsed indicator data (e.g. from YAML). Throws ReferralContentError. */
export function parseIndicators(raw: unknown, source = 'indicators.yml'): IndicatorSet {
  const parsed = IndicatorFileSchema.safeParse(raw);
  if (!parsed.success) throw new ReferralContentError(source, zodProblems(parsed.error, raw));
  const data = parsed.data;
  const problems: string[] = [];
  const byCode = new Map<string, IndicatorDef>();
  const indicators: IndicatorDef[] = [];

  data.indicators.forEach((ind, i) => {
    const where = `indicators[${i}] (${ind.code})`;
    if (byCode.has(ind.code)) problems.push(`${where}: code "${ind.code}" is used more than once`);
    if (!Object.prototype.hasOwnProperty.call(data.categories, ind.category)) {
      problems.push(`${where}: category "${ind.category}" is not listed under categories`);
    }
    if (new Set(ind.appliesTo).size !== ind.appliesTo.length) problems.push(`${where}: appliesTo lists a concern type twice`);
    ind.patterns.forEach((p, j) => {
      try {
        compilePattern(p);
      } catch (err) {
        problems.push(`${where}.patterns[${j}]: ${(err as Error).message}`);
      }
      if (p.length > 2 && p.startsWith('/') && p.endsWith('/') && /[A-Z]/.test(p.slice(1, -1).replace(/\\./g, ''))) {
        problems.push(`${where}.patterns[${j}]: regular expressions must be lower case (text is lower-cased before matching)`);
      }
    });
    const def: IndicatorDef = {
      code: ind.code,
      label: ind.label,
      ...(ind.label_self !== undefined ? { label_self: ind.label_self } : {}),
      category: ind.category,
      appliesTo: [...ind.appliesTo],
      weight: ind.weight,
      patterns: [...ind.patterns],
      ...(ind.description !== undefined ? { description: ind.description } : {}),
    };
    if (!byCode.has(def.code)) byCode.set(def.code, def);
    indicators.push(def);
  });

  const choiceSets: Partial<Record<ConcernType, string[]>> = {};
  for (const concern of CONCERN_TYPES) {
    const codes = data.choiceSets[concern];
    if (!codes) continue;
    const seen = new Set<string>();
    codes.forEach((code, i) => {
      const where = `choiceSets.${concern}[${i}] (${code})`;
      const def = byCode.get(code);
      if (!def) problems.push(`${where}: no indicator has this code`);
      else if (!def.appliesTo.includes(concern)) problems.push(`${where}: the indicator's appliesTo does not include ${concern}`);
      if (seen.has(code)) problems.push(`${where}: listed twice`);
      seen.add(code);
    });
    choiceSets[concern] = [...codes];
  }

  if (problems.length) throw new ReferralContentError(source, problems);
  return { version: data.version, categories: data.categories, indicators, choiceSets, byCode };
}

/** Load and validate content/referrals/indicators.yml (or the given file). */
export function loadIndicators(file?: string): IndicatorSet {
  const f = file ?? referralContentPath('indicators.yml');
  return parseIndicators(readYaml(f), f);
}

// ---------------------------------------------------------------------------
// Urgency rules: the condition language
// ---------------------------------------------------------------------------

type Scalar = string | number | boolean;

/** Fields a condition may test, with their allowed values where they are codes. */
const FIELD_VALUES: Record<string, readonly Scalar[] | null> = {
  concernType: CONCERN_TYPES,
  'subject.ageBand': AGE_BANDS,
  'subject.residency': RESIDENCIES,
  'subject.homeArea': null,
  'subject.name': null,
  'location.town': null,
  'location.postcodeDistrict': null,
  'location.detail': null,
  when: WHEN_CODES,
  narrative: null,
  reporterRelationship: RELATIONSHIPS,
  knowledge: KNOWLEDGE_CODES,
  dangerReported: [true, false],
  dangerReportedBy: [...DANGER_SOURCES, 'none'],
  indicators: null,
  'entities.phones': null,
  'entities.vehicles': null,
  'entities.postcodes': null,
  'entities.addresses': null,
  'entities.names': null,
  'entities.handles': null,
};
export const CONDITION_FIELDS = Object.keys(FIELD_VALUES);

const FIELD_OPS = ['equals', 'notEquals', 'in', 'notIn', 'empty', 'lengthAtLeast', 'lengthBelow'] as const;
const CONDITION_KINDS = ['field', 'all', 'any', 'not', 'use', 'indicatorsAny', 'indicatorsAll', 'categoryAny'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}
function show(v: unknown): string {
  return JSON.stringify(v);
}

function parseCondition(raw: unknown, where: string, problems: string[], underNot = false): Condition | undefined {
  if (!isPlainObject(raw)) {
    problems.push(`${where}: a condition must be a map such as { field: when, equals: now }`);
    return undefined;
  }
  const keys = Object.keys(raw);
  const kind = keys.find((k) => CONDITION_KINDS.includes(k));
  if (!kind) {
    problems.push(`${where}: unknown condition ${show(raw)}; start it with one of ${CONDITION_KINDS.join(', ')}`);
    return undefined;
  }

  if (kind === 'all' || kind === 'any') {
    if (keys.length !== 1) problems.push(`${where}: "${kind}" cannot be combined with ${keys.filter((k) => k !== kind).join(', ')} in the same map`);
    const list = raw[kind];
    if (!Array.isArray(list) || list.length === 0) {
      problems.push(`${where}.${kind}: must be a non-empty list of conditions`);
      return undefined;
    }
    const parts = list.map((c, i) => parseCondition(c, `${where}.${kind}[${i}]`, problems, underNot));
    if (parts.some((p) => p === undefined)) return undefined;
    return kind === 'all' ? { all: parts as Condition[] } : { any: parts as Condition[] };
  }
  if (kind === 'not') {
    if (keys.length !== 1) problems.push(`${where}: "not" cannot be combined with other keys in the same map`);
    const inner = parseCondition(raw.not, `${where}.not`, problems, !underNot);
    return inner ? { not: inner } : undefined;
  }
  if (kind === 'use') {
    if (keys.length !== 1) problems.push(`${where}: "use" cannot be combined with other keys in the same map`);
    if (typeof raw.use !== 'string' || !raw.use) {
      problems.push(`${where}.use: must be the name of a condition under conditions:`);
      return undefined;
    }
    return { use: raw.use };
  }
  if (kind === 'indicatorsAny' || kind === 'indicatorsAll' || kind === 'categoryAny') {
    if (keys.length !== 1) problems.push(`${where}: "${kind}" cannot be combined with other keys in the same map`);
    const list = raw[kind];
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x.length > 0)) {
      problems.push(`${where}.${kind}: must be a non-empty list of ${kind === 'categoryAny' ? 'category names' : 'indicator codes'}`);
      return undefined;
    }
    const codes = list as string[];
    if (kind === 'indicatorsAny') return { indicatorsAny: codes };
    if (kind === 'indicatorsAll') return { indicatorsAll: codes };
    return { categoryAny: codes };
  }

  // Field condition.
  const field = raw.field;
  if (typeof field !== 'string' || !(field in FIELD_VALUES)) {
    problems.push(`${where}.field: unknown field ${show(field)}; use one of ${CONDITION_FIELDS.join(', ')}`);
    return undefined;
  }
  const extra = keys.filter((k) => k !== 'field' && !(FIELD_OPS as readonly string[]).includes(k));
  if (extra.length) problems.push(`${where}: unknown key(s) ${extra.join(', ')}; a field test uses ${FIELD_OPS.join(', ')}`);
  const ops = keys.filter((k) => (FIELD_OPS as readonly string[]).includes(k));
  if (ops.length === 0) {
    problems.push(`${where}: field "${field}" needs a test such as equals, in or empty`);
    return undefined;
  }
  const allowed = FIELD_VALUES[field] ?? null;
  const checkValue = (v: unknown, label: string): boolean => {
    if (!isScalar(v)) {
      problems.push(`${where}.${label}: must be a single value, got ${show(v)}`);
      return false;
    }
    if (allowed && !allowed.includes(v)) {
      problems.push(`${where}.${label}: ${show(v)} is not a value of ${field} (expected one of ${allowed.map((a) => String(a)).join(', ')})`);
      return false;
    }
    return true;
  };
  const out: FieldCondition = { field };
  let ok = true;
  for (const op of ops) {
    const v = raw[op];
    switch (op) {
      case 'equals':
      case 'notEquals':
        if (checkValue(v, op)) out[op] = v as Scalar;
        else ok = false;
        break;
      case 'in':
      case 'notIn':
        if (!Array.isArray(v) || v.length === 0) {
          problems.push(`${where}.${op}: must be a non-empty list`);
          ok = false;
        } else if (v.every((x, i) => checkValue(x, `${op}[${i}]`))) out[op] = v as Scalar[];
        else ok = false;
        break;
      case 'empty':
        if (typeof v !== 'boolean') {
          problems.push(`${where}.empty: must be true or false`);
          ok = false;
        } else out.empty = v;
        break;
      case 'lengthAtLeast':
      case 'lengthBelow':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
          problems.push(`${where}.${op}: must be a whole number, 0 or more`);
          ok = false;
        } else out[op] = v;
        break;
    }
  }

  // Invariant guard: no rule may favour residents over visitors.
  if (field === 'subject.residency') {
    const favoursResidents =
      underNot ||
      out.equals === 'lives_here' ||
      (out.in ?? []).includes('lives_here') ||
      out.notEquals === 'visiting' ||
      (out.notIn ?? []).includes('visiting');
    if (favoursResidents) {
      problems.push(
        `${where}: conditions on subject.residency may only pick out "visiting" or "unknown" (not "lives_here", and not under "not"): ` +
          'a child visiting the area must never be rated lower than a child who lives here',
      );
      ok = false;
    }
  }
  return ok ? out : undefined;
}

function walkConditions(c: Condition, visit: (c: Condition) => void): void {
  visit(c);
  if ('all' in c) c.all.forEach((x) => walkConditions(x, visit));
  else if ('any' in c) c.any.forEach((x) => walkConditions(x, visit));
  else if ('not' in c) walkConditions(c.not, visit);
}

function allConditions(rules: UrgencyRules): Condition[] {
  const out: Condition[] = [];
  for (const c of Object.values(rules.conditions)) out.push(c);
  for (const r of rules.rules) if (r.when) out.push(r.when);
  out.push(rules.unknown.when);
  return out;
}

// ---------------------------------------------------------------------------
// Urgency rules: loading
// ---------------------------------------------------------------------------

const RESERVED_REASON_CODES = ['score_threshold_high', 'score_threshold_immediate', 'risk_unknown', 'floor_visiting', 'floor_unknown'];

const RuleSchema = z.strictObject({
  id: z.string().regex(SNAKE, `id ${SNAKE_MSG}`),
  text: z.string().trim().min(1, 'text is required (hub staff see it)'),
  when: z.unknown().optional(),
  points: z.number().int('points must be a whole number').min(0, 'rules cannot subtract points').max(100).optional(),
  urgency: z.enum(['high', 'immediate'], 'urgency must be high or immediate (standard is the default)').optional(),
  sumIndicatorWeights: z
    .strictObject({
      multiplier: z.number().positive().max(10),
      max: z.number().int().min(0).max(100),
    })
    .optional(),
});

const RulesFileSchema = z.strictObject({
  version: z.number().int().min(1),
  base: z.number().int().min(0).max(100).default(0),
  cap: z.number().int().min(1).max(100).default(100),
  thresholds: z.strictObject({
    high: z.number().int().min(1).max(100),
    immediate: z.number().int().min(1).max(100).optional(),
  }),
  conditions: z.record(z.string().regex(SNAKE, `condition name ${SNAKE_MSG}`), z.unknown()).default({}),
  rules: z.array(RuleSchema).min(1),
  unknown: z.strictObject({
    when: z.unknown(),
    minUrgency: z.enum(URGENCIES),
    minScore: z.number().int().min(0).max(100),
    text: z.string().trim().min(1),
  }),
});

/** Problems when rules name indicator codes or categories the taxonomy lacks. */
export function checkRulesAgainstIndicators(rules: UrgencyRules, indicators: IndicatorSet): string[] {
  const problems: string[] = [];
  const check = (c: Condition, where: string): void =>
    walkConditions(c, (x) => {
      const codes = 'indicatorsAny' in x ? x.indicatorsAny : 'indicatorsAll' in x ? x.indicatorsAll : [];
      for (const code of codes) if (!indicators.byCode.has(code)) problems.push(`${where}: unknown indicator code "${code}"`);
      if ('categoryAny' in x) {
        for (const cat of x.categoryAny) {
          if (!Object.prototype.hasOwnProperty.call(indicators.categories, cat)) problems.push(`${where}: unknown indicator category "${cat}"`);
        }
      }
    });
  for (const [name, c] of Object.entries(rules.conditions)) check(c, `conditions.${name}`);
  rules.rules.forEach((r, i) => r.when && check(r.when, `rules[${i}] (${r.id}).when`));
  check(rules.unknown.when, 'unknown.when');
  return problems;
}

/** Validate already-parsed urgency rules. With `indicators`, codes and categories are cross-checked. */
export function parseUrgencyRules(raw: unknown, source = 'urgency-rules.yml', indicators?: IndicatorSet): UrgencyRules {
  const parsed = RulesFileSchema.safeParse(raw);
  if (!parsed.success) {
    // Also report condition mistakes, so all problems can be fixed in one go.
    const problems = zodProblems(parsed.error, raw);
    if (isPlainObject(raw)) {
      if (isPlainObject(raw.conditions)) {
        for (const [name, c] of Object.entries(raw.conditions)) parseCondition(c, `conditions.${name}`, problems);
      }
      if (Array.isArray(raw.rules)) {
        raw.rules.forEach((r: unknown, i: number) => {
          if (isPlainObject(r) && r.when !== undefined) parseCondition(r.when, `${describePath(['rules', i], raw)}.when`, problems);
        });
      }
      if (isPlainObject(raw.unknown) && raw.unknown.when !== undefined) parseCondition(raw.unknown.when, 'unknown.when', problems);
    }
    throw new ReferralContentError(source, problems);
  }
  const data = parsed.data;
  const problems: string[] = [];

  const conditions: Record<string, Condition> = {};
  for (const [name, c] of Object.entries(data.conditions)) {
    const parsedC = parseCondition(c, `conditions.${name}`, problems);
    if (parsedC) conditions[name] = parsedC;
  }

  const ids = new Set<string>();
  const rules: UrgencyRule[] = [];
  data.rules.forEach((r, i) => {
    const where = `rules[${i}] (${r.id})`;
    if (ids.has(r.id)) problems.push(`${where}: id "${r.id}" is used more than once`);
    if (RESERVED_REASON_CODES.includes(r.id)) problems.push(`${where}: id "${r.id}" is reserved; choose another`);
    ids.add(r.id);
    if (r.points === undefined && r.urgency === undefined && r.sumIndicatorWeights === undefined) {
      problems.push(`${where}: the rule does nothing; give it points, urgency or sumIndicatorWeights`);
    }
    let when: Condition | undefined;
    if (r.when !== undefined) {
      when = parseCondition(r.when, `${where}.when`, problems);
      if (!when) return;
    }
    rules.push({
      id: r.id,
      text: r.text,
      ...(when ? { when } : {}),
      ...(r.points !== undefined ? { points: r.points } : {}),
      ...(r.urgency !== undefined ? { urgency: r.urgency } : {}),
      ...(r.sumIndicatorWeights ? { sumIndicatorWeights: { ...r.sumIndicatorWeights } } : {}),
    });
  });

  const unknownWhen = parseCondition(data.unknown.when, 'unknown.when', problems);

  if (data.base > data.cap) problems.push(`base (${data.base}) is above cap (${data.cap})`);
  if (data.thresholds.high > data.cap) problems.push(`thresholds.high (${data.thresholds.high}) is above cap (${data.cap})`);
  if (data.thresholds.immediate !== undefined && data.thresholds.immediate <= data.thresholds.high) {
    problems.push('thresholds.immediate must be above thresholds.high');
  }
  if (data.unknown.minScore > data.cap) problems.push(`unknown.minScore (${data.unknown.minScore}) is above cap (${data.cap})`);

  const result: UrgencyRules = {
    version: data.version,
    base: data.base,
    cap: data.cap,
    thresholds: { ...data.thresholds },
    conditions,
    rules,
    unknown: { when: unknownWhen ?? { all: [] }, minUrgency: data.unknown.minUrgency, minScore: data.unknown.minScore, text: data.unknown.text },
  };

  // Named conditions: every `use` must exist, and none may refer to itself.
  const useProblems: string[] = [];
  const checkUses = (c: Condition, where: string, stack: string[]): void =>
    walkConditions(c, (x) => {
      if (!('use' in x)) return;
      const target = result.conditions[x.use];
      if (!target) useProblems.push(`${where}: no condition named "${x.use}" under conditions:`);
      else if (stack.includes(x.use)) useProblems.push(`${where}: condition "${x.use}" refers to itself (${[...stack, x.use].join(' -> ')})`);
      else checkUses(target, where, [...stack, x.use]);
    });
  for (const [name, c] of Object.entries(result.conditions)) checkUses(c, `conditions.${name}`, [name]);
  result.rules.forEach((r, i) => r.when && checkUses(r.when, `rules[${i}] (${r.id}).when`, []));
  checkUses(result.unknown.when, 'unknown.when', []);
  const crossProblems = indicators ? checkRulesAgainstIndicators(result, indicators) : [];
  const all = [...new Set([...problems, ...useProblems, ...crossProblems])];
  if (all.length) throw new ReferralContentError(source, all);
  return result;
}

/**
 * Load and validate content/referrals/urgency-rules.yml (or the given file).
 * Pass the loaded indicators to also check every indicator code and category used.
 */
export function loadUrgencyRules(file?: string, indicators?: IndicatorSet): UrgencyRules {
  const f = file ?? referralContentPath('urgency-rules.yml');
  return parseUrgencyRules(readYaml(f), f, indicators);
}

// ---------------------------------------------------------------------------
// Assessment
// ---------------------------------------------------------------------------

export const URGENCY_RANK: Record<Urgency, number> = { standard: 0, high: 1, immediate: 2 };
export function maxUrgency(a: Urgency, b: Urgency): Urgency {
  return URGENCY_RANK[a] >= URGENCY_RANK[b] ? a : b;
}
/** Negative if a is less urgent / lower scoring than b (urgency first, then score). */
export function compareAssessments(a: Assessment, b: Assessment): number {
  return URGENCY_RANK[a.urgency] - URGENCY_RANK[b.urgency] || a.riskScore - b.riskScore;
}

interface Ctx {
  draft: ReferralDraft;
  codes: string[];
  codeSet: Set<string>;
  categories: Set<string>;
  named: Record<string, Condition>;
}

function fieldValue(d: ReferralDraft, codes: string[], field: string): unknown {
  switch (field) {
    case 'concernType':
      return d.concernType;
    case 'subject.ageBand':
      return d.subject?.ageBand;
    case 'subject.residency':
      return d.subject?.residency;
    case 'subject.homeArea':
      return d.subject?.homeArea;
    case 'subject.name':
      return d.subject?.name;
    case 'location.town':
      return d.location?.town;
    case 'location.postcodeDistrict':
      return d.location?.postcodeDistrict;
    case 'location.detail':
      return d.location?.detail;
    case 'when':
      return d.when;
    case 'narrative':
      return d.narrative;
    case 'reporterRelationship':
      return d.reporterRelationship;
    case 'knowledge':
      return d.knowledge;
    case 'dangerReported':
      return d.dangerReported === true;
    case 'dangerReportedBy':
      return d.dangerReported === true ? (d.dangerReportedBy ?? 'phrase') : 'none';
    case 'indicators':
      return codes;
    default:
      if (field.startsWith('entities.')) {
        const key = field.slice('entities.'.length) as keyof ReferralDraft['entities'];
        return d.entities?.[key] ?? [];
      }
      return undefined;
  }
}

function lengthOf(v: unknown): number {
  if (typeof v === 'string') return v.trim().length;
  if (Array.isArray(v)) return v.length;
  return 0;
}

function testField(c: FieldCondition, v: unknown): boolean {
  const list = Array.isArray(v) ? (v as unknown[]) : null;
  const has = (x: Scalar): boolean => (list ? list.includes(x) : v === x);
  if (c.equals !== undefined && !has(c.equals)) return false;
  if (c.notEquals !== undefined && has(c.notEquals)) return false;
  if (c.in !== undefined && !c.in.some(has)) return false;
  if (c.notIn !== undefined && c.notIn.some(has)) return false;
  if (c.empty !== undefined && (lengthOf(v) === 0) !== c.empty) return false;
  if (c.lengthAtLeast !== undefined && lengthOf(v) < c.lengthAtLeast) return false;
  if (c.lengthBelow !== undefined && lengthOf(v) >= c.lengthBelow) return false;
  return true;
}

function test(c: Condition, ctx: Ctx, depth = 0): boolean {
  if (depth > 50) throw new Error('urgency rules: conditions nest too deeply (is a named condition using itself?)');
  if ('all' in c) return c.all.every((x) => test(x, ctx, depth + 1));
  if ('any' in c) return c.any.some((x) => test(x, ctx, depth + 1));
  if ('not' in c) return !test(c.not, ctx, depth + 1);
  if ('use' in c) {
    const target = ctx.named[c.use];
    if (!target) throw new Error(`urgency rules: no condition named "${c.use}"`);
    return test(target, ctx, depth + 1);
  }
  if ('indicatorsAny' in c) return c.indicatorsAny.some((code) => ctx.codeSet.has(code));
  if ('indicatorsAll' in c) return c.indicatorsAll.every((code) => ctx.codeSet.has(code));
  if ('categoryAny' in c) return c.categoryAny.some((cat) => ctx.categories.has(cat));
  return testField(c, fieldValue(ctx.draft, ctx.codes, c.field));
}

function uniqueCodes(d: ReferralDraft): string[] {
  return [...new Set((d.indicators ?? []).map((r) => r.code))];
}

/** Apply the rules file as written, without the code-level invariants. */
export function evaluateRules(draft: ReferralDraft, rules: UrgencyRules, indicators: IndicatorSet): Assessment {
  const codes = uniqueCodes(draft);
  const categories = new Set<string>();
  for (const code of codes) {
    const def = indicators.byCode.get(code);
    if (def) categories.add(def.category);
  }
  const ctx: Ctx = { draft, codes, codeSet: new Set(codes), categories, named: rules.conditions };
  const reasons: Reason[] = [];
  let score = rules.base;
  let urgency: Urgency = 'standard';

  for (const rule of rules.rules) {
    if (rule.when && !test(rule.when, ctx)) continue;
    let points = rule.points ?? 0;
    let text = rule.text;
    if (rule.sumIndicatorWeights) {
      const known = codes.map((c) => indicators.byCode.get(c)).filter((d): d is IndicatorDef => d !== undefined);
      const unrecognised = codes.filter((c) => !indicators.byCode.has(c));
      const acts = rule.points !== undefined || rule.urgency !== undefined;
      if (known.length === 0 && unrecognised.length === 0 && !acts) continue; // nothing to add up
      const sum = known.reduce((s, d) => s + d.weight, 0);
      points += Math.min(rule.sumIndicatorWeights.max, Math.round(sum * rule.sumIndicatorWeights.multiplier));
      const signs = known.length ? known.map((d) => d.label).join('; ') : 'none recognised';
      text = text.includes('{signs}') ? text.replace('{signs}', signs) : `${text} ${signs}`;
      if (unrecognised.length) text += ` (not scored, unrecognised codes: ${unrecognised.join(', ')})`;
    }
    score += points;
    if (rule.urgency) urgency = maxUrgency(urgency, rule.urgency);
    reasons.push(points > 0 ? { code: rule.id, text, points } : { code: rule.id, text });
  }

  score = Math.max(0, Math.min(rules.cap, score));

  if (rules.thresholds.immediate !== undefined && score >= rules.thresholds.immediate && urgency !== 'immediate') {
    urgency = 'immediate';
    reasons.push({ code: 'score_threshold_immediate', text: `Risk score ${score} is at or above the level for immediate action (${rules.thresholds.immediate}).` });
  }
  if (score >= rules.thresholds.high && urgency === 'standard') {
    urgency = 'high';
    reasons.push({ code: 'score_threshold_high', text: `Risk score ${score} is at or above the level for high urgency (${rules.thresholds.high}).` });
  }

  const riskUnknown = test(rules.unknown.when, ctx);
  if (riskUnknown) {
    const raised = Math.max(0, rules.unknown.minScore - score);
    score += raised;
    urgency = maxUrgency(urgency, rules.unknown.minUrgency);
    reasons.push(raised > 0 ? { code: 'risk_unknown', text: rules.unknown.text, points: raised } : { code: 'risk_unknown', text: rules.unknown.text });
  }

  return { urgency, riskScore: score, riskUnknown, reasons };
}

/** Fields that can be "unknown", with the values that could stand in for "unknown". */
const FILLABLE: { field: string; label: string; values: readonly string[]; set: (d: ReferralDraft, v: string) => ReferralDraft; get: (d: ReferralDraft) => string }[] = [
  {
    field: 'subject.ageBand',
    label: 'age',
    values: AGE_BANDS.filter((v) => v !== 'unknown'),
    get: (d) => d.subject.ageBand,
    set: (d, v) => ({ ...d, subject: { ...d.subject, ageBand: v as ReferralDraft['subject']['ageBand'] } }),
  },
  {
    field: 'subject.residency',
    label: 'whether they live here',
    values: RESIDENCIES.filter((v) => v !== 'unknown'),
    get: (d) => d.subject.residency,
    set: (d, v) => ({ ...d, subject: { ...d.subject, residency: v as ReferralDraft['subject']['residency'] } }),
  },
  {
    field: 'when',
    label: 'when',
    values: WHEN_CODES.filter((v) => v !== 'unknown'),
    get: (d) => d.when,
    set: (d, v) => ({ ...d, when: v as ReferralDraft['when'] }),
  },
  {
    field: 'reporterRelationship',
    label: 'how the reporter knows the person',
    values: RELATIONSHIPS.filter((v) => v !== 'unknown'),
    get: (d) => d.reporterRelationship,
    set: (d, v) => ({ ...d, reporterRelationship: v as ReferralDraft['reporterRelationship'] }),
  },
  {
    field: 'knowledge',
    label: 'how the reporter found out',
    values: KNOWLEDGE_CODES.filter((v) => v !== 'unknown'),
    get: (d) => d.knowledge,
    set: (d, v) => ({ ...d, knowledge: v as ReferralDraft['knowledge'] }),
  },
];

const referencedCache = new WeakMap<UrgencyRules, Set<string>>();
function referencedFields(rules: UrgencyRules): Set<string> {
  let set = referencedCache.get(rules);
  if (!set) {
    const s = new Set<string>();
    for (const c of allConditions(rules)) walkConditions(c, (x) => 'field' in x && s.add(x.field));
    set = s;
    referencedCache.set(rules, set);
  }
  return set;
}

function withResidency(d: ReferralDraft, residency: ReferralDraft['subject']['residency']): ReferralDraft {
  return { ...d, subject: { ...d.subject, residency } };
}

const VISITING_FLOOR_TEXT =
  'Raised to match the same report if the person lived here: someone visiting or staying in the area is never rated lower than a resident.';

/** Raise `base` to at least `floor` (urgency and score separately), recording why. */
function raiseTo(base: Assessment, floor: Assessment, code: string, text: string): Assessment {
  const urgency = maxUrgency(base.urgency, floor.urgency);
  const riskScore = Math.max(base.riskScore, floor.riskScore);
  if (urgency === base.urgency && riskScore === base.riskScore) return base;
  const reason: Reason = riskScore > base.riskScore ? { code, text, points: riskScore - base.riskScore } : { code, text };
  return { urgency, riskScore, riskUnknown: base.riskUnknown, reasons: [...base.reasons, reason] };
}

/** A draft with no unknown (fillable) fields: rules plus the visiting invariant. */
function assessKnown(d: ReferralDraft, rules: UrgencyRules, indicators: IndicatorSet): Assessment {
  const own = evaluateRules(d, rules, indicators);
  if (d.subject.residency !== 'visiting') return own;
  const asResident = evaluateRules(withResidency(d, 'lives_here'), rules, indicators);
  return raiseTo(own, asResident, 'floor_visiting', VISITING_FLOOR_TEXT);
}

/** Rules plus the unknown-details invariant (not the visiting one). */
function assessWithUnknownFloor(d: ReferralDraft, rules: UrgencyRules, indicators: IndicatorSet): Assessment {
  const own = evaluateRules(d, rules, indicators);
  const used = referencedFields(rules);
  const open = FILLABLE.filter((f) => used.has(f.field) && f.get(d) === 'unknown');
  if (open.length === 0) return own;
  let least: Assessment | undefined;
  const fill = (i: number, cur: ReferralDraft): void => {
    if (i === open.length) {
      const a = assessKnown(cur, rules, indicators);
      if (!least || compareAssessments(a, least) < 0) least = a;
      return;
    }
    const f = open[i] as (typeof open)[number];
    for (const v of f.values) fill(i + 1, f.set(cur, v));
  };
  fill(0, d);
  if (!least) return own;
  return raiseTo(
    own,
    least,
    'floor_unknown',
    `Some details are unknown (${open.map((f) => f.label).join(', ')}). Raised to the lowest rating this report would get with those details filled in, so missing details never lower a rating.`,
  );
}

/**
 * Assess a referral draft: urgency, a 0–100 risk score, whether the risk is
 * unknown, and a plain-English reason for every rule that fired. Pure and
 * deterministic.
 */
export function assess(draft: ReferralDraft, rules: UrgencyRules, indicators: IndicatorSet): Assessment {
  const own = assessWithUnknownFloor(draft, rules, indicators);
  if (draft.subject.residency !== 'visiting') return own;
  const asResident = assessWithUnknownFloor(withResidency(draft, 'lives_here'), rules, indicators);
  return raiseTo(own, asResident, 'floor_visiting', VISITING_FLOOR_TEXT);
}
