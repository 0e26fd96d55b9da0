// Human-readable labels for the codes stored on referrals and accounts
// (content/hub/labels.yml), and the indicator taxonomy
// (content/referrals/indicators.yml) used to label indicator codes.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ENTITY_KINDS } from '../bot/referrals/repository';
import { AGE_BANDS, CONCERN_TYPES, KNOWLEDGE_CODES, RELATIONSHIPS, RESIDENCIES, URGENCIES, WHEN_CODES } from '../bot/referrals/types';
import {
  AGENCIES,
  HANDLING_CODES,
  INTEL_ASSESSMENTS,
  OUTCOMES,
  ROLES,
  SCOPES,
  SOURCE_EVALUATIONS,
  STATUSES,
  SYSTEM_REASONS,
  type Agency,
  type Outcome,
  type Role,
  type Scope,
  type Status,
} from './constants';

/**
 * content/hub/labels.yml: the words hub staff see for each stored code. Every
 * code the hub can store must have a label there; a missing one stops the hub
 * at start-up with the file and the code named (as a content error does).
 */
const LABEL_CODES = {
  status: STATUSES,
  urgency: URGENCIES,
  agency: AGENCIES,
  outcome: OUTCOMES,
  role: ROLES,
  scope: SCOPES,
  concern: CONCERN_TYPES,
  age_band: AGE_BANDS,
  residency: RESIDENCIES,
  when: WHEN_CODES,
  relationship: RELATIONSHIPS,
  knowledge: KNOWLEDGE_CODES,
  entity_kind: Object.values(ENTITY_KINDS),
  source_evaluation: SOURCE_EVALUATIONS,
  intel_assessment: INTEL_ASSESSMENTS,
  handling_code: HANDLING_CODES,
  system_reason: SYSTEM_REASONS,
} as const satisfies Record<string, readonly string[]>;

type LabelSets = { [K in keyof typeof LABEL_CODES]: Record<(typeof LABEL_CODES)[K][number], string> };

const labelFile = z.record(z.string(), z.record(z.string(), z.string().trim().min(1)));

export function loadHubLabels(contentDir: string): LabelSets {
  const file = path.join(contentDir, 'hub', 'labels.yml');
  const parsed = labelFile.safeParse(YAML.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`Content error in ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const missing: string[] = [];
  for (const [set, codes] of Object.entries(LABEL_CODES)) {
    for (const code of codes) if (!parsed.data[set]?.[code]) missing.push(`${set}.${code}`);
  }
  if (missing.length) throw new Error(`Content error in ${file}: no label for ${missing.join(', ')}`);
  return parsed.data as LabelSets;
}

/** The label sets by the names the hub's code and templates use (`L.STATUS_LABELS` …). */
export interface HubLabels {
  readonly STATUS_LABELS: Record<Status, string>;
  readonly URGENCY_LABELS: Record<string, string>;
  readonly AGENCY_LABELS: Record<Agency, string>;
  readonly OUTCOME_LABELS: Record<Outcome, string>;
  readonly ROLE_LABELS: Record<Role, string>;
  readonly SCOPE_LABELS: Record<Scope, string>;
  readonly CONCERN_LABELS: Record<string, string>;
  readonly AGE_BAND_LABELS: Record<string, string>;
  readonly RESIDENCY_LABELS: Record<string, string>;
  readonly WHEN_LABELS: Record<string, string>;
  readonly RELATIONSHIP_LABELS: Record<string, string>;
  readonly KNOWLEDGE_LABELS: Record<string, string>;
  readonly ENTITY_KIND_LABELS: Record<string, string>;
  readonly SOURCE_EVALUATION_LABELS: Record<string, string>;
  readonly INTEL_ASSESSMENT_LABELS: Record<string, string>;
  readonly HANDLING_CODE_LABELS: Record<string, string>;
  readonly SYSTEM_REASON_LABELS: Record<string, string>;
}

/** The hub's labels from the service's own content folder (the one its configuration names). */
export function hubLabels(contentDir: string): HubLabels {
  const sets = loadHubLabels(contentDir);
  return {
    STATUS_LABELS: sets.status,
    URGENCY_LABELS: sets.urgency,
    AGENCY_LABELS: sets.agency,
    OUTCOME_LABELS: sets.outcome,
    ROLE_LABELS: sets.role,
    SCOPE_LABELS: sets.scope,
    CONCERN_LABELS: sets.concern,
    AGE_BAND_LABELS: sets.age_band,
    RESIDENCY_LABELS: sets.residency,
    WHEN_LABELS: sets.when,
    RELATIONSHIP_LABELS: sets.relationship,
    KNOWLEDGE_LABELS: sets.knowledge,
    ENTITY_KIND_LABELS: sets.entity_kind,
    SOURCE_EVALUATION_LABELS: sets.source_evaluation,
    INTEL_ASSESSMENT_LABELS: sets.intel_assessment,
    HANDLING_CODE_LABELS: sets.handling_code,
    SYSTEM_REASON_LABELS: sets.system_reason,
  };
}

export const CHILD_AGE_BANDS = ['under_13', '13_15', '16_17'];

export interface IndicatorLabel {
  code: string;
  label: string;
  category?: string;
  categoryLabel?: string;
}

export class IndicatorLabels {
  constructor(private readonly byCode: ReadonlyMap<string, IndicatorLabel>) {}

  label(code: string): string {
    return this.byCode.get(code)?.label ?? humanise(code);
  }

  get(code: string): IndicatorLabel {
    return this.byCode.get(code) ?? { code, label: humanise(code) };
  }

  all(): IndicatorLabel[] {
    return [...this.byCode.values()].sort((a, b) => a.label.localeCompare(b.label));
  }
}

/** "missing_from_home" → "Missing from home": a fallback when a code has no label. */
export function humanise(code: string): string {
  const s = code.replace(/[_-]+/g, ' ').trim();
  return s ? s[0]!.toUpperCase() + s.slice(1) : code;
}

/**
 * Reads content/referrals/indicators.yml (entries with code, label, category).
 * Tolerates a missing file (labels then fall back to the humanised code) so the
 * hub still starts while content is being written; the bot validates the file.
 */
export function loadIndicatorLabels(contentDir: string): IndicatorLabels {
  const file = path.join(contentDir, 'referrals', 'indicators.yml');
  const map = new Map<string, IndicatorLabel>();
  if (!fs.existsSync(file)) return new IndicatorLabels(map);
  const doc = YAML.parse(fs.readFileSync(file, 'utf8')) as unknown;
  const root = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const categories = (root.categories && typeof root.categories === 'object' ? root.categories : {}) as Record<
    string,
    { label?: unknown }
  >;
  const list = Array.isArray(doc) ? doc : Array.isArray(root.indicators) ? root.indicators : [];
  for (const entry of list as Array<Record<string, unknown>>) {
    if (!entry || typeof entry.code !== 'string') continue;
    const category = typeof entry.category === 'string' ? entry.category : undefined;
    const catLabel = category ? categories[category]?.label : undefined;
    map.set(entry.code, {
      code: entry.code,
      label: typeof entry.label === 'string' && entry.label.trim() ? entry.label.trim() : humanise(entry.code),
      ...(category ? { category } : {}),
      ...(typeof catLabel === 'string' ? { categoryLabel: catLabel } : category ? { categoryLabel: humanise(category) } : {}),
    });
  }
  return new IndicatorLabels(map);
}

export function labelOf(map: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '';
  return map[code] ?? humanise(code);
}
