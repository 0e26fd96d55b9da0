// Append-only, hash-chained audit log.
//
// Each row's hash is SHA-256(prevHash + canonical JSON of its fields), and each
// row names the hash of the row before it, so editing, deleting or reordering
// a row breaks the chain at that row and verify() reports where. `seq` is
// assigned here (last + 1) and is the primary key, so two writers racing for
// the same position cannot fork the chain: one of them fails on the unique key
// and retries (this holds on PostgreSQL as well as SQLite).
//
// Truncating the newest rows leaves a valid (shorter) chain: keep a copy of
// the latest hash elsewhere (the verify page shows it) to detect that too.
import crypto from 'node:crypto';
import { Prisma, type AuditLog } from '@prisma/client';
import type { Db } from '../bot/db/prisma';

export type Tx = Prisma.TransactionClient;

export interface Actor {
  type: 'staff' | 'token' | 'system';
  id: string | null;
}

export interface AuditEntry {
  action: string;
  target?: string | null;
  detail?: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface AuditFields {
  seq: number;
  at: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  target: string | null;
  detail: string;
  prevHash: string;
}

export function auditHash(row: AuditFields): string {
  const body = canonicalJson({
    seq: row.seq,
    at: row.at.toISOString(),
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    target: row.target,
    detail: row.detail,
    prevHash: row.prevHash,
  });
  return crypto.createHash('sha256').update(row.prevHash).update(body).digest('hex');
}

/** Append one row inside the caller's transaction. */
export async function appendAudit(tx: Tx, actor: Actor, entry: AuditEntry): Promise<AuditLog> {
  const last = await tx.auditLog.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  const fields: AuditFields = {
    seq: (last?.seq ?? 0) + 1,
    at: new Date(),
    actorType: actor.type,
    actorId: actor.id,
    action: entry.action,
    target: entry.target ?? null,
    detail: canonicalJson(entry.detail ?? {}),
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  return tx.auditLog.create({ data: { ...fields, hash: auditHash(fields) } });
}

const isRetryable = (e: unknown): boolean =>
  e instanceof Prisma.PrismaClientKnownRequestError && (e.code === 'P2002' || e.code === 'P2034');

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** Hash of the newest row (record it elsewhere to detect truncation). */
  headHash: string;
  headSeq: number;
  problem?: { seq: number; reason: string };
}

export class AuditLogService {
  constructor(private readonly db: Db) {}

  /**
   * Run `fn` in a transaction; audit rows it appends commit with its changes.
   * Retried a few times if another writer took the same chain position.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.$transaction(fn, { timeout: 15_000, maxWait: 15_000 });
      } catch (e) {
        if (isRetryable(e) && attempt < 5) continue;
        throw e;
      }
    }
  }

  /** Record one event on its own (views, exports, sign-ins). */
  async record(actor: Actor, entry: AuditEntry): Promise<AuditLog> {
    return this.transaction((tx) => appendAudit(tx, actor, entry));
  }

  /** Newest first. */
  async list(options: { before?: number; limit: number; action?: string; target?: string }): Promise<AuditLog[]> {
    return this.db.auditLog.findMany({
      where: {
        ...(options.before ? { seq: { lt: options.before } } : {}),
        ...(options.action ? { action: options.action } : {}),
        ...(options.target ? { target: options.target } : {}),
      },
      orderBy: { seq: 'desc' },
      take: options.limit,
    });
  }

  /** Walk the whole chain from the first row, recomputing every hash. */
  async verify(batchSize = 1000): Promise<VerifyResult> {
    let prevHash = GENESIS_HASH;
    let prevSeq = 0;
    let checked = 0;
    for (;;) {
      const rows = await this.db.auditLog.findMany({
        where: { seq: { gt: prevSeq } },
        orderBy: { seq: 'asc' },
        take: batchSize,
      });
      if (rows.length === 0) break;
      for (const row of rows) {
        const fail = (reason: string): VerifyResult => ({
          ok: false,
          checked,
          headHash: prevHash,
          headSeq: prevSeq,
          problem: { seq: row.seq, reason },
        });
        if (row.seq !== prevSeq + 1) return fail(`row ${prevSeq + 1} is missing`);
        if (row.prevHash !== prevHash) return fail('does not follow the row before it (a row was edited, removed or inserted)');
        if (auditHash(row) !== row.hash) return fail('its contents do not match its hash (the row was edited)');
        prevHash = row.hash;
        prevSeq = row.seq;
        checked++;
      }
    }
    return { ok: true, checked, headHash: prevHash, headSeq: prevSeq };
  }
}
