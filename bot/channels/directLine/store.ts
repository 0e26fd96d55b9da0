// Direct Line conversations and their activity streams, in the database
// (DlConversation, DlActivity). Each conversation numbers its activities
// 1, 2, 3…; the number is the watermark, and an activity's id is
// `${conversationId}|${seq}` as Azure's Direct Line writes it.
import type BetterSqlite3 from 'better-sqlite3';
import { groupCommitOf, type GroupCommit } from '../../db/groupCommit';
import { outsideTransaction, sqliteOf, sqliteTimestamp, type Db } from '../../db/prisma';

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

export interface AppendOptions {
  /** The first activity is the user's message and the rest answer it: each gets `replyToId` = its id. */
  repliesToFirst?: boolean;
}

export const activityId = (conversationId: string, seq: number): string => `${conversationId}|${String(seq).padStart(7, '0')}`;

export interface DirectLineStore {
  create(id: string): Promise<ConversationRow>;
  get(id: string): Promise<ConversationRow | null>;
  /**
   * Append activities to a conversation's stream, numbering them in one
   * transaction so readers never see a gap that fills in later. Each
   * activity gets its id and timestamp here. Returns them as stored.
   */
  append(conversationId: string, activities: Array<Record<string, unknown>>, options?: AppendOptions): Promise<StoredActivity[]>;
  /** Activities after a watermark (exclusive), oldest first, at most `limit`. */
  list(conversationId: string, watermark: number, limit?: number): Promise<ActivityPage>;
  /** Delete conversations idle since before `cutoff` (and their activities). Returns their ids. */
  prune(cutoff: Date, batch?: number): Promise<string[]>;
}

/** The fastest store for this database: prepared statements on SQLite, Prisma elsewhere. */
export function createDirectLineStore(db: Db): DirectLineStore {
  const sqlite = sqliteOf(db);
  return sqlite ? new SqliteDirectLineStore(sqlite) : new PrismaDirectLineStore(db);
}

function stamp(conversationId: string, activities: Array<Record<string, unknown>>, first: number, now: Date, options: AppendOptions = {}): StoredActivity[] {
  const firstId = activityId(conversationId, first);
  return activities.map(
    (a, i) =>
      ({
        ...a,
        ...(options.repliesToFirst && i > 0 ? { replyToId: firstId } : {}),
        id: activityId(conversationId, first + i),
        timestamp: now.toISOString(),
      }) as StoredActivity,
  );
}

/** Portable implementation (PostgreSQL). */
export class PrismaDirectLineStore implements DirectLineStore {
  constructor(private readonly db: Db) {}

  async create(id: string): Promise<ConversationRow> {
    return this.db.dlConversation.create({ data: { id } });
  }

  async get(id: string): Promise<ConversationRow | null> {
    return this.db.dlConversation.findUnique({ where: { id } });
  }

  async append(conversationId: string, activities: Array<Record<string, unknown>>, options?: AppendOptions): Promise<StoredActivity[]> {
    if (!activities.length) return [];
    return this.db.$transaction(async (tx) => {
      const row = await tx.dlConversation.update({
        where: { id: conversationId },
        data: { nextSeq: { increment: activities.length }, lastSeenAt: new Date() },
        select: { nextSeq: true },
      });
      const first = row.nextSeq - activities.length + 1;
      const now = new Date();
      const stored = stamp(conversationId, activities, first, now, options);
      await tx.dlActivity.createMany({
        data: stored.map((a, i) => ({ conversationId, seq: first + i, createdAt: now, json: JSON.stringify(a) })),
      });
      return stored;
    });
  }

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

/**
 * SQLite implementation: prepared statements on Prisma's own connection (see
 * bot/db/prisma.ts). Every web chat message appends and every poll lists, so
 * this is a hot path; each append is one savepoint in a group commit.
 */
export class SqliteDirectLineStore implements DirectLineStore {
  private readonly insertConversation: BetterSqlite3.Statement<[string, string, string]>;
  private readonly selectConversation: BetterSqlite3.Statement<[string], { id: string; createdAt: string; lastSeenAt: string; nextSeq: number }>;
  private readonly bump: BetterSqlite3.Statement<[number, string, string], { nextSeq: number }>;
  private readonly insertActivity: BetterSqlite3.Statement<[string, number, string, string]>;
  private readonly selectActivities: BetterSqlite3.Statement<[string, number, number], { seq: number; json: string }>;
  private readonly selectStale: BetterSqlite3.Statement<[string, number], { id: string }>;
  private readonly deleteActivities: BetterSqlite3.Statement<[string]>;
  private readonly deleteConversation: BetterSqlite3.Statement<[string]>;
  private readonly appendTx: (conversationId: string, activities: Array<Record<string, unknown>>, options?: AppendOptions) => StoredActivity[];
  private readonly pruneTx: (ids: string[]) => void;
  private readonly commits: GroupCommit;

  constructor(private readonly sqlite: BetterSqlite3.Database) {
    this.commits = groupCommitOf(sqlite);
    this.insertConversation = sqlite.prepare('INSERT INTO "DlConversation" (id, "createdAt", "lastSeenAt", "nextSeq") VALUES (?, ?, ?, 0)');
    this.selectConversation = sqlite.prepare('SELECT id, "createdAt", "lastSeenAt", "nextSeq" FROM "DlConversation" WHERE id = ?');
    this.bump = sqlite.prepare('UPDATE "DlConversation" SET "nextSeq" = "nextSeq" + ?, "lastSeenAt" = ? WHERE id = ? RETURNING "nextSeq"');
    this.insertActivity = sqlite.prepare('INSERT INTO "DlActivity" ("conversationId", seq, "createdAt", json) VALUES (?, ?, ?, ?)');
    this.selectActivities = sqlite.prepare('SELECT seq, json FROM "DlActivity" WHERE "conversationId" = ? AND seq > ? ORDER BY seq ASC LIMIT ?');
    this.selectStale = sqlite.prepare('SELECT id FROM "DlConversation" WHERE "lastSeenAt" < ? LIMIT ?');
    this.deleteActivities = sqlite.prepare('DELETE FROM "DlActivity" WHERE "conversationId" = ?');
    this.deleteConversation = sqlite.prepare('DELETE FROM "DlConversation" WHERE id = ?');
    this.appendTx = sqlite.transaction((conversationId: string, activities: Array<Record<string, unknown>>, options?: AppendOptions) => {
      const now = new Date();
      const at = sqliteTimestamp(now);
      const row = this.bump.get(activities.length, at, conversationId);
      if (!row) throw new Error(`Direct Line conversation not found`);
      const first = Number(row.nextSeq) - activities.length + 1;
      const stored = stamp(conversationId, activities, first, now, options);
      stored.forEach((a, i) => this.insertActivity.run(conversationId, first + i, at, JSON.stringify(a)));
      return stored;
    });
    this.pruneTx = sqlite.transaction((ids: string[]) => {
      for (const id of ids) {
        this.deleteActivities.run(id);
        this.deleteConversation.run(id);
      }
    });
  }

  private row(r: { id: string; createdAt: string; lastSeenAt: string; nextSeq: number }): ConversationRow {
    return { id: r.id, createdAt: new Date(r.createdAt), lastSeenAt: new Date(r.lastSeenAt), nextSeq: Number(r.nextSeq) };
  }

  // Every method runs outside any open Prisma transaction (see outsideTransaction).
  create(id: string): Promise<ConversationRow> {
    return outsideTransaction(this.sqlite, () => {
      const at = sqliteTimestamp();
      this.insertConversation.run(id, at, at);
      return this.row({ id, createdAt: at, lastSeenAt: at, nextSeq: 0 });
    });
  }

  get(id: string): Promise<ConversationRow | null> {
    return outsideTransaction(this.sqlite, () => {
      const r = this.selectConversation.get(id);
      return r ? this.row(r) : null;
    });
  }

  append(conversationId: string, activities: Array<Record<string, unknown>>, options?: AppendOptions): Promise<StoredActivity[]> {
    // Appends from concurrent requests share one commit (bot/db/groupCommit.ts).
    return activities.length ? this.commits.run(() => this.appendTx(conversationId, activities, options)) : Promise.resolve([]);
  }

  list(conversationId: string, watermark: number, limit = 200): Promise<ActivityPage> {
    return outsideTransaction(this.sqlite, () => {
      const rows = this.selectActivities.all(conversationId, watermark, limit);
      const last = rows.length ? Number(rows[rows.length - 1].seq) : watermark;
      return { activities: rows.map((r) => JSON.parse(r.json) as StoredActivity), watermark: String(last) };
    });
  }

  prune(cutoff: Date, batch = 500): Promise<string[]> {
    return outsideTransaction(this.sqlite, () => {
      const ids = this.selectStale.all(sqliteTimestamp(cutoff), batch).map((r) => r.id);
      if (ids.length) this.pruneTx(ids);
      return ids;
    });
  }
}
