// botbuilder Storage backed by the database, with eTag optimistic concurrency:
// a write whose eTag no longer matches the stored one is rejected, as
// MemoryStorage and the Azure storages do. '*' (or no eTag) writes always.
//
// Anonymity: botbuilder builds state keys from channel and user ids, and some
// channels use a phone number as the user id. Keys are therefore stored only
// as keyed hashes, so the database never holds a channel identity in clear.
import crypto from 'node:crypto';
import type { StoreItems } from 'botbuilder';
import type { Db } from '../db/prisma';
import { ETagConflictError, type StateStorage } from './stateStorage';
import { keyedHash } from '../util/crypto';

const newETag = (): string => crypto.randomBytes(9).toString('base64url');

export class PrismaStorage implements StateStorage {
  constructor(
    private readonly db: Db,
    private readonly secret: string,
  ) {}

  /** The stored form of a botbuilder state key. */
  storedKey(key: string): string {
    return keyedHash(this.secret, 'state', key);
  }

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys.length) return {};
    const byStored = new Map(keys.map((k) => [this.storedKey(k), k]));
    const rows = await this.db.botState.findMany({ where: { key: { in: [...byStored.keys()] } } });
    const items: StoreItems = {};
    for (const row of rows) items[byStored.get(row.key)!] = { ...JSON.parse(row.data), eTag: row.etag };
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    for (const [rawKey, item] of Object.entries(changes)) {
      const key = this.storedKey(rawKey);
      const { eTag, ...rest } = (item ?? {}) as { eTag?: string } & Record<string, unknown>;
      const data = JSON.stringify(rest);
      const etag = newETag();
      if (!eTag || eTag === '*') {
        await this.db.botState.upsert({ where: { key }, create: { key, data, etag }, update: { data, etag } });
        continue;
      }
      const { count } = await this.db.botState.updateMany({ where: { key, etag: eTag }, data: { data, etag } });
      if (count === 1) continue;
      const exists = await this.db.botState.findUnique({ where: { key }, select: { key: true } });
      if (exists) throw new ETagConflictError(key);
      // The item vanished (e.g. deleted by STOP) since it was read: store it afresh.
      await this.db.botState.create({ data: { key, data, etag } });
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length) await this.db.botState.deleteMany({ where: { key: { in: keys.map((k) => this.storedKey(k)) } } });
  }

  /** Remove the conversation and user state of one conversation (SMS STOP). */
  async deleteConversation(channelId: string, conversationId: string, userId: string): Promise<void> {
    await this.delete([`${channelId}/conversations/${conversationId}/`, `${channelId}/users/${userId}/`]);
  }
}
