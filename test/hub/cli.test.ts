// The command-line tools: creating the first admin (no default password),
// and creating, listing and revoking API tokens.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../../bot/db/prisma';
import { verifyPassword } from '../../hub/auth/passwords';
import { sha256Hex } from '../../hub/auth/sessions';
import { main as tokenMain } from '../../hub/cli/token';
import { main as userMain } from '../../hub/cli/user';

const root = path.resolve(__dirname, '..', '..');
let dir: string;
let dbFile: string;
let db: Db;
const saved = { ...process.env };
let out: string[];
let err: string[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speaksafe-hubcli-'));
  dbFile = path.join(dir, 'cli.db');
  process.env.DATABASE_URL = `file:${dbFile}`;
  db = await openDb({ databaseFile: dbFile });
});
afterAll(async () => {
  await db.$disconnect();
  process.env = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  out = [];
  err = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  delete process.env.HUB_PASSWORD;
});
afterEach(() => jest.restoreAllMocks());

describe('hub:user', () => {
  test('create reads HUB_PASSWORD, hashes it with argon2id and audits the creation', async () => {
    process.env.HUB_PASSWORD = 'granite meadow lantern 31';
    expect(await userMain(['create', '--username', 'First.Admin', '--role', 'admin'])).toBe(0);
    const user = await db.staffUser.findUniqueOrThrow({ where: { username: 'first.admin' } });
    expect(user.role).toBe('admin');
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(user.passwordHash, 'granite meadow lantern 31')).toBe(true);
    expect(out.join('')).not.toContain('granite');
    const audit = await db.auditLog.findFirstOrThrow({ where: { action: 'user.create' } });
    expect(audit).toMatchObject({ actorType: 'system', actorId: 'cli', target: `user:${user.id}` });
  });

  test('weak passwords, bad roles and duplicates are refused', async () => {
    process.env.HUB_PASSWORD = 'password';
    await expect(userMain(['create', '--username', 'weak', '--role', 'triager'])).rejects.toThrow(/at least 12 characters/);
    process.env.HUB_PASSWORD = 'letmein12345';
    await expect(userMain(['create', '--username', 'weak', '--role', 'triager'])).rejects.toThrow(/too common/);
    process.env.HUB_PASSWORD = 'granite meadow lantern 31';
    await expect(userMain(['create', '--username', 'x2', '--role', 'root'])).rejects.toThrow(/--role must be one of/);
    await expect(userMain(['create', '--username', 'first.admin', '--role', 'admin'])).rejects.toThrow(/already an account/);
    expect(await db.staffUser.count({ where: { username: 'weak' } })).toBe(0);
  });

  test('list, disable, enable, unlock and reset-password', async () => {
    process.env.HUB_PASSWORD = 'copper willow compass 88';
    await userMain(['create', '--username', 'tri', '--role', 'triager']);
    await db.staffUser.update({ where: { username: 'tri' }, data: { lockedUntil: new Date(Date.now() + 600_000), failedLogins: 3 } });
    expect(await userMain(['unlock', '--username', 'tri'])).toBe(0);
    expect((await db.staffUser.findUniqueOrThrow({ where: { username: 'tri' } })).lockedUntil).toBeNull();
    expect(await userMain(['disable', '--username', 'tri'])).toBe(0);
    out = [];
    await userMain(['list']);
    expect(out.join('')).toMatch(/tri\ttriager\tdisabled/);
    await userMain(['enable', '--username', 'tri']);
    process.env.HUB_PASSWORD = 'saffron tundra beacon 54';
    expect(await userMain(['reset-password', '--username', 'tri'])).toBe(0);
    const user = await db.staffUser.findUniqueOrThrow({ where: { username: 'tri' } });
    expect(await verifyPassword(user.passwordHash, 'saffron tundra beacon 54')).toBe(true);
    await expect(userMain(['disable', '--username', 'first.admin'])).rejects.toThrow(/last active admin/);
  });

  test('run as a script, it prompts for the password twice (here from a pipe)', () => {
    const env = { ...saved, DATABASE_URL: `file:${dbFile}`, NODE_ENV: 'test', LOG_LEVEL: 'silent' };
    delete (env as Record<string, string | undefined>).HUB_PASSWORD;
    const run = spawnSync(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'hub/cli/user.ts', 'create', '--username', 'piped', '--role', 'supervisor'], {
      cwd: root,
      env,
      input: 'harbour saffron violin 64\nharbour saffron violin 64\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toContain('Password for piped');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Created supervisor piped');
    const mismatch = spawnSync(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'hub/cli/user.ts', 'create', '--username', 'piped2', '--role', 'triager'], {
      cwd: root,
      env,
      input: 'harbour saffron violin 64\nsomething else entirely\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(mismatch.status).not.toBe(0);
    expect(mismatch.stderr).toContain('do not match');
  });
});

describe('hub:token', () => {
  test('create prints the token once and stores only its hash; revoke and list work', async () => {
    expect(await tokenMain(['create', '--name', 'Police system', '--scopes', 'referrals:read,referrals:write'])).toBe(0);
    const token = out.join('').trim();
    expect(token).toMatch(/^sshub_[A-Za-z0-9_-]{43}$/);
    const row = await db.apiToken.findUniqueOrThrow({ where: { tokenHash: sha256Hex(token) } });
    expect(row.scopes).toBe('referrals:read,referrals:write');
    expect(JSON.stringify(row)).not.toContain(token);
    out = [];
    await tokenMain(['list']);
    expect(out.join('')).toContain(`${row.id}\tPolice system\treferrals:read,referrals:write\tactive`);
    expect(out.join('')).not.toContain(token);
    expect(await tokenMain(['revoke', '--id', row.id])).toBe(0);
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).toBeInstanceOf(Date);
    await expect(tokenMain(['create', '--name', 'x', '--scopes', 'superuser'])).rejects.toThrow(/Unknown scope/);
    await expect(tokenMain(['revoke', '--id', 'nope'])).rejects.toThrow(/No such token/);
  });
});
