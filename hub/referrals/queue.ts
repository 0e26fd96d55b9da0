// The triage queue: filters, ordering (most urgent first, then longest
// waiting), keyset pagination and overdue markers.
import { z } from 'zod';
import type { Prisma } from '@prisma/client';
import type { Config } from '../../bot/config';
import type { Db } from '../../bot/db/prisma';
import { STATUSES, URGENCY_ORDER, type Status, type UrgencyCode } from '../constants';

export const CONCERN_TYPES = ['young_person', 'home_takeover', 'adult', 'self', 'other'] as const;
export const RESIDENCIES = ['lives_here', 'visiting', 'unknown'] as const;
export const STATUS_FILTERS = ['open', 'all', ...STATUSES] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];
export const OPEN_STATUSES: Status[] = ['new', 'triaged', 'assigned'];

export interface QueueFilters {
  status: StatusFilter;
  urgency?: UrgencyCode;
  town?: string;
  concernType?: string;
  indicator?: string;
  residency?: string;
  overdue?: boolean;
}

export class FilterError extends Error {}

const first = (v: unknown): string | undefined => {
  const x = Array.isArray(v) ? v[0] : v;
  if (typeof x !== 'string') return undefined;
  const t = x.trim();
  return t === '' ? undefined : t;
};

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new FilterError(`${name} must be one of: ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Read filters from a query object (web form or API). Throws FilterError on a bad value. */
export function parseFilters(query: unknown): QueueFilters {
  const q = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>;
  const town = first(q.town);
  const indicator = first(q.indicator);
  if (town !== undefined && town.length > 100) throw new FilterError('town is too long');
  if (indicator !== undefined && !/^[a-z0-9_.-]{1,64}$/i.test(indicator)) throw new FilterError('indicator must be an indicator code');
  const overdue = first(q.overdue);
  return {
    status: oneOf('status', first(q.status), STATUS_FILTERS) ?? 'open',
    ...defined({
      urgency: oneOf('urgency', first(q.urgency), URGENCY_ORDER),
      town,
      concernType: oneOf('concernType', first(q.concernType), CONCERN_TYPES),
      indicator,
      residency: oneOf('residency', first(q.residency), RESIDENCIES),
      overdue: overdue === undefined ? undefined : ['1', 'true', 'yes', 'on'].includes(overdue) ? true : undefined,
    }),
  };
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Filters as query-string pairs (for links that keep the current filters). */
export function filtersToQuery(f: QueueFilters): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.status !== 'open') out.status = f.status;
  if (f.urgency) out.urgency = f.urgency;
  if (f.town) out.town = f.town;
  if (f.concernType) out.concernType = f.concernType;
  if (f.indicator) out.indicator = f.indicator;
  if (f.residency) out.residency = f.residency;
  if (f.overdue) out.overdue = '1';
  return out;
}

export interface Targets {
  immediate: number;
  high: number;
  standard: number;
}

export function targetsFrom(config: Config): Targets {
  return {
    immediate: config.TARGET_IMMEDIATE_MINUTES,
    high: config.TARGET_HIGH_MINUTES,
    standard: config.TARGET_STANDARD_MINUTES,
  };
}

export function targetMinutes(targets: Targets, urgency: string): number {
  return targets[urgency as UrgencyCode] ?? targets.standard;
}

/**
 * The target is time to triage: a referral is overdue while it is still `new`
 * after its urgency's target (immediate 1 hour, high 24 hours, standard 5 days
 * by default). Returns minutes overdue, or 0.
 */
export function overdueMinutes(targets: Targets, r: { status: string; urgency: string; createdAt: Date }, now = new Date()): number {
  if (r.status !== 'new') return 0;
  const waited = (now.getTime() - r.createdAt.getTime()) / 60_000;
  const over = waited - targetMinutes(targets, r.urgency);
  return over > 0 ? Math.floor(over) : 0;
}

export function dueAt(targets: Targets, r: { urgency: string; createdAt: Date }): Date {
  return new Date(r.createdAt.getTime() + targetMinutes(targets, r.urgency) * 60_000);
}

export function buildWhere(f: QueueFilters, targets: Targets, now = new Date()): Prisma.ReferralWhereInput {
  const and: Prisma.ReferralWhereInput[] = [];
  if (f.status === 'open') and.push({ status: { in: OPEN_STATUSES } });
  else if (f.status !== 'all') and.push({ status: f.status });
  if (f.urgency) and.push({ urgency: f.urgency });
  if (f.town) and.push({ locationTown: f.town });
  if (f.concernType) and.push({ concernType: f.concernType });
  if (f.residency) and.push({ subjectResidency: f.residency });
  if (f.indicator) and.push({ indicators: { some: { code: f.indicator } } });
  if (f.overdue) {
    and.push({
      status: 'new',
      OR: URGENCY_ORDER.map((u) => ({
        urgency: u,
        createdAt: { lt: new Date(now.getTime() - targetMinutes(targets, u) * 60_000) },
      })),
    });
  }
  return and.length ? { AND: and } : {};
}

export const QUEUE_ORDER: Prisma.ReferralOrderByWithRelationInput[] = [
  { urgencyRank: 'asc' },
  { createdAt: 'asc' },
  { id: 'asc' },
];

interface CursorKey {
  r: number;
  t: string;
  i: string;
}

export function encodeCursor(row: { urgencyRank: number; createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ r: row.urgencyRank, t: row.createdAt.toISOString(), i: row.id })).toString('base64url');
}

/** What encodeCursor writes, and nothing else: a crafted cursor is a 400, never a database error. */
const CursorSchema = z.strictObject({
  r: z.number().int().min(0).max(99),
  t: z.iso.datetime().refine((t) => {
    const year = new Date(t).getUTCFullYear();
    return year >= 2000 && year <= 9999;
  }),
  i: z.string().min(1).max(64),
});

export function decodeCursor(cursor: string | undefined): CursorKey | undefined {
  if (!cursor) return undefined;
  if (cursor.length <= 400) {
    try {
      const parsed = CursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
      if (parsed.success) return parsed.data;
    } catch {
      /* fall through */
    }
  }
  throw new FilterError('cursor is not valid');
}

/** Rows strictly after the cursor in queue order (keyset pagination: stable while rows change). */
export function afterCursor(k: CursorKey): Prisma.ReferralWhereInput {
  const t = new Date(k.t);
  return {
    OR: [
      { urgencyRank: { gt: k.r } },
      { urgencyRank: k.r, createdAt: { gt: t } },
      { urgencyRank: k.r, createdAt: t, id: { gt: k.i } },
    ],
  };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export async function queuePage<I extends Prisma.ReferralInclude>(
  db: Db,
  options: { filters: QueueFilters; targets: Targets; cursor?: string; limit: number; include: I; now?: Date },
): Promise<Page<Prisma.ReferralGetPayload<{ include: I }>>> {
  const key = decodeCursor(options.cursor);
  const where = buildWhere(options.filters, options.targets, options.now);
  const rows = (await db.referral.findMany({
    where: key ? { AND: [where, afterCursor(key)] } : where,
    orderBy: QUEUE_ORDER,
    take: options.limit + 1,
    include: options.include,
  })) as unknown as Array<Prisma.ReferralGetPayload<{ include: I }>>;
  const items = rows.slice(0, options.limit);
  const last = items[items.length - 1] as unknown as { urgencyRank: number; createdAt: Date; id: string } | undefined;
  return { items, nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null };
}
