// Staff accounts: creation, sign-in with lockout, disabling, password resets.
import crypto from 'node:crypto';
import type { StaffUser } from '@prisma/client';
import type { Db } from '../../bot/db/prisma';
import { appendAudit, type Actor, type AuditLogService } from '../audit';
import { LOCKOUT_MINUTES, LOCKOUT_THRESHOLD, ROLES, type Role } from '../constants';
import { dummyVerify, hashPassword, passwordProblem, verifyPassword } from './passwords';

export class UserError extends Error {
  constructor(
    message: string,
    readonly code: 'invalid' | 'exists' | 'not_found' | 'last_admin',
  ) {
    super(message);
  }
}

export type PublicUser = Pick<StaffUser, 'id' | 'username' | 'role' | 'createdAt' | 'lockedUntil' | 'disabledAt' | 'lastLoginAt' | 'failedLogins'>;

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{2,63}$/;

export function normaliseUsername(username: string): string {
  return String(username ?? '').trim().toLowerCase();
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export type SignInResult =
  | { ok: true; user: StaffUser }
  | { ok: false; reason: 'unknown' | 'bad_password' | 'locked' | 'disabled'; lockedNow?: boolean };

const publicSelect = {
  id: true,
  username: true,
  role: true,
  createdAt: true,
  lockedUntil: true,
  disabledAt: true,
  lastLoginAt: true,
  failedLogins: true,
} as const;

export class StaffUsers {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLogService,
  ) {}

  async create(input: { username: string; role: string; password: string }, actor: Actor): Promise<PublicUser> {
    const username = normaliseUsername(input.username);
    if (!USERNAME_PATTERN.test(username)) {
      throw new UserError('Usernames are 3 to 64 characters: lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.', 'invalid');
    }
    if (!isRole(input.role)) throw new UserError(`Role must be one of: ${ROLES.join(', ')}.`, 'invalid');
    const problem = passwordProblem(input.password, username);
    if (problem) throw new UserError(problem, 'invalid');
    if (await this.db.staffUser.findUnique({ where: { username }, select: { id: true } })) {
      throw new UserError(`There is already an account called ${username}.`, 'exists');
    }
    const passwordHash = await hashPassword(input.password);
    const id = crypto.randomUUID();
    return this.audit.transaction(async (tx) => {
      const user = await tx.staffUser.create({ data: { id, username, role: input.role, passwordHash }, select: publicSelect });
      await appendAudit(tx, actor, { action: 'user.create', target: `user:${id}`, detail: { username, role: input.role } });
      return user;
    });
  }

  async list(): Promise<PublicUser[]> {
    return this.db.staffUser.findMany({ select: publicSelect, orderBy: { username: 'asc' } });
  }

  async find(idOrUsername: string): Promise<PublicUser | null> {
    return this.db.staffUser.findFirst({
      where: { OR: [{ id: idOrUsername }, { username: normaliseUsername(idOrUsername) }] },
      select: publicSelect,
    });
  }

  async count(): Promise<number> {
    return this.db.staffUser.count();
  }

  /**
   * Check a username and password. The caller shows the same message for every
   * failure. Every path does one argon2 verification, so timing says nothing
   * about whether the account exists.
   */
  async signIn(usernameInput: string, password: string, now = new Date()): Promise<SignInResult> {
    const username = normaliseUsername(usernameInput);
    const user = username ? await this.db.staffUser.findUnique({ where: { username } }) : null;
    if (!user) {
      await dummyVerify(password);
      await this.audit.record({ type: 'system', id: null }, { action: 'login.failed', detail: { reason: 'unknown_user' } });
      return { ok: false, reason: 'unknown' };
    }
    const attempt = await this.passwordAttempt(user, password, 'login.failed', now);
    if (!attempt.ok) return attempt;
    const fresh = await this.audit.transaction(async (tx) => {
      const u = await tx.staffUser.update({
        where: { id: user.id },
        data: { failedLogins: 0, lockedUntil: null, lastLoginAt: now },
      });
      await appendAudit(tx, { type: 'staff', id: user.id }, { action: 'login.succeeded', target: `user:${user.id}` });
      return u;
    });
    return { ok: true, user: fresh };
  }

  /**
   * One guess at an account's password, counted BEFORE the (slow) check in one atomic
   * statement: guesses sent at the same moment cannot all be checked before the count
   * catches up. At LOCKOUT_THRESHOLD failures the account locks for LOCKOUT_MINUTES;
   * while it is locked (or disabled) no guess is judged, right or wrong.
   */
  private async passwordAttempt(
    user: StaffUser,
    password: string,
    failedAction: 'login.failed' | 'password_change.failed',
    now: Date,
  ): Promise<{ ok: true } | { ok: false; reason: 'disabled' | 'locked' | 'bad_password'; lockedNow?: boolean }> {
    const actor: Actor = { type: 'staff', id: user.id };
    const target = `user:${user.id}`;
    const counted = await this.db.staffUser.updateMany({
      where: { id: user.id, disabledAt: null, failedLogins: { lt: LOCKOUT_THRESHOLD }, OR: [{ lockedUntil: null }, { lockedUntil: { lte: now } }] },
      data: { failedLogins: { increment: 1 } },
    });
    const passwordOk = await verifyPassword(user.passwordHash, password);
    if (user.disabledAt) {
      await this.audit.record(actor, { action: failedAction, target, detail: { reason: 'disabled' } });
      return { ok: false, reason: 'disabled' };
    }
    if (counted.count === 0) {
      await this.audit.record(actor, { action: failedAction, target, detail: { reason: 'locked' } });
      return { ok: false, reason: 'locked' };
    }
    if (passwordOk) {
      // Give back this attempt (the caller resets the count on a sign-in).
      await this.db.staffUser.updateMany({ where: { id: user.id, failedLogins: { gt: 0 } }, data: { failedLogins: { decrement: 1 } } });
      return { ok: true };
    }
    return this.audit.transaction(async (tx) => {
      const { failedLogins } = await tx.staffUser.findUniqueOrThrow({ where: { id: user.id }, select: { failedLogins: true } });
      await appendAudit(tx, actor, { action: failedAction, target, detail: { reason: 'bad_password', failedLogins } });
      // Only one of several simultaneous failures locks the account (the one that finds it unlocked).
      const locked = await tx.staffUser.updateMany({
        where: { id: user.id, failedLogins: { gte: LOCKOUT_THRESHOLD } },
        data: { failedLogins: 0, lockedUntil: new Date(now.getTime() + LOCKOUT_MINUTES * 60_000) },
      });
      if (locked.count > 0) {
        // A locked account's sessions end: whoever is guessing may be holding one.
        await tx.staffSession.deleteMany({ where: { userId: user.id } });
        await appendAudit(tx, { type: 'system', id: null }, { action: 'user.locked', target, detail: { minutes: LOCKOUT_MINUTES } });
      }
      return { ok: false as const, reason: 'bad_password' as const, lockedNow: locked.count > 0 };
    });
  }

  async setDisabled(idOrUsername: string, disabled: boolean, actor: Actor): Promise<PublicUser> {
    const user = await this.require(idOrUsername);
    if (disabled && user.role === 'admin' && !user.disabledAt) await this.assertNotLastAdmin(user.id);
    return this.audit.transaction(async (tx) => {
      const u = await tx.staffUser.update({
        where: { id: user.id },
        data: disabled ? { disabledAt: new Date() } : { disabledAt: null, failedLogins: 0, lockedUntil: null },
        select: publicSelect,
      });
      if (disabled) await tx.staffSession.deleteMany({ where: { userId: user.id } });
      await appendAudit(tx, actor, { action: disabled ? 'user.disable' : 'user.enable', target: `user:${user.id}` });
      return u;
    });
  }

  async unlock(idOrUsername: string, actor: Actor): Promise<PublicUser> {
    const user = await this.require(idOrUsername);
    return this.audit.transaction(async (tx) => {
      const u = await tx.staffUser.update({ where: { id: user.id }, data: { failedLogins: 0, lockedUntil: null }, select: publicSelect });
      await appendAudit(tx, actor, { action: 'user.unlock', target: `user:${user.id}` });
      return u;
    });
  }

  /** Set a new password, unlock the account and end its sessions. */
  async resetPassword(idOrUsername: string, password: string, actor: Actor): Promise<PublicUser> {
    const user = await this.require(idOrUsername);
    const problem = passwordProblem(password, user.username);
    if (problem) throw new UserError(problem, 'invalid');
    const passwordHash = await hashPassword(password);
    return this.audit.transaction(async (tx) => {
      const u = await tx.staffUser.update({
        where: { id: user.id },
        data: { passwordHash, failedLogins: 0, lockedUntil: null },
        select: publicSelect,
      });
      await tx.staffSession.deleteMany({ where: { userId: user.id } });
      await appendAudit(tx, actor, { action: 'user.password_reset', target: `user:${user.id}` });
      return u;
    });
  }

  /**
   * A signed-in user changes their own password (needs the current one). A wrong current
   * password counts as a failed sign-in (audited, and it locks the account at the threshold);
   * a change ends every other session of the account.
   */
  async changeOwnPassword(userId: string, current: string, next: string, keepSessionId?: string, now = new Date()): Promise<void> {
    const user = await this.db.staffUser.findUnique({ where: { id: userId } });
    if (!user) throw new UserError('Your current password was not recognised.', 'invalid');
    const attempt = await this.passwordAttempt(user, current, 'password_change.failed', now);
    if (!attempt.ok) throw new UserError('Your current password was not recognised.', 'invalid');
    const problem = passwordProblem(next, user.username);
    if (problem) throw new UserError(problem, 'invalid');
    const passwordHash = await hashPassword(next);
    await this.audit.transaction(async (tx) => {
      await tx.staffUser.update({ where: { id: userId }, data: { passwordHash, failedLogins: 0 } });
      await tx.staffSession.deleteMany({ where: { userId, ...(keepSessionId ? { id: { not: keepSessionId } } : {}) } });
      await appendAudit(tx, { type: 'staff', id: userId }, { action: 'user.password_change', target: `user:${userId}` });
    });
  }

  private async require(idOrUsername: string): Promise<PublicUser> {
    const user = await this.find(idOrUsername);
    if (!user) throw new UserError('No such account.', 'not_found');
    return user;
  }

  private async assertNotLastAdmin(userId: string): Promise<void> {
    const others = await this.db.staffUser.count({ where: { role: 'admin', disabledAt: null, id: { not: userId } } });
    if (others === 0) throw new UserError('This is the last active admin account; create another admin first.', 'last_admin');
  }
}
