// API tokens from the command line.
//
//   npm run hub:token -- create --name NAME --scopes referrals:read,referrals:write,export
//   npm run hub:token -- revoke --id TOKEN_ID
//   npm run hub:token -- list
//
// `create` prints the token once; only its SHA-256 is stored.
import { parseArgs } from 'node:util';
import { ApiTokens, TokenError } from '../auth/tokens';
import { SCOPES } from '../constants';
import { CLI_ACTOR, CliError, openHubDb, run } from './common';

const USAGE = `Usage:
  npm run hub:token -- create --name NAME --scopes ${SCOPES.join(',')}
  npm run hub:token -- revoke --id TOKEN_ID
  npm run hub:token -- list`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, id: { type: 'string' } },
    strict: true,
  });
  const { db, audit } = await openHubDb();
  try {
    const tokens = new ApiTokens(db, audit);
    switch (command) {
      case 'create': {
        if (!values.name) throw new CliError(`--name is required.\n${USAGE}`);
        if (!values.scopes) throw new CliError(`--scopes is required (comma-separated: ${SCOPES.join(', ')}).`);
        const { token, record } = await tokens.create({ name: values.name, scopes: values.scopes }, CLI_ACTOR);
        process.stderr.write(`Created token ${record.id} "${record.name}" with scopes ${record.scopeList.join(', ')}.\nCopy it now; it is not shown again:\n`);
        process.stdout.write(`${token}\n`);
        return 0;
      }
      case 'revoke': {
        if (!values.id) throw new CliError(`--id is required.\n${USAGE}`);
        const t = await tokens.revoke(values.id, CLI_ACTOR);
        process.stdout.write(`Revoked token ${t.id} "${t.name}".\n`);
        return 0;
      }
      case 'list': {
        for (const t of await tokens.list()) {
          process.stdout.write(
            `${t.id}\t${t.name}\t${t.scopeList.join(',')}\t${t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'active'}\tlast used ${t.lastUsedAt?.toISOString() ?? 'never'}\n`,
          );
        }
        return 0;
      }
      default:
        throw new CliError(`Unknown command "${command}".\n${USAGE}`);
    }
  } catch (e) {
    if (e instanceof TokenError) throw new CliError(e.message);
    throw e;
  } finally {
    await db.$disconnect();
  }
}

if (require.main === module) void run(() => main(process.argv.slice(2)));
