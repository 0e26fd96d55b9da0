// Entry point: `npm start`. Validates configuration, starts the service, and
// shuts down gracefully on SIGTERM/SIGINT.
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './util/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const started = Date.now();
  const app = await createApp(config, { logger });
  const { url } = await app.listen();
  logger.info({ url, startupMs: Date.now() - started, area: config.AREA, azureAuth: config.azureAuth }, 'SpeakSafe is listening');
  if (!config.azureAuth) logger.info('No Azure Bot credentials: /api/messages serves loopback callers only');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10000);
    force.unref();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`SpeakSafe failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
