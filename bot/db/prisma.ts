// One PrismaClient per process, on SQLite through the better-sqlite3 driver adapter.
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '@prisma/client';
import { migrateSqlite } from './migrate';

export type Db = PrismaClient;

export interface OpenDbOptions {
  databaseFile: string;
  /** How long SQLite waits on a locked database before reporting busy (ms). */
  busyTimeoutMs?: number;
  migrate?: boolean;
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.migrate !== false) migrateSqlite(options.databaseFile);
  const adapter = new PrismaBetterSQLite3({ url: options.databaseFile, timeout: options.busyTimeoutMs ?? 5000 });
  const prisma = new PrismaClient({ adapter });
  await prisma.$connect();
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
