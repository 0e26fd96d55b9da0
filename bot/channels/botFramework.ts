// POST /api/messages: the Bot Framework endpoint (Azure Bot Service channels,
// Bot Framework Emulator, tests and benchmarks with deliveryMode expectReplies).
//
// With Azure credentials, CloudAdapter authenticates every request. Without
// them the adapter would accept anyone and post replies to any serviceUrl the
// caller names, so then only loopback callers are served (unless
// ALLOW_UNAUTHENTICATED_REMOTE is set), replies to a serviceUrl may only go to
// a loopback host, and remote callers must ask for expectReplies.
import {
  CloudAdapter,
  ConfigurationServiceClientCredentialFactory,
  createBotFrameworkAuthenticationFromConfiguration,
  type TurnContext,
} from 'botbuilder';
import type * as restify from 'restify';
import type { Config } from '../config';
import { loggableError, type Logger } from '../util/logger';
import type { Turnable } from './botRunner';
import { isLoopbackUrl } from '../util/net';
import { CachingBotFrameworkAuthentication } from './cachedConnectors';
import { HashedRateLimit, isLocalCaller, sourceAddress } from './http';

export function createCloudAdapter(config: Config, logger: Logger, onError: (context: TurnContext, err: Error) => Promise<void>): CloudAdapter {
  const credentials = new ConfigurationServiceClientCredentialFactory({
    MicrosoftAppId: config.MicrosoftAppId ?? '',
    MicrosoftAppPassword: config.MicrosoftAppPassword ?? '',
    MicrosoftAppType: config.MicrosoftAppType,
    MicrosoftAppTenantId: config.MicrosoftAppTenantId ?? '',
  });
  const auth = new CachingBotFrameworkAuthentication(createBotFrameworkAuthenticationFromConfiguration(null, credentials));
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context, err) => {
    logger.error({ err: err.message }, 'unhandled bot error');
    await onError(context, err);
  };
  return adapter;
}

function reject(res: restify.Response, status: number, message: string, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.status(status);
  res.json({ error: { code: status, message } });
}

/** A non-empty string id of bounded length (conversation, channel, user). */
const isId = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const idOf = (v: unknown): unknown => (v && typeof v === 'object' ? (v as { id?: unknown }).id : undefined);

export interface BotFrameworkDeps {
  config: Config;
  adapter: CloudAdapter;
  bot: Turnable;
  logger: Logger;
  /** Keys the rate limits' hashes: no address or conversation id is kept, even in memory. */
  secret: string;
}

/**
 * Abuse limits, in memory with keyed-hash keys:
 * - per conversation: RATE_LIMIT_PER_CONVERSATION messages a minute (other
 *   activities, such as typing, are not counted);
 * - per source: without Azure credentials every request counts against
 *   RATE_LIMIT_PER_SOURCE. With them, callers are Azure's Bot Connector (one
 *   source for everyone), so only refused requests (failed authentication) count,
 *   and a source that used up its allowance is refused before the adapter runs.
 * Refusals are 429 with Retry-After.
 */
export function registerBotFramework(server: restify.Server, deps: BotFrameworkDeps): void {
  const { config, adapter, bot } = deps;
  const conversationLimit = new HashedRateLimit(deps.secret, 'bf-conversation', config.RATE_LIMIT_PER_CONVERSATION);
  const sourceLimit = new HashedRateLimit(deps.secret, 'bf-source', config.RATE_LIMIT_PER_SOURCE);
  const tooMany = (res: restify.Response, retryAfterSeconds: number, message: string): void =>
    reject(res, 429, message, { 'Retry-After': String(retryAfterSeconds) });

  server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body) || typeof body.type !== 'string') {
      return reject(res, 400, 'Expected a Bot Framework activity (JSON object with a "type").');
    }
    // Every turn keys its state on these; without them it could only fail.
    if (!isId(body.channelId, 64) || !isId(idOf(body.conversation), 1024) || !isId(idOf(body.from), 1024)) {
      return reject(res, 400, 'An activity needs "channelId", "conversation.id" and "from.id" (strings).');
    }
    const source = sourceAddress(req);
    const bySource = config.azureAuth ? await sourceLimit.check(source) : await sourceLimit.take(source);
    if (!bySource.ok) return tooMany(res, bySource.retryAfterSeconds, 'Too many requests. Please slow down.');
    if (!config.azureAuth) {
      // A same-host reverse proxy's requests come from loopback too: they count as remote.
      const remote = !isLocalCaller(req);
      if (remote && !config.ALLOW_UNAUTHENTICATED_REMOTE) {
        return reject(res, 403, 'This endpoint serves local callers only until Azure Bot credentials are configured.');
      }
      const expectReplies = body.deliveryMode === 'expectReplies';
      if (!expectReplies) {
        if (remote) return reject(res, 403, 'Remote callers must use deliveryMode "expectReplies".');
        if (typeof body.serviceUrl !== 'string' || !isLoopbackUrl(body.serviceUrl)) {
          return reject(res, 400, 'serviceUrl must be a loopback address (e.g. the Bot Framework Emulator) without Azure credentials.');
        }
      }
    }
    if (body.type === 'message') {
      const byConversation = await conversationLimit.take(`${body.channelId as string}/${idOf(body.conversation) as string}`);
      if (!byConversation.ok) return tooMany(res, byConversation.retryAfterSeconds, 'Too many messages. Please wait a moment.');
    }
    try {
      await adapter.process(req, res, (context) => bot.run(context));
    } catch (err) {
      deps.logger.warn({ err: loggableError(err) }, '/api/messages rejected');
      if (!res.headersSent) reject(res, 400, 'The activity could not be processed.');
    }
    // With Azure credentials, a refused caller (bad or missing token; a forged
    // token can even make the adapter fetch signing keys) uses up its source's allowance.
    if (config.azureAuth && res.statusCode >= 400) await sourceLimit.take(source);
  });
}
