// fast-check arbitraries for hostile input: text of every kind, raw bytes that
// are not UTF-8, JSON of any shape, and the content types clients get wrong.
import fc from 'fast-check';
import { NASTY_STRINGS } from './helpers';

const chars = (from: number, to: number): fc.Arbitrary<string> => fc.integer({ min: from, max: to }).map((c) => String.fromCodePoint(c));

/** Right-to-left scripts (Hebrew, Arabic) with bidi controls mixed in. */
export const rtlText = fc.string({ unit: fc.oneof(chars(0x0590, 0x05ff), chars(0x0600, 0x06ff), fc.constantFrom('\u200F', '\u202B', '\u202E', '\u2067', ' ')), maxLength: 80 });

/** C0/C1 controls, NUL, DEL, zero-width and BOM. */
export const controlText = fc.string({ unit: fc.oneof(chars(0x00, 0x1f), chars(0x7f, 0x9f), fc.constantFrom('\u200B', '\u2028', '\u2029', '\uFEFF', 'a')), maxLength: 60 });

const EMOJI = ['😱', '🔪', '💊', '📱', '🚗', '👩‍👩‍👧‍👦', '🏳️‍🌈', '🇬🇧', '👍🏽', '❤️', '🫠'];
export const emojiText = fc.array(fc.oneof(fc.constantFrom(...EMOJI), fc.constantFrom(' ', 'help', 'me')), { maxLength: 40 }).map((a) => a.join(''));

/** Any message text a person, a broken client or an attacker might send. */
export function messageText(maxLong: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 80 }),
    rtlText,
    controlText,
    emojiText,
    fc.constantFrom(...NASTY_STRINGS),
    // Longer than MAX_MESSAGE_CHARS (cut, not refused) but inside the body limit.
    fc.integer({ min: 1, max: maxLong }).map((n) => 'x'.repeat(n)),
  );
}

/** Byte strings that are mostly not valid UTF-8. */
export const invalidUtf8 = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.constantFrom(
    Buffer.from([0xff, 0xfe, 0xfd]),
    Buffer.from([0xc3, 0x28]),
    Buffer.from([0xe2, 0x28, 0xa1]),
    Buffer.from([0xf0, 0x28, 0x8c, 0xbc]),
    Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from('{"type":"message","text":"\u0000'),
  ),
);

/** Content types, right and wrong. `undefined` sends none. */
export const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded',
  'text/plain',
  'text/xml',
  'application/xml',
  'application/octet-stream',
  'multipart/form-data',
  'multipart/form-data; boundary=xyz',
  'application/x-www-form-urlencoded; charset=utf-16',
  'image/png',
  '*/*',
  'garbage',
  undefined,
);

/** Any JSON value, including deep ones and keys such as __proto__. */
export const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'type', 'text', 'value', 'toString'), fc.jsonValue({ maxDepth: 2 })),
);

/** Serialised JSON with the object's own __proto__ key (JSON.stringify would drop it). */
export const protoPollution = fc.constantFrom(
  '{"__proto__":{"isAdmin":true},"type":"message","text":"hi"}',
  '{"constructor":{"prototype":{"polluted":true}},"type":"message"}',
);

/** `base` as JSON with a `value` nested deeper than any real client sends (a few KB of brackets). */
export function deepJson(base: Record<string, unknown>): fc.Arbitrary<string> {
  return fc
    .record({ depth: fc.integer({ min: 2000, max: 7000 }), open: fc.constantFrom('[', '{"a":') })
    .map(({ depth, open }) => JSON.stringify({ ...base, value: '__DEEP__' }).replace('"__DEEP__"', `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`));
}
