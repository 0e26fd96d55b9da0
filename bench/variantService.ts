// SpeakSafe with one part taken out, for `npm run bench -- --variant=<name>`: an
// experiment that shows what a part costs under load, never a way to run the
// service. It starts exactly what `npm start` starts (bot/app.ts), then
// replaces one thing in memory before listening:
//
//   channel-only   every turn returns a copy of the replies of one real turn
//                  (taken at start-up), so an SMS or Direct Line request does
//                  all of its channel's work (signature, hashing, rate limits,
//                  opt-out read, rendering, TwiML or transcript) but no NLU,
//                  dialogs or bot state.
//   memory-state   bot state (conversation, user, SMS opt-out) lives in
//                  botbuilder's MemoryStorage instead of SQLite: the whole turn
//                  runs, nothing of it is durable.
//
// Logs the same "listening" line as bot/index.ts, so bench/lib/child.ts finds it.
import { MemoryStorage, type StoreItems } from 'botbuilder';
import { createApp } from '../bot/app';
import { loadConfig } from '../bot/config';
import { createLogger } from '../bot/util/logger';
import { VARIANTS, type Variant } from './lib/variants';

async function main(): Promise<void> {
  const variant = process.env.BENCH_VARIANT as Variant;
  if (!VARIANTS.includes(variant)) throw new Error(`BENCH_VARIANT must be one of ${VARIANTS.join(', ')}`);
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const started = Date.now();
  const app = await createApp(config, { logger });
  const { services } = app;

  if (variant === 'channel-only') {
    // The first turn of a new SMS conversation, as the sms phase sends it.
    const replies = await services.runner.run({ channelId: 'sms', conversationId: 'variant', userId: 'variant', text: 'what is cuckooing' });
    const json = JSON.stringify(replies);
    // Every channel's turn goes through BotRunner.turn (run calls it too): stub that one.
    services.runner.turn = () => Promise.resolve({ replies: JSON.parse(json), sensitiveInput: false });
  } else {
    const memory = new MemoryStorage();
    const storage = services.storage;
    storage.read = (keys: string[]) => memory.read(keys);
    storage.write = (changes: StoreItems) => memory.write(changes);
    storage.delete = (keys: string[]) => memory.delete(keys);
  }

  const { url } = await app.listen();
  logger.info({ url, startupMs: Date.now() - started, variant }, 'SpeakSafe (bench variant) is listening');
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench variant failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
