// Group commit (bot/db/groupCommit.ts): writes queued in one turn of the event
// loop share a transaction; each caller hears back only after the commit; a
// failing write loses only itself; a failed commit keeps nothing.
import path from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit } from '../../bot/db/groupCommit';
import { tempDir } from '../helpers/app';

let file: string;
let sqlite: Database.Database;
let other: Database.Database;

beforeEach(() => {
  file = path.join(tempDir(), 'g.db');
  sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  other = new Database(file, { timeout: 0 });
});
afterEach(() => {
  other.close();
  sqlite.close();
});

const insert = (k: string, v: number) => () => sqlite.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k, v).changes;
const seenByOther = (): string[] => (other.prepare('SELECT k FROM t ORDER BY k').all() as Array<{ k: string }>).map((r) => r.k);

test('writes queued together commit together, and each resolves only after the commit', async () => {
  const commits = new GroupCommit(sqlite);
  const visibleAtResolve: string[][] = [];
  let sawOpenTransaction = false;
  const a = commits.run(insert('a', 1)).then(() => visibleAtResolve.push(seenByOther()));
  const b = commits
    .run(() => {
      // Inside the batch: a's row is written but not yet committed.
      sawOpenTransaction = sqlite.inTransaction && seenByOther().length === 0;
      return insert('b', 2)();
    })
    .then(() => visibleAtResolve.push(seenByOther()));
  await Promise.all([a, b]);
  expect(sawOpenTransaction).toBe(true);
  // Another connection already sees both rows when either caller is answered.
  expect(visibleAtResolve).toEqual([
    ['a', 'b'],
    ['a', 'b'],
  ]);
});

test('a failing write is rolled back alone and rejects only its own caller', async () => {
  const commits = new GroupCommit(sqlite);
  const results = await Promise.allSettled([
    commits.run(insert('a', 1)),
    commits.run(() => {
      insert('half', 1)();
      insert('a', 2)(); // primary key clash: this job fails after writing "half"
    }),
    commits.run(insert('c', 3)),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
  expect(seenByOther()).toEqual(['a', 'c']);
  expect(other.prepare('SELECT v FROM t WHERE k = ?').get('a')).toEqual({ v: 1 });
});

test('when the commit cannot happen (database locked), every caller is rejected and nothing is kept', async () => {
  sqlite.pragma('busy_timeout = 0');
  const commits = new GroupCommit(sqlite);
  other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
  const results = await Promise.allSettled([commits.run(insert('a', 1)), commits.run(insert('b', 2))]);
  other.exec('ROLLBACK');
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/SQLITE_BUSY|locked/);
  expect(seenByOther()).toEqual([]);
  // The committer carries on once the lock is gone.
  await commits.run(insert('c', 3));
  expect(seenByOther()).toEqual(['c']);
});

test('a long queue is split into bounded transactions, in order', async () => {
  const commits = new GroupCommit(sqlite, 3);
  const order: number[] = [];
  await Promise.all(Array.from({ length: 10 }, (_, i) => commits.run(insert(`k${String(i).padStart(2, '0')}`, i)).then(() => order.push(i))));
  expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(seenByOther()).toHaveLength(10);
});
