// Shared by the robustness tests: Bot Framework activities over real HTTP, a
// reporter who walks a whole referral over /api/messages, and small checks.
import crypto from 'node:crypto';
import type { Messages } from '../../bot/content';

export const REFERENCE_RE = /\b[A-Z2-9]{4}-[A-Z2-9]{4}\b/;

/** What the reporter tells the bot at the "what happened" question: one phone number and one vehicle, so entity rows are expected. */
export const STORY = 'Older lads drop him off in a black car AB12 CDE and he rings 07700 900123 on a second phone.';

export interface ActivityOptions {
  conversationId?: string;
  userId?: string;
  channelId?: string;
  extra?: Record<string, unknown>;
}

export function activity(text: string | undefined, o: ActivityOptions = {}): Record<string, unknown> {
  return {
    type: 'message',
    text,
    channelId: o.channelId ?? 'emulator',
    serviceUrl: 'http://127.0.0.1:9',
    from: { id: o.userId ?? 'robust-user' },
    recipient: { id: 'bot' },
    conversation: { id: o.conversationId ?? `robust-${crypto.randomUUID()}` },
    deliveryMode: 'expectReplies',
    ...o.extra,
  };
}

export interface Turn {
  status: number;
  retryAfter: string | null;
  /** The bot's message replies (expectReplies), in order. */
  messages: Array<{ text?: string; suggestedActions?: { actions?: Array<{ title?: string }> } }>;
  texts: string[];
  options: string[];
  body: string;
}

export async function postMessages(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  signal?: AbortSignal,
): Promise<Turn> {
  const res = await fetch(`${baseUrl}/api/messages`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' || Buffer.isBuffer(body) ? asBody(body) : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let messages: Turn['messages'] = [];
  try {
    const parsed = JSON.parse(text) as { activities?: Array<Record<string, unknown>> };
    messages = (parsed.activities ?? []).filter((a) => a.type === 'message') as Turn['messages'];
  } catch {
    messages = [];
  }
  const texts = messages.map((a) => a.text ?? '');
  const last = [...messages].reverse().find((a) => a.suggestedActions?.actions?.length);
  const options = (last?.suggestedActions?.actions ?? []).map((a) => String(a.title));
  return { status: res.status, retryAfter: res.headers.get('retry-after'), messages, texts, options, body: text };
}

export type Answer = { pick: string } | { say: string };

/**
 * A reporter who skips what they can: a young person, one sign, the story
 * above, stays anonymous, sends it. Every run gives the same referral.
 */
export function skippingReporter(m: Messages, text: string, options: string[]): Answer {
  if (options.includes(m.t('referral.send'))) return { pick: m.t('referral.send') };
  if (options.includes(m.t('referral.signs_done'))) return { pick: m.t('referral.signs_done') };
  if (options.includes(m.t('referral.signs_none'))) return { pick: options[0]! };
  if (text.includes(m.t('referral.ask.concern'))) return { pick: m.t('referral.options.concern.young_person') };
  if (text.includes(m.t('referral.ask.story'))) return { say: STORY };
  if (options.includes(m.t('referral.contact_no'))) return { pick: m.t('referral.contact_no') };
  return { say: 'skip' };
}

/**
 * Walk one whole referral over /api/messages; resolves with the reference the
 * bot gave, or rejects (e.g. when the server dies mid-conversation).
 */
export async function walkReferral(
  baseUrl: string,
  m: Messages,
  options: { conversationId?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<string> {
  const conversationId = options.conversationId ?? `walk-${crypto.randomUUID()}`;
  const headers = { 'content-type': 'application/json', ...options.headers };
  let turn = await postMessages(baseUrl, activity('report', { conversationId }), headers, options.signal);
  for (let i = 0; i < 30; i++) {
    if (turn.status !== 200) throw new Error(`HTTP ${turn.status}: ${turn.body.slice(0, 200)}`);
    const text = turn.texts.join('\n');
    const reference = REFERENCE_RE.exec(text)?.[0];
    if (reference) return reference;
    const answer = skippingReporter(m, text, turn.options);
    turn = await postMessages(baseUrl, activity('pick' in answer ? answer.pick : answer.say, { conversationId }), headers, options.signal);
  }
  throw new Error(`No reference after 30 turns; last replies: ${turn.texts.join(' | ')}`);
}

/** A string or raw bytes as a fetch body (Node's types don't list Buffer). */
export function asBody(body: string | Buffer | undefined): RequestInit['body'] {
  return body as unknown as RequestInit['body'];
}

export async function healthy(baseUrl: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}/healthz`);
  return res.status === 200;
}

/** Hand-picked hostile text: injection, markup, control and bidi characters, emoji, RTL, long runs. */
export const NASTY_STRINGS: string[] = [
  "'; DROP TABLE \"Referral\"; --",
  "' OR '1'='1",
  '1; UPDATE "Referral" SET status = \'closed\'',
  'Robert\'); DELETE FROM "BotState";--',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{constructor.constructor("return process")()}}',
  '{% raw %}{{ 7*7 }}{% endraw %}',
  '${7*7}',
  '__proto__',
  '{"__proto__":{"polluted":true}}',
  '\u0000\u0001\u0002\u0007\u001b[31mred\u001b[0m',
  'line\r\nInjected: header\r\n\r\n',
  '\u202Egnp.exe\u202C \u2066isolate\u2069 \u200B\u200F\uFEFF',
  'هناك رجال يبيعون المخدرات في شقة جارتي',
  'אני מפחד שמישהו ישמע',
  '😱🔪🚗💊 they took my phone 📱',
  '👩‍👩‍👧‍👦🏳️‍🌈🇬🇧 family',
  'Z̴̡̢͎̼͍a̸̧̜͍l̵̨̞g̶̡̛o̵̧',
  '\uD800 lone surrogate \uDFFF',
  '%00%0a%0d%25%27%22',
  '../../../../etc/passwd',
  'a'.repeat(10_000),
  '🔪'.repeat(3_000),
  ' ',
  '',
];
