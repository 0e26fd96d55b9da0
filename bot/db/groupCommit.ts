// Group commit for the direct-statement paths on SQLite (bot state, web chat
// transcripts). Every turn writes; as separate autocommits, each write is a
// WAL commit of its own (about 40 µs for a state row). Here the writes queued
// during one turn of the event loop run in one transaction, each inside its
// own savepoint, and every caller is answered only after that transaction has
// committed: a reply still never goes out before its state is durable.
//
// A job that throws rolls back to its savepoint (its own changes only) and
// rejects its caller; the others still commit. If the commit itself fails
// (e.g. SQLITE_BUSY after the busy timeout) every caller in the batch is
// rejected and nothing of it is kept.
import type BetterSqlite3 from 'better-sqlite3';
import { outsideTransaction } from './prisma';

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  ok?: boolean;
  value?: unknown;
  error?: unknown;
}

export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;
  private readonly batch: (jobs: Job[]) => void;
  private readonly savepoint: (job: Job) => unknown;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    /** Most jobs in one transaction; more wait for the next one. */
    private readonly maxBatch = 256,
  ) {
    // Called inside `batch`, better-sqlite3 runs a transaction function as a savepoint.
    this.savepoint = sqlite.transaction((job: Job) => job.run());
    this.batch = sqlite.transaction((jobs: Job[]) => {
      for (const job of jobs) {
        try {
          job.value = this.savepoint(job);
          job.ok = true;
        } catch (err) {
          job.ok = false;
          job.error = err;
        }
      }
    });
  }

  /** Run `fn` in the next group transaction; resolves with its result once that has committed. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue.length > this.maxBatch ? this.queue.splice(0, this.maxBatch) : this.queue;
    if (jobs === this.queue) this.queue = [];
    if (this.queue.length && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    outsideTransaction(this.sqlite, () => this.batch(jobs)).then(
      () => {
        for (const job of jobs) {
          if (job.ok) job.resolve(job.value);
          else job.reject(job.error);
        }
      },
      (err: unknown) => {
        for (const job of jobs) job.reject(err);
      },
    );
  }
}

const shared = new WeakMap<BetterSqlite3.Database, GroupCommit>();

/** The one group committer of a connection, so state and transcript writes share a commit. */
export function groupCommitOf(sqlite: BetterSqlite3.Database): GroupCommit {
  let commits = shared.get(sqlite);
  if (!commits) {
    commits = new GroupCommit(sqlite);
    shared.set(sqlite, commits);
  }
  return commits;
}
