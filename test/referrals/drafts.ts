// Test helpers for referral drafts: a builder and a seeded random generator.
import {
  AGE_BANDS,
  CONCERN_TYPES,
  KNOWLEDGE_CODES,
  RELATIONSHIPS,
  RESIDENCIES,
  WHEN_CODES,
  emptyEntities,
  type IndicatorRef,
  type ReferralDraft,
} from '../../bot/referrals/types';

export type DraftOverrides = Omit<Partial<ReferralDraft>, 'subject' | 'location'> & {
  subject?: Partial<ReferralDraft['subject']>;
  location?: Partial<ReferralDraft['location']>;
};

/** A complete draft: defaults are a neutral, fully known adult referral. */
export function draft(over: DraftOverrides = {}): ReferralDraft {
  const { subject, location, ...rest } = over;
  return {
    concernType: 'adult',
    when: 'past',
    indicators: [],
    narrative: 'A description long enough not to count as missing information on its own.',
    reporterRelationship: 'neighbour',
    knowledge: 'saw',
    dangerReported: false,
    entities: emptyEntities(),
    ...rest,
    subject: { ageBand: '25_plus', residency: 'lives_here', ...subject },
    location: { ...location },
  };
}

export function codes(...list: string[]): IndicatorRef[] {
  return list.map((code) => ({ code, source: 'choice' as const }));
}

/** Small deterministic PRNG (mulberry32), so failures are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)] as T;
}

/** A random draft using indicator codes from `allCodes` (0–6 of them). */
export function randomDraft(r: () => number, allCodes: readonly string[]): ReferralDraft {
  const n = Math.floor(r() * 7);
  const chosen: IndicatorRef[] = [];
  for (let i = 0; i < n; i += 1) chosen.push({ code: pick(r, allCodes), source: r() < 0.5 ? 'choice' : 'text' });
  return draft({
    concernType: pick(r, CONCERN_TYPES),
    subject: { ageBand: pick(r, AGE_BANDS), residency: pick(r, RESIDENCIES) },
    when: pick(r, WHEN_CODES),
    indicators: chosen,
    narrative: r() < 0.3 ? '' : r() < 0.5 ? 'short' : 'He keeps going out late and comes back with things he cannot pay for.',
    reporterRelationship: pick(r, RELATIONSHIPS),
    knowledge: pick(r, KNOWLEDGE_CODES),
    dangerReported: r() < 0.1,
    dangerReportedBy: r() < 0.5 ? 'classifier' : r() < 0.5 ? 'phrase' : undefined,
  });
}
