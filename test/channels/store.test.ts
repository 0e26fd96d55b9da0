// Both Direct Line stores keep the same stream: numbering, watermarks, pruning.
import path from 'node:path';
import { openDb, sqliteOf, type Db } from '../../bot/db/prisma';
import { PrismaDirectLineStore, SqliteDirectLineStore, createDirectLineStore, type DirectLineStore } from '../../bot/channels/directLine/store';
import { tempDir } from '../helpers/app';

let db: Db;
beforeAll(async () => {
  db = await openDb({ databaseFile: path.join(tempDir(), 'dl.db') });
});
afterAll(async () => db?.$disconnect());

describe.each([
  ['PrismaDirectLineStore (portable)', () => new PrismaDirectLineStore(db) as DirectLineStore],
  ['SqliteDirectLineStore (SQLite fast path)', () => new SqliteDirectLineStore(sqliteOf(db)!) as DirectLineStore],
])('%s', (name, make) => {
  test('append numbers activities, list pages by watermark, prune removes idle conversations', async () => {
    const store = make();
    const id = `conv-${name.length}-${Date.now()}`;
    const created = await store.create(id);
    expect(created).toMatchObject({ id, nextSeq: 0 });
    const first = await store.append(id, [{ type: 'message', text: 'a' }, { type: 'message', text: 'b' }]);
    const second = await store.append(id, [{ type: 'message', text: 'c' }]);
    expect([...first, ...second].map((a) => a.id)).toEqual([`${id}|0000001`, `${id}|0000002`, `${id}|0000003`]);
    expect(await store.list(id, 0)).toMatchObject({ watermark: '3', activities: [{ text: 'a' }, { text: 'b' }, { text: 'c' }] });
    expect(await store.list(id, 2)).toMatchObject({ watermark: '3', activities: [{ text: 'c' }] });
    expect(await store.list(id, 3)).toEqual({ watermark: '3', activities: [] });
    expect((await store.get(id))!.nextSeq).toBe(3);
    expect(await store.get('missing')).toBeNull();
    await expect(store.append('missing', [{ type: 'message' }])).rejects.toThrow();
    expect(await store.prune(new Date(Date.now() - 60_000))).not.toContain(id);
    expect(await store.prune(new Date(Date.now() + 60_000))).toContain(id);
    expect(await store.get(id)).toBeNull();
    expect(await db.dlActivity.count({ where: { conversationId: id } })).toBe(0);
  });
});

test('SQLite gets the fast path', () => {
  expect(createDirectLineStore(db)).toBeInstanceOf(SqliteDirectLineStore);
});
