// Staff accounts from the command line. The first admin is made here: the hub
// has no default account and no default password.
//
//   npm run hub:user -- create --username NAME --role triager|supervisor|admin
//   npm run hub:user -- reset-password --username NAME
//   npm run hub:user -- disable --username NAME
//   npm run hub:user -- enable --username NAME
//   npm run hub:user -- unlock --username NAME
//   npm run hub:user -- list
//
// Passwords are prompted for (not echoed) or read from HUB_PASSWORD when set.
import { parseArgs } from 'node:util';
import { passwordProblem } from '../auth/passwords';
import { StaffUsers, UserError, normaliseUsername } from '../auth/users';
import { ROLES } from '../constants';
import { CLI_ACTOR, CliError, openHubDb, readSecret, run } from './common';

const USAGE = `Usage:
  npm run hub:user -- create --username NAME --role ${ROLES.join('|')}
  npm run hub:user -- reset-password --username NAME
  npm run hub:user -- disable --username NAME
  npm run hub:user -- enable --username NAME
  npm run hub:user -- unlock --username NAME
  npm run hub:user -- list
The password is prompted for, or read from HUB_PASSWORD when set.`;

async function newPassword(username: string): Promise<string> {
  const fromEnv = process.env.HUB_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') {
    const problem = passwordProblem(fromEnv, username);
    if (problem) throw new CliError(`HUB_PASSWORD: ${problem}`);
    return fromEnv;
  }
  const first = await readSecret(`Password for ${username}: `);
  const problem = passwordProblem(first, username);
  if (problem) throw new CliError(problem);
  const second = await readSecret('Password again: ');
  if (first !== second) throw new CliError('The passwords do not match.');
  return first;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: { username: { type: 'string' }, role: { type: 'string' } },
    strict: true,
  });
  const needUser = (): string => {
    if (!values.username) throw new CliError(`--username is required.\n${USAGE}`);
    return normaliseUsername(values.username);
  };
  const { db, audit } = await openHubDb();
  try {
    const users = new StaffUsers(db, audit);
    switch (command) {
      case 'create': {
        const username = needUser();
        if (!values.role || !(ROLES as readonly string[]).includes(values.role)) throw new CliError(`--role must be one of: ${ROLES.join(', ')}.`);
        if (await users.find(username)) throw new CliError(`There is already an account called ${username}.`);
        const password = await newPassword(username);
        const user = await users.create({ username, role: values.role, password }, CLI_ACTOR);
        process.stdout.write(`Created ${user.role} ${user.username}. Sign in at /hub/login.\n`);
        return 0;
      }
      case 'reset-password': {
        const username = needUser();
        if (!(await users.find(username))) throw new CliError(`No account called ${username}.`);
        const password = await newPassword(username);
        await users.resetPassword(username, password, CLI_ACTOR);
        process.stdout.write(`Password set for ${username}; the account is unlocked and its sessions ended.\n`);
        return 0;
      }
      case 'disable':
      case 'enable': {
        const username = needUser();
        await users.setDisabled(username, command === 'disable', CLI_ACTOR);
        process.stdout.write(`${command === 'disable' ? 'Disabled' : 'Enabled'} ${username}.\n`);
        return 0;
      }
      case 'unlock': {
        const username = needUser();
        await users.unlock(username, CLI_ACTOR);
        process.stdout.write(`Unlocked ${username}.\n`);
        return 0;
      }
      case 'list': {
        const now = new Date();
        for (const u of await users.list()) {
          const state = u.disabledAt ? 'disabled' : u.lockedUntil && u.lockedUntil > now ? `locked until ${u.lockedUntil.toISOString()}` : 'active';
          process.stdout.write(`${u.username}\t${u.role}\t${state}\tlast sign-in ${u.lastLoginAt?.toISOString() ?? 'never'}\n`);
        }
        return 0;
      }
      default:
        throw new CliError(`Unknown command "${command}".\n${USAGE}`);
    }
  } catch (e) {
    if (e instanceof UserError) throw new CliError(e.message);
    throw e;
  } finally {
    await db.$disconnect();
  }
}

if (require.main === module) void run(() => main(process.argv.slice(2)));
