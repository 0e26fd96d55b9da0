// Database-backed staff sessions. The cookie holds 32 random bytes; the
// database holds only their SHA-256, so a copy of the database cannot be used
// to hijack a session.
import crypto from 'node:crypto';
import type { StaffSession, StaffUser } from '@prisma/client';
import type { Db } from '../../bot/db/prisma';
import { SESSION_IDLE_MINUTES, SESSION_TOUCH_SECONDS } from '../constants';

export const sha256Hex = (value: string): string => crypto.createHash('sha256').update(value).digest('hex');
export const randomToken = (bytes = 32): string => crypto.randomBytes(bytes).toString('base64url');

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(String(a)).digest();
  const hb = crypto.createHash('sha256').update(String(b)).digest();
  return crypto.timingSafeEqual(ha, hb) && String(a).length === String(b).length;
}

export interface ActiveSession {
  session: StaffSession;
  user: StaffUser;
}

export class Sessions {
  constructor(
    private readonly db: Db,
    private readonly options: { hours: number; idleMinutes?: number },
  ) {}

  async create(userId: string, now = new Date()): Promise<{ cookieValue: string; session: StaffSession }> {
    const cookieValue = randomToken();
    // Tidy up: this user's ended sessions and anybody's long-expired ones.
    await this.db.staffSession.deleteMany({ where: { expiresAt: { lt: now } } });
    const session = await this.db.staffSession.create({
      data: {
        id: sha256Hex(cookieValue),
        userId,
        csrfToken: randomToken(),
        createdAt: now,
        lastSeenAt: now,
        expiresAt: new Date(now.getTime() + this.options.hours * 3_600_000),
      },
    });
    return { cookieValue, session };
  }

  /** The live session for a cookie value, or null. Ends expired, idle and disabled-user sessions. */
  async lookup(cookieValue: string | undefined, now = new Date()): Promise<ActiveSession | null> {
    if (!cookieValue || cookieValue.length > 200) return null;
    const id = sha256Hex(cookieValue);
    const row = await this.db.staffSession.findUnique({ where: { id }, include: { user: true } });
    if (!row) return null;
    const idleMs = (this.options.idleMinutes ?? SESSION_IDLE_MINUTES) * 60_000;
    if (row.expiresAt <= now || row.lastSeenAt.getTime() + idleMs <= now.getTime() || row.user.disabledAt) {
      await this.db.staffSession.deleteMany({ where: { id } });
      return null;
    }
    if (now.getTime() - row.lastSeenAt.getTime() > SESSION_TOUCH_SECONDS * 1000) {
      await this.db.staffSession.updateMany({ where: { id }, data: { lastSeenAt: now } });
    }
    const { user, ...session } = row;
    return { session, user };
  }

  /** The session was used now (it does not end as idle until the idle limit has passed again). */
  async touch(sessionId: string, now = new Date()): Promise<void> {
    await this.db.staffSession.updateMany({ where: { id: sessionId }, data: { lastSeenAt: now } });
  }

  async destroy(cookieValue: string | undefined): Promise<void> {
    if (!cookieValue) return;
    await this.db.staffSession.deleteMany({ where: { id: sha256Hex(cookieValue) } });
  }
}
