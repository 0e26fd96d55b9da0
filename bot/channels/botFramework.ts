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
import type { Logger } from '../util/logger';
import type { Turnable } from './botRunner';
import { isLoopbackAddress, isLoopbackUrl } from '../util/net';

export function createCloudAdapter(config: Config, logger: Logger, onError: (context: TurnContext, err: Error) => Promise<void>): CloudAdapter {
  const credentials = new ConfigurationServiceClientCredentialFactory({
    MicrosoftAppId: config.MicrosoftAppId ?? '',
    MicrosoftAppPassword: config.MicrosoftAppPassword ?? '',
    MicrosoftAppType: config.MicrosoftAppType,
    MicrosoftAppTenantId: config.MicrosoftAppTenantId ?? '',
  });
  const auth = createBotFrameworkAuthenticationFromConfiguration(null, credentials);
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context, err) => {
    logger.error({ err: err.message }, 'unhandled bot error');
    await onError(context, err);
  };
  return adapter;
}

function reject(res: restify.Response, status: number, message: string): void {
  res.status(status);
  res.json({ error: { code: status, message } });
}

export function registerBotFramework(server: restify.Server, deps: { config: Config; adapter: CloudAdapter; bot: Turnable; logger: Logger }): void {
  const { config, adapter, bot } = deps;
  server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || typeof body.type !== 'string') {
      return reject(res, 400, 'Expected a Bot Framework activity (JSON object with a "type").');
    }
    if (!config.azureAuth) {
      const remote = !isLoopbackAddress(req.socket.remoteAddress);
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
    try {
      await adapter.process(req, res, (context) => bot.run(context));
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, '/api/messages rejected');
      if (!res.headersSent) reject(res, 400, 'The activity could not be processed.');
    }
  });
}
