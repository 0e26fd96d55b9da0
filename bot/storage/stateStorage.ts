// What SpeakSafe needs of a bot state store, and the one to use for a database.
import type { Storage } from 'botbuilder';
import { sqliteOf, type Db } from '../db/prisma';
import { PrismaStorage } from './prismaStorage';
import { SqliteStateStorage } from './sqliteStorage';

/** botbuilder's Storage plus hashed keys and per-conversation deletion. */
export interface StateStorage extends Storage {
  storedKey(key: string): string;
  deleteConversation(channelId: string, conversationId: string, userId: string): Promise<void>;
}

export class ETagConflictError extends Error {
  constructor(key: string) {
    super(`Storage: eTag conflict for ${key}`);
    this.name = 'ETagConflictError';
  }
}

/** The fastest storage for this database: prepared statements on SQLite, Prisma elsewhere. */
export function createStateStorage(db: Db, secret: string): StateStorage {
  const sqlite = sqliteOf(db);
  return sqlite ? new SqliteStateStorage(sqlite, secret) : new PrismaStorage(db, secret);
}
