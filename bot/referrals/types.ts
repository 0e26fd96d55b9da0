/**
 * Shared shapes for SpeakSafe referrals (pure data; no I/O).
 *
 * A ReferralDraft is what the conversation has gathered. It never holds the
 * reporter's identity: only how they relate to the person at risk and how they
 * know what they report (so hub staff can grade it with 3x5x2).
 */

export type ConcernType = 'young_person' | 'home_takeover' | 'adult' | 'self' | 'other';
export type AgeBand = 'under_13' | '13_15' | '16_17' | '18_24' | '25_plus' | 'unknown';
export type Residency = 'lives_here' | 'visiting' | 'unknown'; // "visiting" includes staying temporarily
export type WhenCode = 'now' | 'today' | 'this_week' | 'ongoing' | 'past' | 'unknown';
export type Relationship =
  | 'self'
  | 'friend'
  | 'parent_carer'
  | 'neighbour'
  | 'landlord_housing'
  | 'professional'
  | 'other'
  | 'unknown';
export type Knowledge = 'saw' | 'told' | 'suspects' | 'unknown';
export type Urgency = 'immediate' | 'high' | 'standard';

export interface Entities {
  phones: string[];
  vehicles: string[];
  postcodes: string[];
  addresses: string[];
  names: string[];
  handles: string[];
}

export interface IndicatorRef {
  code: string;
  source: 'choice' | 'text';
}

export interface ReferralDraft {
  concernType: ConcernType;
  subject: { ageBand: AgeBand; residency: Residency; homeArea?: string; name?: string };
  location: { town?: string; postcodeDistrict?: string; detail?: string };
  when: WhenCode;
  indicators: IndicatorRef[];
  narrative: string; // reporter's own words (may be '')
  reporterRelationship: Relationship;
  knowledge: Knowledge;
  dangerReported: boolean; // the safety net fired during this conversation
  /**
   * What fired it: a danger phrase (content/safety/danger-phrases.yml) at least once, or only the
   * classifier. Absent with dangerReported (drafts saved before this was recorded) reads as 'phrase',
   * the stricter of the two.
   */
  dangerReportedBy?: DangerSource;
  entities: Entities;
}

export const DANGER_SOURCES = ['phrase', 'classifier'] as const;
export type DangerSource = (typeof DANGER_SOURCES)[number];

export interface Reason {
  code: string;
  text: string;
  points?: number;
}

export interface Assessment {
  urgency: Urgency;
  riskScore: number;
  riskUnknown: boolean;
  reasons: Reason[];
}

// ---------------------------------------------------------------------------
// Additions (value lists used for validation, and the loaded content shapes).
// ---------------------------------------------------------------------------

export const CONCERN_TYPES = ['young_person', 'home_takeover', 'adult', 'self', 'other'] as const satisfies readonly ConcernType[];
export const AGE_BANDS = ['under_13', '13_15', '16_17', '18_24', '25_plus', 'unknown'] as const satisfies readonly AgeBand[];
/** Age bands that mean the person at risk is a child (under 18). */
export const CHILD_AGE_BANDS = ['under_13', '13_15', '16_17'] as const satisfies readonly AgeBand[];
export const RESIDENCIES = ['lives_here', 'visiting', 'unknown'] as const satisfies readonly Residency[];
export const WHEN_CODES = ['now', 'today', 'this_week', 'ongoing', 'past', 'unknown'] as const satisfies readonly WhenCode[];
export const RELATIONSHIPS = [
  'self',
  'friend',
  'parent_carer',
  'neighbour',
  'landlord_housing',
  'professional',
  'other',
  'unknown',
] as const satisfies readonly Relationship[];
export const KNOWLEDGE_CODES = ['saw', 'told', 'suspects', 'unknown'] as const satisfies readonly Knowledge[];
/** Lowest first. */
export const URGENCIES = ['standard', 'high', 'immediate'] as const satisfies readonly Urgency[];

export const ENTITY_KEYS = ['phones', 'vehicles', 'postcodes', 'addresses', 'names', 'handles'] as const satisfies readonly (keyof Entities)[];

export function emptyEntities(): Entities {
  return { phones: [], vehicles: [], postcodes: [], addresses: [], names: [], handles: [] };
}

/** One sign of exploitation, as defined in content/referrals/indicators.yml. */
export interface IndicatorDef {
  code: string;
  label: string;
  /** The label for someone reporting about themselves, if it reads differently. */
  label_self?: string;
  category: string;
  appliesTo: ConcernType[];
  weight: number;
  patterns: string[];
  description?: string;
}

export interface IndicatorCategory {
  label: string;
  description?: string;
}

/** The loaded, validated indicator taxonomy. */
export interface IndicatorSet {
  version: number;
  categories: Record<string, IndicatorCategory>;
  indicators: IndicatorDef[];
  /** Codes offered as choice buttons per concern type, most important first (≤ 8). */
  choiceSets: Partial<Record<ConcernType, string[]>>;
  byCode: ReadonlyMap<string, IndicatorDef>;
}

/** A condition in the urgency rule language (see content/referrals/urgency-rules.yml). */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { use: string }
  | FieldCondition
  | { indicatorsAny: string[] }
  | { indicatorsAll: string[] }
  | { categoryAny: string[] };

export interface FieldCondition {
  field: string;
  equals?: string | number | boolean;
  notEquals?: string | number | boolean;
  in?: (string | number | boolean)[];
  notIn?: (string | number | boolean)[];
  empty?: boolean;
  lengthAtLeast?: number;
  lengthBelow?: number;
}

export interface UrgencyRule {
  id: string;
  text: string;
  when?: Condition;
  points?: number;
  urgency?: Urgency;
  sumIndicatorWeights?: { multiplier: number; max: number };
}

export interface UrgencyRules {
  version: number;
  base: number;
  cap: number;
  thresholds: { high: number; immediate?: number };
  /** Named conditions, referenced from rules with { use: name }. */
  conditions: Record<string, Condition>;
  rules: UrgencyRule[];
  unknown: {
    when: Condition;
    minUrgency: Urgency;
    minScore: number;
    text: string;
  };
}
