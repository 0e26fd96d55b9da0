// SMS through Twilio: POST /api/sms is a Twilio Messaging webhook.
//
// 1. The X-Twilio-Signature is checked (validateRequest) against the
//    public URL (PUBLIC_BASE_URL + /api/sms + query) and every form field as
//    received, before anything else: unsigned or forged requests get 403
//    (429 once their source has sent RATE_LIMIT_PER_SOURCE of them in a minute).
// 2. The sender's number is turned into a keyed hash at once; the hash is the
//    conversation and user id. The number itself is never stored or logged:
//    it lives in memory only for as long as a slow reply needs it.
// 3. STOP / START / HELP are answered here, before the bot. Pictures (MMS) are
//    never fetched or stored.
// 4. The bot's replies go back as TwiML, rendered for SMS by render.ts. When
//    the bot needs longer than SMS_REPLY_TIMEOUT_MS (below Twilio's 15 s
//    webhook timeout), the webhook answers with empty TwiML and the replies
//    follow through the Twilio REST API.
import type { Activity } from 'botbuilder';
import { LRUCache } from 'lru-cache';
import type * as restify from 'restify';
// Only the signature check at load: the REST client (most of the twilio
// package) is loaded the first time a slow reply needs it.
import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import type { Services } from '../services';
import { detectDanger, matchDanger } from '../safety/danger';
import { cleanText } from '../speakSafeBot';
import { keyedHash } from '../util/crypto';
import { HashedRateLimit, header, noStore, sendError, sourceAddress } from './http';
import { renderReplies, type SmsRenderOptions } from './render';
import { messagingTwiml } from './twiml';
import { loggableError } from '../util/logger';

export const SMS_PATH = '/api/sms';
export const SMS_CHANNEL_ID = 'sms';

/** Sends one SMS through the REST API. Injectable so tests never reach the network. */
export interface SmsSender {
  send(message: { to: string; from?: string; body: string }): Promise<void>;
}

export const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'END']);
export const START_WORDS = new Set(['START', 'UNSTOP']);
export const HELP_WORDS = new Set(['HELP']);
const MESSAGE_SID = /^(SM|MM)[0-9a-f]{32}$/;

/** A keyword message: one word, any case, surrounding punctuation ignored. */
export function keywordOf(body: string): string {
  return body
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .toUpperCase();
}

/** The number as Twilio writes it (E.164), without spacing, for hashing. */
export function normaliseNumber(from: string): string {
  return from.trim().replace(/[\s().-]/g, '');
}

/** Every form field exactly as received (repeated fields as arrays), for the signature check. */
export function formParams(req: restify.Request): Record<string, string | string[]> {
  // restify leaves the body unparsed for this webhook (bot/app.ts marks it
  // parsed before bodyParser runs): then req.body is the raw text.
  const raw: unknown = req.rawBody ?? (typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : undefined);
  const contentType = (header(req, 'content-type') ?? '').toLowerCase();
  if ((typeof raw === 'string' || Buffer.isBuffer(raw)) && contentType.startsWith('application/x-www-form-urlencoded')) {
    // No prototype: a field named "toString" or "__proto__" is a field like any other.
    const out: Record<string, string | string[]> = Object.create(null);
    for (const [k, v] of new URLSearchParams(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw)) {
      const prior = out[k];
      out[k] = prior === undefined ? v : Array.isArray(prior) ? [...prior, v] : [prior, v];
    }
    return out;
  }
  const body: unknown = req.body;
  if (body && typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body)) {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string') out[k] = v;
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
    }
    return out;
  }
  return {};
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Remembers recently seen message ids (at most 5,000, for an hour), so a retried or replayed webhook runs once. */
class RecentIds {
  private readonly seen = new LRUCache<string, true>({ max: 5000, ttl: 60 * 60 * 1000 });
  /** True the first time an id is seen (within the hour). */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.set(id, true);
    return true;
  }
}

export class SmsChannel {
  private sender: SmsSender | undefined;
  /** Per sender (the conversation): messages a minute; over it, the message is dropped with empty TwiML. */
  private readonly senderLimit: HashedRateLimit;
  /** Per source: requests refused for their signature, a minute; over it, 429. */
  private readonly refusedLimit: HashedRateLimit;
  private readonly recent = new RecentIds();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly services: Services) {
    this.senderLimit = new HashedRateLimit(services.secrets.identityHashSecret, 'sms-sender', services.config.RATE_LIMIT_PER_CONVERSATION);
    this.refusedLimit = new HashedRateLimit(services.secrets.identityHashSecret, 'sms-refused', services.config.RATE_LIMIT_PER_SOURCE);
  }

  /** Replace the REST client (tests, or another SMS provider's REST API). */
  setSender(sender: SmsSender | undefined): void {
    this.sender = sender;
  }

  /** Resolves when every slow reply started so far has been sent (or failed). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private restSender(): SmsSender | undefined {
    if (this.sender) return this.sender;
    const { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: token } = this.services.config;
    if (!sid || !token) return undefined;
    let client: import('twilio').Twilio | undefined;
    this.sender = {
      send: async ({ to, from, body }) => {
        client ??= (await import('twilio')).default(sid, token);
        await client.messages.create({ to, from, body });
      },
    };
    return this.sender;
  }

  register(server: restify.Server): void {
    server.post(SMS_PATH, async (req: restify.Request, res: restify.Response) => {
      try {
        await this.handle(req, res);
      } catch (err) {
        this.services.logger.error({ err: loggableError(err) }, 'sms webhook failed');
        if (!res.headersSent) this.twiml(res, this.render(await this.fallback(req)));
      }
    });
  }

  // ---------------------------------------------------------------- webhook

  private async handle(req: restify.Request, res: restify.Response): Promise<void> {
    const { config, logger, content } = this.services;
    const authToken = config.TWILIO_AUTH_TOKEN;
    if (!authToken) return sendError(res, 503, 'NotConfigured', 'SMS is not configured on this server.');

    // Signature first: nothing else is read, counted or stored before it checks out.
    const signature = header(req, 'x-twilio-signature');
    const params = formParams(req);
    const url = req.url ?? SMS_PATH;
    const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
    if (!signature || !validateRequest(authToken, signature, `${config.publicBaseUrl}${SMS_PATH}${query}`, params)) {
      // Per source, only refused requests count: Twilio's own (signed) never do,
      // so a forger can't use up Twilio's allowance; past it, no log line either.
      const limited = await this.refusedLimit.take(sourceAddress(req));
      if (!limited.ok) return sendError(res, 429, 'TooManyRequests', 'Too many refused requests.', { 'Retry-After': String(limited.retryAfterSeconds) });
      logger.warn({ channel: 'sms', signature: signature ? 'invalid' : 'missing' }, 'sms webhook refused');
      return sendError(res, 403, 'Forbidden', 'Invalid Twilio signature.');
    }

    const from = first(params.From)?.trim();
    if (!from) return sendError(res, 400, 'BadArgument', 'No sender.');
    const id = keyedHash(this.services.secrets.identityHashSecret, SMS_CHANNEL_ID, normaliseNumber(from));
    // Twilio names every message "SM" or "MM" and 32 hex digits. Checking the form also stops a replay that
    // shifts characters between neighbouring fields (the signature, over the joined fields, stays valid).
    const messageSid = first(params.MessageSid);
    if (!messageSid || !MESSAGE_SID.test(messageSid)) return sendError(res, 400, 'BadArgument', 'MessageSid is missing or not a Twilio message id.');
    if (!this.recent.add(messageSid)) return this.twiml(res, []);
    if (!(await this.senderLimit.take(id)).ok) {
      logger.warn({ channel: 'sms' }, 'sms sender over rate limit');
      return this.twiml(res, []);
    }

    const m = content.messages;
    const body = first(params.Body) ?? '';
    const keyword = keywordOf(body);
    const optOutKey = `${SMS_CHANNEL_ID}/optout/${id}`;

    if (STOP_WORDS.has(keyword)) {
      await this.services.storage.deleteConversation(SMS_CHANNEL_ID, id, id);
      await this.services.storage.write({ [optOutKey]: { eTag: '*', at: new Date().toISOString() } });
      logger.info({ channel: 'sms', keyword: 'stop' }, 'sms keyword');
      return this.twiml(res, this.render([{ type: 'message', text: m.t('sms_stopped') }]));
    }
    if (START_WORDS.has(keyword)) {
      await this.services.storage.delete([optOutKey]);
      logger.info({ channel: 'sms', keyword: 'start' }, 'sms keyword');
      return this.twiml(res, this.render([{ type: 'message', text: m.t('sms_started') }]));
    }
    if (HELP_WORDS.has(keyword)) {
      // "HELP" is the carrier keyword for "how does this work", and also what someone in danger texts:
      // the danger guidance comes first whenever the phrase check reads it as danger (a bare "help" does).
      logger.info({ channel: 'sms', keyword: 'help' }, 'sms keyword');
      const danger = matchDanger(body, this.services.dangerRules).matched;
      return this.twiml(res, this.render([...(danger ? [{ type: 'message', text: m.t('danger') }] : []), { type: 'message', text: m.t('sms_help') }]));
    }
    // After STOP, nothing is sent until START (HELP still answers, above), except the danger guidance:
    // someone who texts that they are in danger gets it, and only it (no conversation is started or stored).
    const optedOut = await this.services.storage.read([optOutKey]);
    if (optedOut[optOutKey]) {
      const check = await detectDanger(cleanText(body, config.MAX_MESSAGE_CHARS), this.services.nlu, this.services.dangerRules, content.locale);
      if (!check.danger) return this.twiml(res, []);
      logger.info({ channel: 'sms', optedOut: true }, 'sms danger guidance after stop');
      const guidance = ['danger', ...(check.category === 'self_harm' ? ['self_harm'] : []), 'sms_stopped_danger'];
      return this.twiml(res, this.render(guidance.map((key) => ({ type: 'message', text: m.t(key) }))));
    }

    // Pictures and files: never fetched, never stored. Say so, and answer any words.
    const numMedia = Number(first(params.NumMedia) ?? '0');
    const prefix: Array<Partial<Activity>> = numMedia > 0 ? [{ type: 'message', text: m.t('sms_no_pictures') }] : [];
    if (!body.trim()) return this.twiml(res, this.render(prefix));

    const turn = this.track(this.runTurn(id, body));
    const rest = this.restSender();
    const timeoutMs = config.SMS_REPLY_TIMEOUT_MS;
    const inTime = rest ? await Promise.race([turn, delay(timeoutMs).then(() => undefined)]) : await turn;
    if (inTime) return this.twiml(res, this.render([...prefix, ...inTime]));

    // Slow path: answer Twilio now; the replies follow through the REST API.
    this.twiml(res, this.render(prefix));
    logger.info({ channel: 'sms', timeoutMs }, 'sms reply sent through the REST API');
    const sendFrom = config.TWILIO_FROM_NUMBER ?? first(params.To);
    this.track(
      turn.then(async (replies) => {
        for (const text of this.render(replies)) {
          try {
            await rest!.send({ to: from, from: sendFrom, body: text });
          } catch (err) {
            // Twilio's error text can quote the number: log its codes only.
            const e = err as { code?: unknown; status?: unknown };
            logger.error({ channel: 'sms', code: e.code, status: e.status }, 'sms REST send failed');
            return;
          }
        }
      }),
    );
  }

  /**
   * What a failed webhook (e.g. the database is down before the bot's turn
   * could start) still says: 999 guidance first if the message signals danger
   * (phrase rules only: nothing else is trusted here), then the safety numbers.
   */
  private async fallback(req: restify.Request): Promise<Array<Partial<Activity>>> {
    const { content, dangerRules, config } = this.services;
    let danger = false;
    try {
      const text = cleanText(first(formParams(req).Body), config.MAX_MESSAGE_CHARS);
      danger = (await detectDanger(text, null, dangerRules, content.locale)).danger;
    } catch {
      danger = false;
    }
    return [...(danger ? [{ type: 'message', text: content.messages.t('danger') }] : []), { type: 'message', text: content.messages.t('error_safety') }];
  }

  private async runTurn(id: string, text: string): Promise<Array<Partial<Activity>>> {
    try {
      return await this.services.runner.run({ channelId: SMS_CHANNEL_ID, conversationId: id, userId: id, text });
    } catch (err) {
      this.services.logger.error({ err: loggableError(err) }, 'sms turn failed');
      return [{ type: 'message', text: this.services.content.messages.t('error_safety') }];
    }
  }

  private track<T>(task: Promise<T>): Promise<T> {
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task)).catch(() => undefined);
    return task;
  }

  // ---------------------------------------------------------------- output

  readonly renderOptions: SmsRenderOptions = {
    locale: 'en-GB',
    maxSegments: 3,
    choiceHint: (vars) => this.services.content.messages.t('sms_reply_numbers', vars),
  };

  render(activities: Array<Partial<Activity>>): string[] {
    return renderReplies('sms', activities, this.renderOptions);
  }

  private twiml(res: restify.Response, messages: string[]): void {
    noStore(res);
    res.setHeader('Content-Type', 'text/xml; charset=utf-8');
    res.sendRaw(200, messagingTwiml(messages));
  }
}

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref?.();
  });
