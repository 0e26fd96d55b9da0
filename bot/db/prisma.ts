// One PrismaClient per process, on SQLite through the better-sqlite3 driver adapter.
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '@prisma/client';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type BetterSqlite3 from 'better-sqlite3';
import { migrateSqlite } from './migrate';

export type Db = PrismaClient;

export interface OpenDbOptions {
  databaseFile: string;
  /** How long SQLite waits on a locked database before reporting busy (ms). */
  busyTimeoutMs?: number;
  migrate?: boolean;
}

const connections = new WeakMap<Db, BetterSqlite3.Database>();

/**
 * The SQLite connection Prisma's driver adapter opened, for the few hot paths
 * (bot state, web chat transcripts) that run prepared statements directly.
 * Sharing Prisma's one connection means no second writer and no lock waits.
 * Undefined on any other database (PostgreSQL): callers fall back to Prisma.
 */
export function sqliteOf(db: Db): BetterSqlite3.Database | undefined {
  return connections.get(db);
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.migrate !== false) migrateSqlite(options.databaseFile);
  const factory = new PrismaBetterSQLite3({ url: options.databaseFile, timeout: options.busyTimeoutMs ?? 5000 });
  let connection: BetterSqlite3.Database | undefined;
  const adapter: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async (): Promise<SqlDriverAdapter> => {
      const opened = await factory.connect();
      connection = (opened as unknown as { client: BetterSqlite3.Database }).client;
      // WAL with synchronous=NORMAL: a committed transaction survives a process
      // crash (SIGKILL); only a power cut can lose the last commits.
      connection.pragma('synchronous = NORMAL');
      // Deleted rows (pruned web chat transcripts, deleted bot state) are overwritten, not left in free pages.
      connection.pragma('secure_delete = ON');
      return opened;
    },
    connectToShadowDb: () => factory.connectToShadowDb(),
  };
  const prisma = new PrismaClient({ adapter });
  await prisma.$connect();
  if (connection) connections.set(prisma, connection);
  return prisma;
}

/** True when a query answers; used by /readyz. */
export async function pingDb(db: Db): Promise<boolean> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * Run `fn` (synchronous statements on the shared connection) when no Prisma
 * transaction is open on it. Prisma's adapter keeps a transaction open across
 * awaits, and any statement run on the connection meanwhile would join it and
 * vanish if it rolled back. Check and run happen in one synchronous step.
 */
export function outsideTransaction<T>(sqlite: BetterSqlite3.Database, fn: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const attempt = (): void => {
      if (sqlite.inTransaction) {
        setImmediate(attempt);
        return;
      }
      try {
        resolve(fn());
      } catch (err) {
        reject(err);
      }
    };
    attempt();
  });
}

/**
 * Moves the write-ahead log into the database file and empties it, so rows just deleted (which
 * secure_delete overwrites in the file) leave no copy in the log either. Only SQLite has one.
 */
export async function forgetDeleted(db: Db): Promise<void> {
  const sqlite = sqliteOf(db);
  if (!sqlite) return;
  await outsideTransaction(sqlite, () => sqlite.pragma('wal_checkpoint(TRUNCATE)'));
}

/** A timestamp in the text form Prisma writes to SQLite, for the direct-statement paths. */
export function sqliteTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace('Z', '+00:00');
}

/** SQLite result codes that mean "the database can't be used right now", not "this request is wrong". */
const UNAVAILABLE_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|NOTADB|CORRUPT|PROTOCOL)/;
/** Prisma's codes for an unreachable, timed-out (SQLite busy) or closed database, or a transaction that timed out. */
const UNAVAILABLE_PRISMA = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2037']);

/**
 * True when an error means the database is locked, busy or gone (answer 503
 * or the safety message) rather than a bug (500). Covers better-sqlite3's own
 * errors, a closed connection and Prisma's wrapping of both.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } };
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLITE.test(e.code) || UNAVAILABLE_PRISMA.has(e.code))) return true;
  const original = e.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof original === 'string' && UNAVAILABLE_SQLITE.test(original)) return true;
  // better-sqlite3 throws a plain TypeError once its connection is closed (matched by text: it may come from another realm).
  return e.message === 'The database connection is not open';
}
