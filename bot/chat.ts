// `npm run chat`: talk to SpeakSafe in the terminal, for content editors and
// developers. Runs the real bot in process against the configured database.
import readline from 'node:readline';
import crypto from 'node:crypto';
import { createApp } from './app';
import { loadConfig } from './config';
import { silentLogger } from './util/logger';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' });
  const app = await createApp(config, { logger: silentLogger });
  const conversationId = `terminal-${crypto.randomUUID()}`;
  const userId = 'terminal-user';
  let options: string[] = [];
  const show = (replies: Awaited<ReturnType<typeof app.services.runner.run>>): void => {
    for (const r of replies) {
      if (r.text) process.stdout.write(`\nSpeakSafe: ${r.text}\n`);
      options = (r.suggestedActions?.actions ?? []).map((a) => String(a.title));
      options.forEach((o, i) => process.stdout.write(`   ${i + 1}. ${o}\n`));
    }
  };
  process.stdout.write('SpeakSafe terminal chat. Type a message, a number to pick an option, or /quit.\n');
  show(await app.services.runner.run({ type: 'conversationUpdate', membersAdded: [{ id: userId, name: '' }], channelId: 'emulator', conversationId, userId }));
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: '\nYou: ' });
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/quit' || text === '/exit') break;
    if (text) show(await app.services.runner.run({ channelId: 'emulator', conversationId, userId, text }));
    rl.prompt();
  }
  rl.close();
  await app.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
