// A Direct Line 3.0-compatible API, served by SpeakSafe itself, for the web
// chat page (Bot Framework Web Chat) and any Direct Line client: no Azure
// subscription needed. Polling is supported (GET activities?watermark=).
//
//   POST /v3/directline/tokens/generate              public; rate-limited per source
//   POST /v3/directline/tokens/refresh               { conversationId, token, expires_in }
//   POST /v3/directline/conversations                start the token's conversation
//   GET  /v3/directline/conversations/:id            resume it
//   POST /v3/directline/conversations/:id/activities send an activity: { id }
//   GET  /v3/directline/conversations/:id/activities?watermark=
//
// Tokens are signed, short-lived and scoped to one conversation: 401 for a
// missing, malformed or expired token, 403 for another conversation's, 404
// for a conversation that no longer exists.
import crypto from 'node:crypto';
import type { Activity } from 'botbuilder';
import type * as restify from 'restify';
import { z } from 'zod';
import { forgetDeleted, isDatabaseUnavailable } from '../../db/prisma';
import type { Services } from '../../services';
import { KeyedLock } from '../../util/keyedLock';
import { HashedRateLimit, noStore, sendError, sendJson, sourceAddress } from '../http';
import { renderReplies } from '../render';
import { createDirectLineStore, type DirectLineStore, type StoredActivity } from './store';
import { bearerToken, TokenSigner, type TokenClaims } from './tokens';
import { loggableError } from '../../util/logger';

export const DIRECT_LINE_BASE = '/v3/directline';
const CHANNEL_ID = 'webchat';
/** Conversations idle this long are deleted, with their transcript and bot state. */
const IDLE_RETENTION_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** New conversations per minute from one source, at most. */
const GENERATE_LIMIT_CAP = 30;

const idPattern = /^[A-Za-z0-9_-]{16,64}$/;
const safeString = (max: number) => z.string().max(max);

const inboundSchema = z.object({
  type: z.string().min(1).max(40),
  text: z.string().optional(),
  textFormat: z.enum(['plain', 'markdown', 'xml']).optional(),
  locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/).max(35).optional(),
  value: z.unknown().optional(),
  name: safeString(100).optional(),
  from: z.object({ id: z.string().optional(), name: z.string().optional(), role: z.string().optional() }).passthrough().optional(),
  attachments: z.array(z.object({ contentType: safeString(200).optional(), name: safeString(300).optional() }).passthrough()).max(20).optional(),
  channelData: z
    .object({ clientActivityID: safeString(200).optional(), clientTimestamp: safeString(64).optional() })
    .passthrough()
    .optional()
    .nullable(),
});
type Inbound = z.infer<typeof inboundSchema>;

export interface DirectLineOptions {
  tokenTtlSeconds?: number;
  maxConversationSeconds?: number;
  now?: () => number;
}

export const webChatUserId = (conversationId: string): string => `u_${conversationId}`;

export class DirectLineChannel {
  readonly store: DirectLineStore;
  readonly tokens: TokenSigner;
  private readonly locks = new KeyedLock();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly generateLimit: HashedRateLimit;
  private readonly requestLimit: HashedRateLimit;
  private readonly messageLimit: HashedRateLimit;
  private lastPrune = 0;

  constructor(
    private readonly services: Services,
    options: DirectLineOptions = {},
  ) {
    const { config, secrets } = services;
    this.store = createDirectLineStore(services.db);
    this.tokens = new TokenSigner(secrets.tokenSigningSecret, {
      ttlSeconds: options.tokenTtlSeconds,
      maxConversationSeconds: options.maxConversationSeconds,
      now: options.now,
    });
    const secret = secrets.identityHashSecret;
    this.generateLimit = new HashedRateLimit(secret, 'dl-generate', Math.min(config.RATE_LIMIT_PER_SOURCE, GENERATE_LIMIT_CAP));
    this.requestLimit = new HashedRateLimit(secret, 'dl-requests', config.RATE_LIMIT_PER_SOURCE);
    this.messageLimit = new HashedRateLimit(secret, 'dl-messages', config.RATE_LIMIT_PER_CONVERSATION);
  }

  /** Resolves when every bot turn started so far has finished and its replies are stored. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  register(server: restify.Server): void {
    const base = DIRECT_LINE_BASE;
    const wrap =
      (name: string, handler: (req: restify.Request, res: restify.Response) => Promise<void>) =>
      async (req: restify.Request, res: restify.Response): Promise<void> => {
        try {
          await handler(req, res);
        } catch (err) {
          if (isDatabaseUnavailable(err)) {
            // Locked or unreachable database: say so, and when to retry (Web Chat shows "send failed").
            this.services.logger.warn({ err: loggableError(err), route: name }, 'direct line request refused: database unavailable');
            if (!res.headersSent) sendError(res, 503, 'ServiceUnavailable', 'The service is busy. Please try again in a moment.', { 'Retry-After': '5' });
            return;
          }
          this.services.logger.error({ err: loggableError(err), route: name }, 'direct line request failed');
          if (!res.headersSent) sendError(res, 500, 'ServiceError', 'Something went wrong. Please try again.');
        }
      };
    server.opts(`${base}/*`, wrap('options', async (req, res) => this.options(req, res)));
    server.post(`${base}/tokens/generate`, wrap('generate', (req, res) => this.generate(req, res)));
    server.post(`${base}/tokens/refresh`, wrap('refresh', (req, res) => this.refresh(req, res)));
    server.post(`${base}/conversations`, wrap('start', (req, res) => this.start(req, res)));
    server.get(`${base}/conversations/:conversationId`, wrap('resume', (req, res) => this.resume(req, res)));
    server.post(`${base}/conversations/:conversationId/activities`, wrap('post', (req, res) => this.postActivity(req, res)));
    server.get(`${base}/conversations/:conversationId/activities`, wrap('get', (req, res) => this.getActivities(req, res)));
  }

  // ---------------------------------------------------------------- helpers

  private corsHeaders(): Record<string, string> {
    return {
      'Access-Control-Allow-Origin': new URL(this.services.config.publicBaseUrl).origin,
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, x-ms-bot-agent, x-requested-with',
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    };
  }

  private async options(_req: restify.Request, res: restify.Response): Promise<void> {
    noStore(res);
    for (const [k, v] of Object.entries(this.corsHeaders())) res.setHeader(k, v);
    res.sendRaw(204, '');
  }

  private reply(res: restify.Response, status: number, body: unknown): void {
    sendJson(res, status, body, { 'Access-Control-Allow-Origin': new URL(this.services.config.publicBaseUrl).origin });
  }

  /** The token's claims, or null after answering 401/403/429. */
  private async authorize(req: restify.Request, res: restify.Response, conversationId?: string): Promise<TokenClaims | null> {
    const result = this.tokens.verify(bearerToken(req.headers.authorization));
    if (!result.ok) {
      const message = result.reason === 'expired' ? 'The token has expired.' : 'A valid Direct Line token is required.';
      sendError(res, 401, result.reason === 'expired' ? 'TokenExpired' : 'Unauthorized', message, { 'WWW-Authenticate': 'Bearer' });
      return null;
    }
    if (conversationId !== undefined && result.claims.c !== conversationId) {
      sendError(res, 403, 'Forbidden', 'This token is for a different conversation.');
      return null;
    }
    const limited = await this.requestLimit.take(`conversation:${result.claims.c}`);
    if (!limited.ok) {
      sendError(res, 429, 'TooManyRequests', 'Too many requests. Please slow down.', { 'Retry-After': String(limited.retryAfterSeconds) });
      return null;
    }
    return result.claims;
  }

  private param(req: restify.Request): string | undefined {
    const id = (req.params as Record<string, unknown> | undefined)?.conversationId;
    return typeof id === 'string' && idPattern.test(id) ? id : undefined;
  }

  private conversationBody(claims: TokenClaims, token: string): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return { conversationId: claims.c, token, expires_in: Math.max(0, claims.exp - now) };
  }

  private track<T>(task: Promise<T>): Promise<T> {
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task)).catch(() => undefined);
    return task;
  }

  // ---------------------------------------------------------------- routes

  private async generate(req: restify.Request, res: restify.Response): Promise<void> {
    const limited = await this.generateLimit.take(sourceAddress(req));
    if (!limited.ok) {
      return sendError(res, 429, 'TooManyRequests', 'Too many new conversations. Please wait a minute.', {
        'Retry-After': String(limited.retryAfterSeconds),
      });
    }
    this.maybePrune();
    const conversationId = crypto.randomBytes(16).toString('base64url');
    await this.store.create(conversationId);
    const { token, expiresIn } = this.tokens.sign(conversationId);
    this.reply(res, 200, { conversationId, token, expires_in: expiresIn });
  }

  private async refresh(req: restify.Request, res: restify.Response): Promise<void> {
    const claims = await this.authorize(req, res);
    if (!claims) return;
    if (!(await this.store.get(claims.c))) return sendError(res, 404, 'NotFound', 'This conversation has ended.');
    const fresh = this.tokens.refresh(claims);
    if (!fresh) return sendError(res, 403, 'TokenExpired', 'This conversation has reached its time limit. Please start a new chat.');
    this.reply(res, 200, { conversationId: claims.c, token: fresh.token, expires_in: fresh.expiresIn });
  }

  private async start(req: restify.Request, res: restify.Response): Promise<void> {
    const claims = await this.authorize(req, res);
    if (!claims) return;
    const row = await this.store.get(claims.c);
    if (!row) return sendError(res, 404, 'NotFound', 'This conversation has ended.');
    if (row.nextSeq === 0) this.track(this.welcome(claims.c));
    this.reply(res, row.nextSeq === 0 ? 201 : 200, this.conversationBody(claims, bearerToken(req.headers.authorization)!));
  }

  private async resume(req: restify.Request, res: restify.Response): Promise<void> {
    const id = this.param(req);
    const claims = await this.authorize(req, res, id ?? '');
    if (!claims || !id) return;
    const row = await this.store.get(id);
    if (!row) return sendError(res, 404, 'NotFound', 'This conversation has ended.');
    if (row.nextSeq === 0) this.track(this.welcome(id));
    this.reply(res, 200, this.conversationBody(claims, bearerToken(req.headers.authorization)!));
  }

  private async getActivities(req: restify.Request, res: restify.Response): Promise<void> {
    const id = this.param(req);
    const claims = await this.authorize(req, res, id ?? '');
    if (!claims || !id) return;
    const raw = (req.query as Record<string, unknown> | undefined)?.watermark;
    const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (text !== undefined && typeof text !== 'string') return sendError(res, 400, 'BadArgument', 'Invalid watermark.');
    const watermark = text === undefined || text === '' ? 0 : Number(text);
    if (!Number.isSafeInteger(watermark) || watermark < 0) return sendError(res, 400, 'BadArgument', 'Invalid watermark.');
    const page = await this.store.list(id, watermark);
    // Activities come only from a conversation that exists; an empty page may be one that has ended.
    if (!page.activities.length && !(await this.store.get(id))) return sendError(res, 404, 'NotFound', 'This conversation has ended.');
    this.reply(res, 200, page);
  }

  private async postActivity(req: restify.Request, res: restify.Response): Promise<void> {
    const id = this.param(req);
    const claims = await this.authorize(req, res, id ?? '');
    if (!claims || !id) return;
    const body: unknown = req.body;
    const parsed = inboundSchema.safeParse(body);
    if (!body || typeof body !== 'object' || Array.isArray(body) || !parsed.success) {
      return sendError(res, 400, 'BadArgument', 'Expected an activity: a JSON object with a "type".');
    }
    const inbound = parsed.data;
    if (inbound.type === 'message' && !inbound.text?.trim() && !inbound.attachments?.length && inbound.value === undefined) {
      return sendError(res, 400, 'BadArgument', 'A message needs text.');
    }
    const row = await this.store.get(id);
    if (!row) return sendError(res, 404, 'NotFound', 'This conversation has ended.');
    if (inbound.type !== 'message') {
      // Typing indicators and client events are acknowledged, not stored: the bot acts on messages only.
      return this.reply(res, 200, { id: `${id}|ack-${crypto.randomBytes(6).toString('base64url')}` });
    }
    const limited = await this.messageLimit.take(id);
    if (!limited.ok) {
      return sendError(res, 429, 'TooManyRequests', 'Too many messages. Please wait a moment.', {
        'Retry-After': String(limited.retryAfterSeconds),
      });
    }
    // As Azure's Direct Line does, answer once the bot has handled the
    // message: its echo (Web Chat marks the message "sent" when it reads it
    // back) and the bot's replies go into the stream together, in one append,
    // so the client's next poll finds both.
    const stored = await this.track(this.turn(id, inbound));
    this.reply(res, 200, { id: stored.id });
  }

  // ---------------------------------------------------------------- the bot

  /** The user's activity as it goes back into the stream: what they sent, nothing about them. */
  private echoOf(inbound: Inbound, conversationId: string): Record<string, unknown> {
    const fromId = typeof inbound.from?.id === 'string' && /^[\w:.|-]{1,128}$/.test(inbound.from.id) ? inbound.from.id : webChatUserId(conversationId);
    const echo: Record<string, unknown> = {
      type: 'message',
      channelId: CHANNEL_ID,
      conversation: { id: conversationId },
      from: { id: fromId, role: 'user' },
      text: inbound.text ?? '',
    };
    if (inbound.textFormat) echo.textFormat = inbound.textFormat;
    if (inbound.locale) echo.locale = inbound.locale;
    if (inbound.value !== undefined) echo.value = inbound.value;
    // Files are never kept: only the fact that something was attached.
    if (inbound.attachments?.length) echo.attachments = inbound.attachments.map((a) => ({ contentType: a.contentType ?? 'application/octet-stream' }));
    const channelData: Record<string, string> = {};
    if (inbound.channelData?.clientActivityID) channelData.clientActivityID = inbound.channelData.clientActivityID;
    if (inbound.channelData?.clientTimestamp) channelData.clientTimestamp = inbound.channelData.clientTimestamp;
    if (Object.keys(channelData).length) echo.channelData = channelData;
    return echo;
  }

  /** Runs the bot on the message, then stores the message's echo and the replies; resolves with the echo as stored. */
  private async turn(conversationId: string, inbound: Inbound): Promise<StoredActivity> {
    const echo = this.echoOf(inbound, conversationId);
    return this.locks.run(conversationId, async () => {
      let replies: Array<Partial<Activity>>;
      try {
        const result = await this.services.runner.turn({
          channelId: CHANNEL_ID,
          conversationId,
          userId: webChatUserId(conversationId),
          text: inbound.text,
          value: inbound.value,
          locale: inbound.locale,
          attachments: inbound.attachments?.length ? inbound.attachments.map((a) => ({ contentType: a.contentType ?? 'application/octet-stream' })) : undefined,
        });
        replies = result.replies;
        // Contact details are kept only sealed: the transcript shows a placeholder, never the words.
        if (result.sensitiveInput) {
          echo.text = this.services.content.messages.t('referral.contact_echo');
          delete echo.value;
        }
      } catch (err) {
        this.services.logger.error({ err: loggableError(err) }, 'web chat turn failed');
        replies = [{ type: 'message', text: this.services.content.messages.t('error_safety') }];
      }
      const rendered = renderReplies('webchat', replies, { conversationId });
      const [stored] = await this.store.append(conversationId, [echo, ...rendered], { repliesToFirst: true });
      return stored;
    });
  }

  private async welcome(conversationId: string): Promise<void> {
    await this.locks.run(conversationId, async () => {
      const row = await this.store.get(conversationId);
      if (!row || row.nextSeq !== 0) return;
      const userId = webChatUserId(conversationId);
      let replies: Array<Partial<Activity>>;
      try {
        replies = await this.services.runner.run({
          type: 'conversationUpdate',
          membersAdded: [{ id: userId, name: '' }],
          channelId: CHANNEL_ID,
          conversationId,
          userId,
        });
      } catch (err) {
        this.services.logger.error({ err: loggableError(err) }, 'web chat welcome failed');
        replies = [{ type: 'message', text: this.services.content.messages.t('error_safety') }];
      }
      await this.appendSafely(conversationId, renderReplies('webchat', replies, { conversationId }));
    });
  }

  private async appendSafely(conversationId: string, activities: Array<Record<string, unknown>>): Promise<void> {
    try {
      await this.store.append(conversationId, activities);
    } catch (err) {
      // The conversation may have been pruned meanwhile; nothing else to do.
      this.services.logger.warn({ err: loggableError(err) }, 'web chat replies not stored');
    }
  }

  // ---------------------------------------------------------------- retention

  private maybePrune(): void {
    const now = Date.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.track(this.prune(new Date(now - IDLE_RETENTION_MS)));
  }

  /** Delete idle conversations: transcript and bot state. */
  async prune(cutoff: Date): Promise<number> {
    try {
      const ids = await this.store.prune(cutoff);
      for (const id of ids) {
        await this.services.storage.deleteConversation(CHANNEL_ID, id, webChatUserId(id));
      }
      if (ids.length) await forgetDeleted(this.services.db);
      return ids.length;
    } catch (err) {
      this.services.logger.warn({ err: loggableError(err) }, 'web chat prune failed');
      return 0;
    }
  }
}

