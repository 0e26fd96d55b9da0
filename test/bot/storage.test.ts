// PrismaStorage honours eTags like botbuilder's own storages.
import path from 'node:path';
import { openDb } from '../../bot/db/prisma';
import { ETagConflictError, PrismaStorage } from '../../bot/storage/prismaStorage';
import { tempDir } from '../helpers/app';

test('read, write, eTag conflict, wildcard and delete', async () => {
  const db = await openDb({ databaseFile: path.join(tempDir(), 's.db') });
  try {
    const storage = new PrismaStorage(db, 'x'.repeat(32));
    await storage.write({ a: { n: 1 } });
    const first = await storage.read(['a', 'missing']);
    expect(first.a).toMatchObject({ n: 1 });
    expect(first.missing).toBeUndefined();
    const etag = first.a.eTag as string;
    await storage.write({ a: { n: 2, eTag: etag } });
    // A writer holding the old eTag loses, and the stored value is unchanged.
    await expect(storage.write({ a: { n: 3, eTag: etag } })).rejects.toBeInstanceOf(ETagConflictError);
    expect((await storage.read(['a'])).a).toMatchObject({ n: 2 });
    await storage.write({ a: { n: 4, eTag: '*' } });
    expect((await storage.read(['a'])).a).toMatchObject({ n: 4 });
    // Keys are stored hashed: the raw key (which may hold a phone number) never is.
    const rows = await db.botState.findMany();
    expect(rows.map((r) => r.key)).toEqual([storage.storedKey('a')]);
    expect(rows[0].key).not.toContain('a/');
    await storage.delete(['a']);
    expect(await storage.read(['a'])).toEqual({});
  } finally {
    await db.$disconnect();
  }
});
