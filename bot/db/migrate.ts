// Applies prisma/migrations at start-up, in process, in milliseconds.
// Bookkeeping uses Prisma's own `_prisma_migrations` table and checksums, so
// `prisma migrate status` / `migrate deploy` agree with what ran here.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

function migrationsDir(): string {
  // Works from both bot/db (tsx, ts-jest) and dist/bot/db (compiled).
  const candidates = [path.resolve(__dirname, '..', '..', 'prisma', 'migrations'), path.resolve(__dirname, '..', '..', '..', 'prisma', 'migrations')];
  const found = candidates.find((d) => fs.existsSync(d));
  if (!found) throw new Error(`prisma/migrations not found (looked in ${candidates.join(', ')})`);
  return found;
}

const TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

export interface MigrationResult {
  applied: string[];
}

/** Create the database file if needed, switch it to WAL and apply pending migrations. */
export function migrateSqlite(databaseFile: string): MigrationResult {
  fs.mkdirSync(path.dirname(path.resolve(databaseFile)), { recursive: true });
  const db = new Database(databaseFile, { timeout: 10000 });
  try {
    db.pragma('journal_mode = WAL');
    db.exec(TABLE);
    const done = new Map<string, { checksum: string; finished: boolean }>();
    for (const row of db
      .prepare('SELECT migration_name, checksum, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL')
      .all() as Array<{ migration_name: string; checksum: string; finished_at: string | null }>) {
      done.set(row.migration_name, { checksum: row.checksum, finished: row.finished_at !== null });
    }
    const dir = migrationsDir();
    const names = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const applied: string[] = [];
    for (const name of names) {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      const checksum = crypto.createHash('sha256').update(sql).digest('hex');
      const prior = done.get(name);
      if (prior) {
        if (!prior.finished) throw new Error(`Migration ${name} failed earlier; resolve it with prisma migrate resolve`);
        if (prior.checksum !== checksum) throw new Error(`Migration ${name} was edited after it was applied`);
        continue;
      }
      const started = new Date().toISOString();
      db.transaction(() => {
        db.exec(sql);
        db.prepare(
          `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES (?, ?, ?, ?, ?, 1)`,
        ).run(crypto.randomUUID(), checksum, new Date().toISOString(), name, started);
      })();
      applied.push(name);
    }
    return { applied };
  } finally {
    db.close();
  }
}
