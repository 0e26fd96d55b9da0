// The one rendering layer between the bot and SpeakSafe's channels. The same
// dialogs serve every channel; only here does a reply become channel output:
//
//   - Web Chat: the bot's activities as they are (Markdown, cards and
//     suggested actions render natively), in a clean Direct Line envelope.
//   - SMS: plain text. Markdown is removed, suggested actions and card buttons
//     become a numbered list with a "Reply 1, 2 or 3" line (the bot matches a
//     reply by its number or words), and long text is split at sentence
//     boundaries into messages of at most 3 segments each.
import type { Activity, Attachment, CardAction } from 'botbuilder';
import { LRUCache } from 'lru-cache';
import { splitSms, toSmsFriendly } from './smsText';

export type ChannelKind = 'webchat' | 'sms';

export interface SmsRenderOptions {
  /**
   * The line under a numbered list, e.g. "Reply 1, 2 or 3." Given the
   * numbers as a locale-formatted list ("1, 2 or 3"), the first and last.
   */
  choiceHint: (vars: { numbers: string; first: number; last: number; count: number }) => string;
  /** Locale for the "1, 2 or 3" list. */
  locale?: string;
  /** Maximum segments per SMS message. */
  maxSegments?: number;
}

// ------------------------------------------------------------------ Markdown

// The bot's texts come from content/ and repeat from turn to turn: remember
// recent conversions (bounded; short texts only).
const plainCache = new LRUCache<string, string>({ max: 2000 });
const PLAIN_CACHE_MAX_CHARS = 4000;

/** Markdown (as the bot writes it) to plain text a phone shows as it is. */
export function markdownToPlain(markdown: string): string {
  const cached = plainCache.get(markdown);
  if (cached !== undefined) return cached;
  const plain = convertMarkdown(markdown);
  if (markdown.length <= PLAIN_CACHE_MAX_CHARS) plainCache.set(markdown, plain);
  return plain;
}

function convertMarkdown(markdown: string): string {
  let text = markdown.replace(/\r\n?/g, '\n');
  // Fenced code blocks: keep the content, drop the fences.
  text = text.replace(/^\s*(```|~~~)[^\n]*\n([\s\S]*?)\n\s*\1\s*$/gm, '$2');
  text = text.replace(/^\s*(```|~~~)[^\n]*$/gm, '');
  // Images: their alt text. Links: "text (url)", or the url alone.
  text = text.replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1');
  text = text.replace(/\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g, (_m, label: string, url: string) => {
    const l = label.trim();
    return l === url || `mailto:${l}` === url || `tel:${l.replace(/\s/g, '')}` === url ? l : `${l} (${url.replace(/^mailto:|^tel:/, '')})`;
  });
  text = text.replace(/<((?:https?|mailto|tel):[^>\s]+)>/g, (_m, url: string) => url.replace(/^mailto:|^tel:/, ''));
  // Line-level constructs.
  text = text
    .split('\n')
    .map((line) => {
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) return ''; // horizontal rule
      return line
        .replace(/^\s{0,3}#{1,6}\s+/, '') // heading
        .replace(/\s+#+\s*$/, (m) => (/^\s{0,3}#/.test(line) ? '' : m)) // closing #s of a heading
        .replace(/^\s*(>\s?)+/, '') // block quote
        .replace(/^\s*[-*+]\s+\[[ xX]\]\s+/, '') // task list item
        .replace(/^\s*[-*+]\s+/, ''); // bullet: the item on its own line
    })
    .join('\n');
  // Emphasis and inline code.
  text = text.replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2');
  text = text.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1$2');
  text = text.replace(/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g, '$1$2');
  text = text.replace(/~~(?=\S)([\s\S]*?\S)~~/g, '$1');
  text = text.replace(/`+([^`]*)`+/g, '$1');
  // Backslash escapes, then any stray Markdown symbol that is left.
  text = text.replace(/\\([\\`*_{}[\]()#+\-.!>~|])/g, '$1');
  text = text.replace(/[*`]/g, '');
  text = text.replace(/^\s*#+\s*/gm, '');
  // HTML the bot never means to send as markup.
  text = text.replace(/<\/?(?:b|strong|i|em|u|br|p|span|code)\b[^>]*>/gi, (tag) => (/^<br/i.test(tag) ? '\n' : ''));
  return text
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// ------------------------------------------------------------------ options

export interface RenderedOption {
  title: string;
}

/** Buttons a person can pick by replying (imBack/postBack/messageBack with words). */
function pickable(action: CardAction): boolean {
  return ['imBack', 'postBack', 'messageBack'].includes(String(action.type)) && !!(action.title || action.text || action.displayText);
}

function actionTitle(action: CardAction): string {
  return String(action.title || action.displayText || action.text || action.value || '').trim();
}

interface CardParts {
  lines: string[];
  options: CardAction[];
  links: string[];
}

/** Text, pickable buttons and links of the cards a message carries (hero, thumbnail and adaptive cards). */
function cardParts(attachments: Attachment[] | undefined): CardParts {
  const out: CardParts = { lines: [], options: [], links: [] };
  for (const a of attachments ?? []) {
    const content = (a.content ?? {}) as Record<string, unknown>;
    if (/^application\/vnd\.microsoft\.card\.(hero|thumbnail|basic)$/.test(a.contentType)) {
      for (const key of ['title', 'subtitle', 'text'] as const) {
        if (typeof content[key] === 'string' && content[key]) out.lines.push(content[key] as string);
      }
      for (const b of (content.buttons as CardAction[] | undefined) ?? []) {
        if (pickable(b)) out.options.push(b);
        else if (b.type === 'openUrl' && typeof b.value === 'string') out.links.push(`${actionTitle(b)}: ${b.value}`);
        else if (b.type === 'call' && typeof b.value === 'string') out.links.push(`${actionTitle(b)}: ${b.value.replace(/^tel:/, '')}`);
      }
    } else if (a.contentType === 'application/vnd.microsoft.card.adaptive') {
      const walk = (node: unknown): void => {
        if (!node || typeof node !== 'object') return;
        if (Array.isArray(node)) return node.forEach(walk);
        const n = node as Record<string, unknown>;
        if (n.type === 'TextBlock' && typeof n.text === 'string') out.lines.push(n.text);
        if (n.type === 'Action.Submit' && typeof n.title === 'string') out.options.push({ type: 'imBack', title: n.title, value: n.title });
        if (n.type === 'Action.OpenUrl' && typeof n.url === 'string') out.links.push(`${typeof n.title === 'string' ? n.title : ''}: ${n.url}`);
        for (const key of ['body', 'items', 'columns', 'actions']) walk(n[key]);
      };
      walk(content);
    } else if (typeof a.name === 'string' && typeof a.contentUrl === 'string' && /^https:/.test(a.contentUrl)) {
      out.links.push(`${a.name}: ${a.contentUrl}`);
    }
  }
  return out;
}

const numberLists = new Map<string, string>();

/** "1, 2 or 3" in the given locale; a range ("1–10") for long lists. */
export function numberList(count: number, locale = 'en-GB'): string {
  const key = `${locale}|${count}`;
  let list = numberLists.get(key);
  if (list === undefined) {
    list = formatNumberList(count, locale);
    if (numberLists.size < 1000) numberLists.set(key, list);
  }
  return list;
}

function formatNumberList(count: number, locale: string): string {
  const numbers = Array.from({ length: count }, (_, i) => String(i + 1));
  try {
    // formatRange is ES2023 (Node 20 has it; the project's lib setting is ES2022).
    if (count > 5) return (new Intl.NumberFormat(locale) as unknown as { formatRange(a: number, b: number): string }).formatRange(1, count);
    return new Intl.ListFormat(locale, { type: 'disjunction' }).format(numbers);
  } catch {
    return numbers.join(', ');
  }
}

// ------------------------------------------------------------------ SMS

/** One bot message as plain SMS text (before splitting). Options are numbered from 1, in order. */
export function activityToSmsText(activity: Partial<Activity>, options: SmsRenderOptions): string {
  const parts: string[] = [];
  const text = typeof activity.text === 'string' ? activity.text : '';
  const plain = activity.textFormat === 'plain' ? text.trim() : markdownToPlain(text);
  const cards = cardParts(activity.attachments);
  const actions = [...cards.options, ...((activity.suggestedActions?.actions ?? []) as CardAction[]).filter(pickable)];
  const body = [plain, ...cards.lines.map((l) => markdownToPlain(l))].filter(Boolean).join('\n\n');
  if (actions.length) {
    const list = actions.map((a, i) => `${i + 1}. ${markdownToPlain(actionTitle(a))}`).join('\n');
    const hint = options.choiceHint({
      numbers: numberList(actions.length, options.locale),
      first: 1,
      last: actions.length,
      count: actions.length,
    });
    // The prompt, its list and the hint stay one paragraph, so they travel in one SMS when they fit.
    parts.push([body, list, hint].filter(Boolean).join('\n'));
  } else if (body) {
    parts.push(body);
  }
  if (cards.links.length) parts.push(cards.links.join('\n'));
  return parts.join('\n\n');
}

/**
 * A turn's replies as SMS messages: plain text, GSM-7-friendly punctuation,
 * each message at most `maxSegments` segments, in order.
 */
export function renderSms(activities: Array<Partial<Activity>>, options: SmsRenderOptions): string[] {
  const texts = activities
    .filter((a) => (a.type ?? 'message') === 'message')
    .map((a) => toSmsFriendly(activityToSmsText(a, options)))
    .filter((t) => t.trim());
  return splitSms(texts.join('\n\n'), options.maxSegments ?? 3);
}

// ------------------------------------------------------------------ Web Chat

const BOT = { id: 'speaksafe', name: 'SpeakSafe', role: 'bot' } as const;

/**
 * A bot reply for Web Chat: its content unchanged (Markdown, cards and
 * suggested actions render natively) in a clean Direct Line envelope, without
 * in-process routing details.
 */
export function toWebChatActivity(activity: Partial<Activity>, conversationId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: activity.type ?? 'message',
    channelId: 'webchat',
    conversation: { id: conversationId },
    from: { ...BOT },
    locale: activity.locale,
  };
  for (const key of ['text', 'textFormat', 'attachments', 'attachmentLayout', 'inputHint', 'speak', 'summary', 'entities', 'value', 'name'] as const) {
    if (activity[key] !== undefined && activity[key] !== null) out[key] = activity[key];
  }
  const suggested = activity.suggestedActions;
  if (suggested?.actions?.length) {
    // An empty "to" list is how botbuilder says "everyone"; Direct Line clients expect it absent.
    out.suggestedActions = suggested.to?.length ? { to: suggested.to, actions: suggested.actions } : { actions: suggested.actions };
  }
  return out;
}

/** Render a turn's replies for a channel: the one entry point both channels use. */
export function renderReplies(channel: 'webchat', activities: Array<Partial<Activity>>, options: { conversationId: string }): Array<Record<string, unknown>>;
export function renderReplies(channel: 'sms', activities: Array<Partial<Activity>>, options: SmsRenderOptions): string[];
export function renderReplies(
  channel: ChannelKind,
  activities: Array<Partial<Activity>>,
  options: { conversationId: string } | SmsRenderOptions,
): Array<Record<string, unknown>> | string[] {
  if (channel === 'sms') return renderSms(activities, options as SmsRenderOptions);
  const { conversationId } = options as { conversationId: string };
  return activities.filter((a) => a.type === 'message' || a.type === undefined).map((a) => toWebChatActivity(a, conversationId));
}
