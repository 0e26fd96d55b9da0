// Shared plumbing for the hub command-line tools.
import { loadConfig } from '../../bot/config';
import { openDb, type Db } from '../../bot/db/prisma';
import { AuditLogService, type Actor } from '../audit';

export const CLI_ACTOR: Actor = { type: 'system', id: 'cli' };

/** Open the database the way the app does (same file, migrations applied). */
export async function openHubDb(): Promise<{ db: Db; audit: AuditLogService }> {
  const config = loadConfig();
  const db = await openDb({ databaseFile: config.databaseFile });
  return { db, audit: new AuditLogService(db) };
}

export class CliError extends Error {}

/** Read a line from the terminal without echoing it, or one line from piped input. */
export async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    process.stderr.write(prompt);
    return readLine();
  }
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new CliError('Cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

let pipedLines: string[] | undefined;
async function readLine(): Promise<string> {
  if (!pipedLines) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
    pipedLines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  }
  return pipedLines.shift() ?? '';
}

export async function run(main: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await main()) ?? 0;
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof CliError ? 2 : 1;
  }
}
