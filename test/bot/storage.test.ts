// Both state storages honour eTags like botbuilder's own storages, and store
// keys only as keyed hashes.
import path from 'node:path';
import { openDb, sqliteOf, type Db } from '../../bot/db/prisma';
import { PrismaStorage } from '../../bot/storage/prismaStorage';
import { SqliteStateStorage } from '../../bot/storage/sqliteStorage';
import { createStateStorage, ETagConflictError, type StateStorage } from '../../bot/storage/stateStorage';
import { tempDir } from '../helpers/app';

const SECRET = 'x'.repeat(32);
let db: Db;
beforeAll(async () => {
  db = await openDb({ databaseFile: path.join(tempDir(), 's.db') });
});
afterAll(async () => db?.$disconnect());

const storages: Array<[string, () => StateStorage]> = [
  ['PrismaStorage (portable)', () => new PrismaStorage(db, SECRET)],
  ['SqliteStateStorage (SQLite fast path)', () => new SqliteStateStorage(sqliteOf(db)!, SECRET)],
];

describe.each(storages)('%s', (name, make) => {
  test('read, write, eTag conflict, wildcard and delete', async () => {
    await db.botState.deleteMany();
    const storage = make();
    const key = `${name}/a`;
    await storage.write({ [key]: { n: 1 } });
    const first = await storage.read([key, 'missing']);
    expect(first[key]).toMatchObject({ n: 1 });
    expect(first.missing).toBeUndefined();
    const etag = first[key].eTag as string;
    await storage.write({ [key]: { n: 2, eTag: etag } });
    // A writer holding the old eTag loses, and the stored value is unchanged.
    await expect(storage.write({ [key]: { n: 3, eTag: etag } })).rejects.toBeInstanceOf(ETagConflictError);
    expect((await storage.read([key]))[key]).toMatchObject({ n: 2 });
    await storage.write({ [key]: { n: 4, eTag: '*' } });
    expect((await storage.read([key]))[key]).toMatchObject({ n: 4 });
    // Keys are stored hashed: the raw key (which may hold a phone number) never is.
    const rows = await db.botState.findMany();
    expect(rows.map((r) => r.key)).toEqual([storage.storedKey(key)]);
    expect(rows[0].key).not.toContain('/a');
    expect(rows[0].updatedAt).toBeInstanceOf(Date);
    await storage.delete([key]);
    expect(await storage.read([key])).toEqual({});
  });
});

test('the two storages read each other (same table, same format)', async () => {
  const prisma = new PrismaStorage(db, SECRET);
  const sqlite = new SqliteStateStorage(sqliteOf(db)!, SECRET);
  await prisma.write({ shared: { from: 'prisma' } });
  expect((await sqlite.read(['shared'])).shared).toMatchObject({ from: 'prisma' });
  await sqlite.write({ shared: { from: 'sqlite', eTag: (await sqlite.read(['shared'])).shared.eTag } });
  expect((await prisma.read(['shared'])).shared).toMatchObject({ from: 'sqlite' });
});

test('SQLite gets the fast path', () => {
  expect(createStateStorage(db, SECRET)).toBeInstanceOf(SqliteStateStorage);
});

test('a state write during a Prisma transaction that rolls back is not lost with it', async () => {
  const storage = new SqliteStateStorage(sqliteOf(db)!, SECRET);
  let written: Promise<void> | undefined;
  await expect(
    db.$transaction(async (tx) => {
      await tx.botState.create({ data: { key: 'inside-tx', data: '{}', etag: 'e' } });
      // Another turn saves its state while this transaction is open...
      written = storage.write({ 'other-turn': { n: 1 } });
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('roll back');
    }),
  ).rejects.toThrow('roll back');
  await written;
  // ...and keeps it after the rollback; the transaction's own row is gone.
  expect((await storage.read(['other-turn']))['other-turn']).toMatchObject({ n: 1 });
  expect(await db.botState.findUnique({ where: { key: 'inside-tx' } })).toBeNull();
});
