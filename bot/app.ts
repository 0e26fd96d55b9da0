// Builds one SpeakSafe service: storage, content, NLU, bot, channels, hub and
// the HTTP server. bot/index.ts runs it; tests and benchmarks create their own.
import path from 'node:path';
import { SpeakSafeConversationState, SpeakSafeUserState } from './storage/botStates';
import * as restify from 'restify';
import { registerHub } from '../hub';
import { MainDialog, type Profile } from '../dialogs/mainDialog';
import type { SafetyState } from '../dialogs/turn';
import { registerBotFramework, createCloudAdapter } from './channels/botFramework';
import { BotRunner } from './channels/botRunner';
import { channelsOf, registerChannels } from './channels';
import { SMS_PATH } from './channels/sms';
import type { Config } from './config';
import { loadContent } from './content';
import { openDb, pingDb } from './db/prisma';
import { NluService } from './nlu/nlu';
import { ReferralDomain } from './referrals/domain';
import { OutboxWorker } from './referrals/outbox';
import { ReferralStore } from './referrals/repository';
import { loadDangerRules } from './safety/danger';
import type { Services } from './services';
import { SpeakSafeBot } from './speakSafeBot';
import { createStateStorage } from './storage/stateStorage';
import { createLogger, type Logger } from './util/logger';
import { resolveSecrets } from './util/secrets';
import { sendSafetyFallback } from '../dialogs/safety';

export interface App {
  server: restify.Server;
  services: Services;
  bot: SpeakSafeBot;
  dialog: MainDialog;
  outbox: OutboxWorker;
  listen(): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

/** The deepest JSON body accepted (Bot Framework activities and cards are far shallower). */
export const MAX_BODY_DEPTH = 64;

/** True when a parsed body has objects or arrays nested more than `max` levels. Iterative: never recurses. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  if (!value || typeof value !== 'object' || Buffer.isBuffer(value)) return false;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const child of Object.values(node)) {
      if (child && typeof child === 'object' && !Buffer.isBuffer(child)) stack.push([child as object, depth + 1]);
    }
  }
  return false;
}

function refuse(res: restify.Response, status: number, code: string, message: string, next: restify.Next): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.sendRaw(status, JSON.stringify({ error: { code, message } }));
  next(false);
}

export async function createApp(config: Config, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const startedAt = new Date();
  const secrets = resolveSecrets(config);
  const content = loadContent({ dir: config.CONTENT_DIR, area: config.AREA, locale: config.LOCALE });
  const [db, nlu] = await Promise.all([
    openDb({ databaseFile: config.databaseFile, busyTimeoutMs: config.DB_BUSY_TIMEOUT_MS }),
    NluService.train({ contentDir: path.join(content.dir, 'nlu'), locales: [content.locale], threshold: config.NLU_THRESHOLD }),
  ]);
  const dangerRules = loadDangerRules(path.join(content.dir, 'safety', 'danger-phrases.yml'));
  const storage = createStateStorage(db, secrets.identityHashSecret);
  const conversationState = new SpeakSafeConversationState(storage);
  const userState = new SpeakSafeUserState(storage);
  const referrals = new ReferralStore(db, { contactKey: secrets.contactEncryptionKey, publicBaseUrl: config.publicBaseUrl });
  const referralDomain = new ReferralDomain(content.dir, content.area);
  const dialog = new MainDialog({
    content,
    referrals,
    domain: referralDomain,
    logger,
    profile: userState.createProperty<Profile>('profile'),
    safety: conversationState.createProperty<SafetyState>('safety'),
  });
  const bot = new SpeakSafeBot({
    content,
    nlu,
    dangerRules,
    conversationState,
    userState,
    dialog,
    logger,
    maxMessageChars: config.MAX_MESSAGE_CHARS,
  });
  const runner = new BotRunner(bot);
  const services: Services = {
    config,
    logger,
    db,
    secrets,
    content,
    nlu,
    dangerRules,
    storage,
    conversationState,
    userState,
    referrals,
    referralDomain,
    runner,
    startedAt,
  };

  const server = restify.createServer({ name: 'speaksafe', handleUncaughtExceptions: false });
  server.pre(restify.plugins.pre.dedupeSlashes());
  // restify's body reader gunzips with no limit on the inflated size (a gzip
  // bomb passes MAX_BODY_BYTES) and a corrupt gzip body crashes the process.
  // No client of ours compresses requests: refuse any Content-Encoding.
  server.pre((req: restify.Request, res: restify.Response, next: restify.Next) => {
    const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      res.setHeader('Accept-Encoding', 'identity');
      return refuse(res, 415, 'UnsupportedMediaType', 'Compressed request bodies are not accepted.', next);
    }
    return next();
  });
  server.use(restify.plugins.queryParser({ mapParams: false }));
  // Uploaded files are discarded, never written to disk.
  // The SMS webhook parses its own form from the raw body (its signature is
  // checked against every field exactly as sent), so restify's own form
  // parse (qs, ~5% of an SMS request) is skipped there: restify's parser does
  // nothing for a request it has marked as parsed; the body is still read,
  // with the same size limit.
  server.use((req: restify.Request, _res: restify.Response, next: restify.Next) => {
    if (req.getPath() === SMS_PATH) (req as restify.Request & { _parsedBody?: boolean })._parsedBody = true;
    return next();
  });
  server.use(restify.plugins.bodyParser({ mapParams: false, maxBodySize: config.MAX_BODY_BYTES, multipartFileHandler: () => undefined }));
  // JSON nested deeper than any client sends would overflow the stack where it
  // is copied or serialised (web chat transcripts, bot state): refuse it here.
  server.use((req: restify.Request, res: restify.Response, next: restify.Next) => {
    if (nestedDeeperThan(req.body, MAX_BODY_DEPTH)) return refuse(res, 400, 'BadRequest', 'The request body is nested too deeply.', next);
    return next();
  });
  // Anonymity: no access log with addresses or user agents is ever written.

  server.get('/healthz', async (_req: restify.Request, res: restify.Response) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });
  server.get('/readyz', async (_req: restify.Request, res: restify.Response) => {
    const database = await pingDb(db);
    const ready = database && nlu.ready;
    res.status(ready ? 200 : 503);
    res.json({ status: ready ? 'ready' : 'not ready', database, nlu: nlu.ready });
  });

  const adapter = createCloudAdapter(config, logger, (context) => sendSafetyFallback(context, content));
  registerBotFramework(server, { config, adapter, bot, logger, secret: secrets.identityHashSecret });
  registerChannels(server, services);
  registerHub(server, services);

  const outbox = new OutboxWorker(db, { webhookUrl: config.HUB_ALERT_WEBHOOK_URL, pollMs: config.OUTBOX_POLL_MS }, logger);

  let closed = false;
  return {
    server,
    services,
    bot,
    dialog,
    outbox,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => {
          const address = server.address() as { port: number };
          outbox.start();
          const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
          resolve({ url: `http://${host}:${address.port}`, port: address.port });
        });
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      // Let replies already in progress (slow SMS, web chat turns) finish.
      await Promise.all([channelsOf(server).directLine.idle(), channelsOf(server).sms.idle()]);
      await outbox.stop();
      await new Promise<void>((resolve) => {
        if (!server.server.listening) return resolve();
        server.close(() => resolve());
        // Idle keep-alive sockets would hold close() open.
        (server.server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
      await db.$disconnect();
    },
  };
}
