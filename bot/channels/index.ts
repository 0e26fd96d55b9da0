// SpeakSafe's own channels: SMS (Twilio) and the self-hosted web chat (the
// page, and the Direct Line API it talks to). /api/messages (Azure Bot
// Service, Emulator) is registered separately, in botFramework.ts.
import type * as restify from 'restify';
import type { Services } from '../services';
import { DirectLineChannel } from './directLine/channel';
import { SmsChannel } from './sms';
import { WebPage } from './webPage';

export interface Channels {
  sms: SmsChannel;
  directLine: DirectLineChannel;
  webPage: WebPage;
}

const registered = new WeakMap<object, Channels>();

/** Paths served here. restify's body parser would write multipart uploads to disk: refuse them first. */
const OWN_PATHS = /^\/(?:api\/sms|v3\/directline)(?:[/?]|$)/;

export function registerChannels(server: restify.Server, services: Services): void {
  // `pre` runs before routing and body parsing: pictures and files sent to
  // these endpoints never reach the disk (Twilio never posts multipart; the
  // web chat has no upload).
  server.pre((req: restify.Request, res: restify.Response, next: restify.Next) => {
    const type = String(req.headers['content-type'] ?? '').toLowerCase();
    if (type.startsWith('multipart/') && OWN_PATHS.test(req.url ?? '')) {
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.sendRaw(415, JSON.stringify({ error: { code: 'UnsupportedMediaType', message: 'Files are not accepted.' } }));
      return next(false);
    }
    return next();
  });
  const channels: Channels = {
    sms: new SmsChannel(services),
    directLine: new DirectLineChannel(services),
    webPage: new WebPage(services.content),
  };
  channels.sms.register(server);
  channels.directLine.register(server);
  channels.webPage.register(server);
  registered.set(server, channels);
}

/** The channels registered on a server (tests inject the SMS REST client, wait for background turns). */
export function channelsOf(server: restify.Server): Channels {
  const channels = registered.get(server);
  if (!channels) throw new Error('registerChannels() has not run on this server');
  return channels;
}
