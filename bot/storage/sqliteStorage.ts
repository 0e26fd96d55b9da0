// The same Storage contract as PrismaStorage (eTags, hashed keys), run as
// prepared statements on Prisma's own SQLite connection. Bot state is read and
// written on every turn; through the ORM that cost more than the rest of the
// turn together (see bench/README.md). PrismaStorage remains the portable
// implementation for PostgreSQL.
import crypto from 'node:crypto';
import type { StoreItems } from 'botbuilder';
import type BetterSqlite3 from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { groupCommitOf, type GroupCommit } from '../db/groupCommit';
import { outsideTransaction, sqliteTimestamp } from '../db/prisma';
import { keyedHash } from '../util/crypto';
import { ETagConflictError, type StateStorage } from './stateStorage';

// randomUUID draws from a cached entropy pool: cheaper per turn than randomBytes.
const newETag = (): string => crypto.randomUUID();

export class SqliteStateStorage implements StateStorage {
  private readonly select: BetterSqlite3.Statement<[string], { data: string; etag: string }>;
  private readonly upsert: BetterSqlite3.Statement<[string, string, string, string]>;
  private readonly update: BetterSqlite3.Statement<[string, string, string, string, string]>;
  private readonly insert: BetterSqlite3.Statement<[string, string, string, string]>;
  private readonly remove: BetterSqlite3.Statement<[string]>;
  private readonly commits: GroupCommit;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly secret: string,
  ) {
    // Column names and the timestamp format match what Prisma writes.
    this.select = sqlite.prepare('SELECT data, etag FROM "BotState" WHERE key = ?');
    this.upsert = sqlite.prepare(
      'INSERT INTO "BotState" (key, data, etag, "updatedAt") VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET data = excluded.data, etag = excluded.etag, "updatedAt" = excluded."updatedAt"',
    );
    this.update = sqlite.prepare('UPDATE "BotState" SET data = ?, etag = ?, "updatedAt" = ? WHERE key = ? AND etag = ?');
    this.insert = sqlite.prepare('INSERT INTO "BotState" (key, data, etag, "updatedAt") VALUES (?, ?, ?, ?)');
    this.remove = sqlite.prepare('DELETE FROM "BotState" WHERE key = ?');
    this.commits = groupCommitOf(sqlite);
  }

  // A turn reads and writes the same keys: hash each once (bounded memo).
  private readonly hashed = new LRUCache<string, string>({ max: 10_000 });

  storedKey(key: string): string {
    let stored = this.hashed.get(key);
    if (!stored) {
      stored = keyedHash(this.secret, 'state', key);
      this.hashed.set(key, stored);
    }
    return stored;
  }

  read(keys: string[]): Promise<StoreItems> {
    return outsideTransaction(this.sqlite, () => {
      const items: StoreItems = {};
      for (const key of keys) {
        const row = this.select.get(this.storedKey(key));
        if (row) {
          const item = JSON.parse(row.data) as Record<string, unknown>;
          item.eTag = row.etag;
          items[key] = item;
        }
      }
      return items;
    });
  }

  // Writes from concurrent turns share one commit (bot/db/groupCommit.ts); the
  // promise resolves only once this write is durable.
  write(changes: StoreItems): Promise<void> {
    return this.commits.run(() => this.writeNow(changes));
  }

  private writeNow(changes: StoreItems): void {
    const now = sqliteTimestamp();
    for (const [rawKey, item] of Object.entries(changes)) {
      const key = this.storedKey(rawKey);
      const { eTag, ...rest } = (item ?? {}) as { eTag?: string } & Record<string, unknown>;
      const data = JSON.stringify(rest);
      const etag = newETag();
      if (!eTag || eTag === '*') {
        this.upsert.run(key, data, etag, now);
      } else if (this.update.run(data, etag, now, key, eTag).changes !== 1) {
        if (this.select.get(key)) throw new ETagConflictError(key);
        // The item vanished (e.g. deleted by STOP) since it was read: store it afresh.
        this.insert.run(key, data, etag, now);
      }
    }
  }

  delete(keys: string[]): Promise<void> {
    return outsideTransaction(this.sqlite, () => {
      for (const key of keys) this.remove.run(this.storedKey(key));
    });
  }

  async deleteConversation(channelId: string, conversationId: string, userId: string): Promise<void> {
    await this.delete([`${channelId}/conversations/${conversationId}/`, `${channelId}/users/${userId}/`]);
  }
}
