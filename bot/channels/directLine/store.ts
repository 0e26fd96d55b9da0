// Direct Line conversations and their activity streams, in the database
// (DlConversation, DlActivity). Each conversation numbers its activities
// 1, 2, 3…; the number is the watermark, and an activity's id is
// `${conversationId}|${seq}` as Azure's Direct Line writes it.
import type { Db } from '../../db/prisma';

export interface StoredActivity extends Record<string, unknown> {
  id: string;
  timestamp: string;
}

export interface ActivityPage {
  activities: StoredActivity[];
  watermark: string;
}

export interface ConversationRow {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  nextSeq: number;
}

export const activityId = (conversationId: string, seq: number): string => `${conversationId}|${String(seq).padStart(7, '0')}`;

export class DirectLineStore {
  constructor(private readonly db: Db) {}

  async create(id: string): Promise<ConversationRow> {
    return this.db.dlConversation.create({ data: { id } });
  }

  async get(id: string): Promise<ConversationRow | null> {
    return this.db.dlConversation.findUnique({ where: { id } });
  }

  /**
   * Append activities to a conversation's stream, numbering them in one
   * transaction so readers never see a gap that fills in later. Each
   * activity gets its id and timestamp here. Returns them as stored.
   */
  async append(conversationId: string, activities: Array<Record<string, unknown>>): Promise<StoredActivity[]> {
    if (!activities.length) return [];
    return this.db.$transaction(async (tx) => {
      const row = await tx.dlConversation.update({
        where: { id: conversationId },
        data: { nextSeq: { increment: activities.length }, lastSeenAt: new Date() },
        select: { nextSeq: true },
      });
      const first = row.nextSeq - activities.length + 1;
      const now = new Date();
      const stored = activities.map((a, i) => {
        const seq = first + i;
        return { ...a, id: activityId(conversationId, seq), timestamp: now.toISOString() } as StoredActivity;
      });
      await tx.dlActivity.createMany({
        data: stored.map((a, i) => ({ conversationId, seq: first + i, createdAt: now, json: JSON.stringify(a) })),
      });
      return stored;
    });
  }

  /** Activities after a watermark (exclusive), oldest first, at most `limit`. */
  async list(conversationId: string, watermark: number, limit = 200): Promise<ActivityPage> {
    const rows = await this.db.dlActivity.findMany({
      where: { conversationId, seq: { gt: watermark } },
      orderBy: { seq: 'asc' },
      take: limit,
      select: { seq: true, json: true },
    });
    const last = rows.length ? rows[rows.length - 1].seq : watermark;
    return { activities: rows.map((r) => JSON.parse(r.json) as StoredActivity), watermark: String(last) };
  }

  /** Delete conversations idle since before `cutoff` (and their activities). Returns their ids. */
  async prune(cutoff: Date, batch = 500): Promise<string[]> {
    const stale = await this.db.dlConversation.findMany({ where: { lastSeenAt: { lt: cutoff } }, select: { id: true }, take: batch });
    const ids = stale.map((s) => s.id);
    if (!ids.length) return [];
    await this.db.$transaction([
      this.db.dlActivity.deleteMany({ where: { conversationId: { in: ids } } }),
      this.db.dlConversation.deleteMany({ where: { id: { in: ids } } }),
    ]);
    return ids;
  }
}
