// Linked referrals: others that share a phone number, vehicle, postcode,
// address, name/nickname or handle (entity values are normalised by the bot,
// so equality is enough and uses the (kind, value) index).
import type { Db } from '../../bot/db/prisma';
import { LINKING_ENTITY_KINDS } from '../constants';

export interface LinkedReferral {
  reference: string;
  urgency: string;
  status: string;
  createdAt: Date;
  concernType: string;
  locationTown: string | null;
  matches: Array<{ kind: string; value: string }>;
}

/**
 * A postcode links only when it is a full postcode ("BH1 4AA"): a district on
 * its own ("BH1") covers thousands of homes and would link everything nearby.
 */
export function linkable(e: { kind: string; value: string }): boolean {
  return e.kind !== 'postcode' || /\s/.test(e.value.trim());
}

export async function findLinkedReferrals(db: Db, referralId: string, limit = 50): Promise<LinkedReferral[]> {
  const mine = (
    await db.referralEntity.findMany({
      where: { referralId, kind: { in: [...LINKING_ENTITY_KINDS] } },
      select: { kind: true, value: true },
    })
  ).filter(linkable);
  if (mine.length === 0) return [];
  const rows = await db.referralEntity.findMany({
    where: { referralId: { not: referralId }, OR: mine.map((e) => ({ kind: e.kind, value: e.value })) },
    select: {
      kind: true,
      value: true,
      referral: { select: { reference: true, urgency: true, status: true, createdAt: true, concernType: true, locationTown: true } },
    },
    take: 1000,
  });
  const byRef = new Map<string, LinkedReferral>();
  for (const row of rows) {
    const r = row.referral;
    let linked = byRef.get(r.reference);
    if (!linked) {
      linked = { ...r, matches: [] };
      byRef.set(r.reference, linked);
    }
    if (!linked.matches.some((m) => m.kind === row.kind && m.value === row.value)) linked.matches.push({ kind: row.kind, value: row.value });
  }
  return [...byRef.values()]
    .sort((a, b) => b.matches.length - a.matches.length || b.createdAt.getTime() - a.createdAt.getTime())
    .slice(0, limit);
}
