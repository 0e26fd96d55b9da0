// The referral rules of one deployment, loaded once from content/: the
// indicator taxonomy, the urgency rules and the area's towns.
import path from 'node:path';
import type { Area } from '../content';
import { detectIndicators, mergeIndicators } from './indicators';
import { extractEntities, postcodeDistrictOf, validatePostcodeDistrict } from './entities';
import { assess, loadIndicators, loadUrgencyRules } from './urgency';
import type { Assessment, ConcernType, Entities, IndicatorDef, IndicatorRef, IndicatorSet, ReferralDraft, UrgencyRules } from './types';

export interface PlaceGuess {
  town?: string;
  postcodeDistrict?: string;
}

export class ReferralDomain {
  readonly indicators: IndicatorSet;
  readonly rules: UrgencyRules;
  private readonly townIndex: Array<{ key: string; town: string }>;
  private readonly districtTown = new Map<string, string>();

  constructor(contentDir: string, readonly area: Area) {
    this.indicators = loadIndicators(path.join(contentDir, 'referrals', 'indicators.yml'));
    this.rules = loadUrgencyRules(path.join(contentDir, 'referrals', 'urgency-rules.yml'), this.indicators);
    this.townIndex = area.towns
      .flatMap((t) => [t.name, ...(t.aliases ?? [])].map((k) => ({ key: k.toLowerCase(), town: t.name })))
      .sort((a, b) => b.key.length - a.key.length);
    for (const t of area.towns) for (const d of t.postcodeDistricts ?? []) this.districtTown.set(d.toUpperCase(), t.name);
  }

  assess(draft: ReferralDraft): Assessment {
    return assess(draft, this.rules, this.indicators);
  }

  detect(text: string, concern?: ConcernType): IndicatorRef[] {
    return detectIndicators(text, this.indicators, concern);
  }

  merge(a: IndicatorRef[], b: IndicatorRef[]): IndicatorRef[] {
    return mergeIndicators(a, b);
  }

  extract(text: string): Entities {
    return extractEntities(text);
  }

  label(code: string, concern?: ConcernType): string {
    const def = this.indicators.byCode.get(code);
    return (concern === 'self' ? def?.label_self : undefined) ?? def?.label ?? code;
  }

  /** The indicators offered as buttons for a concern type, most important first. */
  choices(concern: ConcernType): IndicatorDef[] {
    return (this.indicators.choiceSets[concern] ?? [])
      .map((c) => this.indicators.byCode.get(c))
      .filter((d): d is IndicatorDef => Boolean(d));
  }

  /** A town of this area named in free text (name, alias or postcode district). */
  findPlace(text: string, entities: Entities = extractEntities(text)): PlaceGuess {
    const lower = ` ${text.toLowerCase().replace(/[^a-z0-9\s'-]/g, ' ')} `;
    const guess: PlaceGuess = {};
    const district =
      entities.postcodes.map((p) => postcodeDistrictOf(p)).find(Boolean) ??
      text
        .split(/\s+/)
        .map((w) => validatePostcodeDistrict(w))
        .find((d) => d && this.districtTown.has(d));
    if (district) {
      guess.postcodeDistrict = district;
      guess.town = this.districtTown.get(district);
    }
    for (const { key, town } of this.townIndex) {
      if (lower.includes(` ${key} `)) {
        guess.town = town;
        break;
      }
    }
    return guess;
  }

  isTown(name: string): boolean {
    return this.area.towns.some((t) => t.name === name);
  }
}
