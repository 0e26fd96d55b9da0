// API bearer tokens. The token is shown once, at creation; the database keeps
// its SHA-256 only (tokens are 256-bit random, so a fast hash is enough).
import crypto from 'node:crypto';
import type { ApiToken } from '@prisma/client';
import type { Db } from '../../bot/db/prisma';
import { appendAudit, type Actor, type AuditLogService } from '../audit';
import { SCOPES, type Scope } from '../constants';
import { randomToken, sha256Hex } from './sessions';

export const TOKEN_PREFIX = 'sshub_';
const TOUCH_MS = 60_000;

export class TokenError extends Error {}

export type PublicToken = Omit<ApiToken, 'tokenHash'> & { scopeList: Scope[] };

export function parseScopes(input: unknown): Scope[] {
  const raw = Array.isArray(input) ? input.map(String) : String(input ?? '').split(',');
  const scopes = [...new Set(raw.map((s) => s.trim()).filter(Boolean))];
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new TokenError(`Unknown scope ${unknown.join(', ')}. Scopes are: ${SCOPES.join(', ')}.`);
  if (scopes.length === 0) throw new TokenError(`Give at least one scope: ${SCOPES.join(', ')}.`);
  return scopes as Scope[];
}

const toPublic = ({ tokenHash: _hash, ...t }: ApiToken): PublicToken => ({
  ...t,
  scopeList: t.scopes.split(',').filter(Boolean) as Scope[],
});

export class ApiTokens {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLogService,
  ) {}

  async create(input: { name: string; scopes: unknown }, actor: Actor): Promise<{ token: string; record: PublicToken }> {
    const name = String(input.name ?? '').trim();
    if (!name || name.length > 100) throw new TokenError('Give the token a name of 1 to 100 characters (what system uses it).');
    const scopes = parseScopes(input.scopes);
    const token = TOKEN_PREFIX + randomToken(32);
    const id = crypto.randomUUID();
    const record = await this.audit.transaction(async (tx) => {
      const row = await tx.apiToken.create({
        data: {
          id,
          name,
          tokenHash: sha256Hex(token),
          scopes: scopes.join(','),
          createdById: actor.type === 'staff' ? actor.id : null,
        },
      });
      await appendAudit(tx, actor, { action: 'token.create', target: `token:${id}`, detail: { name, scopes } });
      return row;
    });
    return { token, record: toPublic(record) };
  }

  async revoke(id: string, actor: Actor): Promise<PublicToken> {
    return this.audit.transaction(async (tx) => {
      const row = await tx.apiToken.findUnique({ where: { id } });
      if (!row) throw new TokenError('No such token.');
      if (row.revokedAt) return toPublic(row);
      const updated = await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
      await appendAudit(tx, actor, { action: 'token.revoke', target: `token:${id}`, detail: { name: row.name } });
      return toPublic(updated);
    });
  }

  async list(): Promise<PublicToken[]> {
    return (await this.db.apiToken.findMany({ orderBy: { createdAt: 'desc' } })).map(toPublic);
  }

  /** The live token for a bearer value, or null if unknown or revoked. */
  async authenticate(bearer: string | undefined, now = new Date()): Promise<PublicToken | null> {
    if (!bearer || !bearer.startsWith(TOKEN_PREFIX) || bearer.length > 200) return null;
    const row = await this.db.apiToken.findUnique({ where: { tokenHash: sha256Hex(bearer) } });
    if (!row || row.revokedAt) return null;
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOUCH_MS) {
      await this.db.apiToken.updateMany({ where: { id: row.id }, data: { lastUsedAt: now } });
    }
    return toPublic(row);
  }
}
