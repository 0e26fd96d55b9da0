// Human-readable labels for the codes stored on referrals, and the indicator
// taxonomy (content/referrals/indicators.yml) used to label indicator codes.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Agency, Outcome, Role, Scope, Status } from './constants';

export const STATUS_LABELS: Record<Status, string> = {
  new: 'New',
  triaged: 'Triaged',
  assigned: 'Assigned',
  closed: 'Closed',
};

export const URGENCY_LABELS: Record<string, string> = {
  immediate: 'Immediate',
  high: 'High',
  standard: 'Standard',
};

export const AGENCY_LABELS: Record<Agency, string> = {
  childrens_social_care: "Children's social care",
  police: 'Police',
  health: 'Health',
  youth_justice: 'Youth justice',
  housing: 'Housing',
  education: 'Education',
  voluntary_sector: 'Voluntary sector',
  other: 'Other',
};

export const OUTCOME_LABELS: Record<Outcome, string> = {
  no_further_action: 'No further action',
  intelligence_logged: "Logged as intelligence (reporter's details removed)",
  referred_on: 'Referred on',
  strategy_discussion: 'Strategy discussion',
  nrm_referral: 'National Referral Mechanism referral',
  duplicate: 'Duplicate',
  suspected_false_or_malicious: 'Suspected false or malicious',
  other: 'Other',
};

export const ROLE_LABELS: Record<Role, string> = {
  triager: 'Triager',
  supervisor: 'Supervisor',
  admin: 'Admin',
};

export const SCOPE_LABELS: Record<Scope, string> = {
  'referrals:read': 'Read referrals',
  'referrals:write': 'Change referrals (transitions, notes, grading)',
  export: 'Export referrals',
};

export const CONCERN_LABELS: Record<string, string> = {
  young_person: 'Young person at risk',
  home_takeover: 'Home takeover (cuckooing)',
  adult: 'Adult at risk',
  self: 'Reporter is at risk',
  other: 'Other',
};

export const AGE_BAND_LABELS: Record<string, string> = {
  under_13: 'Under 13',
  '13_15': '13 to 15',
  '16_17': '16 or 17',
  '18_24': '18 to 24',
  '25_plus': '25 or over',
  unknown: 'Not known',
};

export const RESIDENCY_LABELS: Record<string, string> = {
  lives_here: 'Lives in the area',
  visiting: 'Visiting or staying temporarily',
  unknown: 'Not known',
};

export const WHEN_LABELS: Record<string, string> = {
  now: 'Happening now',
  today: 'Today',
  this_week: 'This week',
  ongoing: 'Ongoing',
  past: 'In the past',
  unknown: 'Not known',
};

export const RELATIONSHIP_LABELS: Record<string, string> = {
  self: 'The person at risk',
  friend: 'Friend',
  parent_carer: 'Parent or carer',
  neighbour: 'Neighbour',
  landlord_housing: 'Landlord or housing staff',
  professional: 'Professional',
  other: 'Other',
  unknown: 'Not known',
};

export const KNOWLEDGE_LABELS: Record<string, string> = {
  saw: 'Saw it themselves',
  told: 'Was told',
  suspects: 'Suspects',
  unknown: 'Not known',
};

export const ENTITY_KIND_LABELS: Record<string, string> = {
  phone: 'Phone number',
  vehicle: 'Vehicle',
  postcode: 'Postcode',
  address: 'Address',
  name: 'Name or nickname',
  handle: 'Social media handle',
};

export const SOURCE_EVALUATION_LABELS: Record<string, string> = {
  '1': '1 – Reliable',
  '2': '2 – Untested',
  '3': '3 – Not reliable',
};
export const INTEL_ASSESSMENT_LABELS: Record<string, string> = {
  A: 'A – Known directly to the source',
  B: 'B – Known indirectly, corroborated',
  C: 'C – Known indirectly',
  D: 'D – Not known',
  E: 'E – Suspected to be false',
};
export const HANDLING_CODE_LABELS: Record<string, string> = {
  P: 'P – Lawful sharing permitted',
  C: 'C – Lawful sharing permitted with conditions',
};

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
