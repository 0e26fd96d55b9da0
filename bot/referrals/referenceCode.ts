/**
 * Referral reference codes: short, easy to read aloud, type and text.
 *
 * Format: `XXXX-XXXX` — 7 random characters (crypto.randomInt) and 1 check
 * character, shown with a hyphen after the fourth. Example: `K7MW-2QX3`.
 *
 * Alphabet (30 characters): 23456789ABCDEFGHJKMNPQRSTVWXYZ
 *   Crockford's base-32 idea without 0 and 1: it leaves out 0 O 1 I L U, the
 *   characters most often mixed up (0/O, 1/I/L) or misread (U/V).
 *   30^7 ≈ 2.2 × 10^10 possible codes.
 *
 * Check character: Luhn mod N (N = 30) over the alphabet. Because N is even,
 * doubling is a one-to-one mapping, so EVERY single-character substitution is
 * caught. Luhn mod N catches every adjacent transposition except one pair: the
 * first and last characters of the alphabet ("2" and "Z"). We never issue a code
 * in which "2" and "Z" stand next to each other (and such codes never validate),
 * so every adjacent transposition of an issued code is caught too.
 * test/referrals/referenceCode.test.ts proves both by brute force.
 *
 * Normalising typed input: lower case is accepted, spaces / hyphens / dots /
 * underscores are ignored, and a leading "ref", "reference" or "code" is dropped.
 * The only look-alike mapped is U → V (U is not in the alphabet and V is the
 * only character it can be confused with). 0, O, 1, I and L are NOT mapped:
 * each could stand for more than one character (0 → D or Q? 1 → 7 or T?), and
 * a wrong guess could point an addendum at someone else's referral, so such
 * input is rejected and the person is asked to check the code.
 */
import { randomInt } from 'node:crypto';

export const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const N = REFERENCE_ALPHABET.length; // 30
const PAYLOAD_LENGTH = 7;
const CODE_LENGTH = PAYLOAD_LENGTH + 1;

const CLASS = `[${REFERENCE_ALPHABET}]`;
/** A reference in its display form, e.g. `K7MW-2QX3` (the check character is not verified by the pattern). */
export const REFERENCE_PATTERN = new RegExp(`^${CLASS}{4}-${CLASS}{4}$`);

/** The one pair Luhn mod N cannot tell apart when swapped: never adjacent in an issued code. */
const FIRST = REFERENCE_ALPHABET[0] as string;
const LAST = REFERENCE_ALPHABET[N - 1] as string;
function hasBlindPair(code: string): boolean {
  return code.includes(FIRST + LAST) || code.includes(LAST + FIRST);
}

function valueOf(ch: string): number {
  return REFERENCE_ALPHABET.indexOf(ch);
}

/** Luhn mod N sum; `startFactor` is the factor for the right-most character. */
function luhnSum(chars: string, startFactor: 1 | 2): number {
  let factor = startFactor;
  let sum = 0;
  for (let i = chars.length - 1; i >= 0; i -= 1) {
    let addend = factor * valueOf(chars[i] as string);
    addend = Math.floor(addend / N) + (addend % N);
    sum += addend;
    factor = factor === 2 ? 1 : 2;
  }
  return sum;
}

/** The Luhn mod N check character for a payload of alphabet characters. */
export function checkCharacter(payload: string): string {
  for (const ch of payload) if (valueOf(ch) < 0) throw new Error(`not a reference character: ${JSON.stringify(ch)}`);
  const remainder = luhnSum(payload, 2) % N;
  return REFERENCE_ALPHABET[(N - remainder) % N] as string;
}

function checksumOk(code: string): boolean {
  for (const ch of code) if (valueOf(ch) < 0) return false;
  return luhnSum(code, 1) % N === 0;
}

function display(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** A new random reference code, e.g. `K7MW-2QX3`. */
export function generateReference(): string {
  for (;;) {
    let payload = '';
    for (let i = 0; i < PAYLOAD_LENGTH; i += 1) payload += REFERENCE_ALPHABET[randomInt(N)];
    const code = payload + checkCharacter(payload);
    if (!hasBlindPair(code)) return display(code);
  }
}

/** True only for a code in display form (`XXXX-XXXX`, upper case) whose check character is right. */
export function isValidReference(s: string): boolean {
  if (typeof s !== 'string' || !REFERENCE_PATTERN.test(s)) return false;
  const code = s.replace('-', '');
  return checksumOk(code) && !hasBlindPair(code);
}

/**
 * Turn what someone typed into a reference in display form, or null if it is
 * not a valid reference. Accepts lower case, spaces, a missing or extra hyphen,
 * and a leading "ref"/"reference"/"code"; maps U to V (see the file comment).
 */
export function normaliseReference(input: string): string | null {
  if (typeof input !== 'string') return null;
  let s = input.trim().toUpperCase();
  if (s.length > 60) return null;
  const withoutLabel = s.replace(/^(?:MY\s+)?(?:REF(?:ERENCE)?|CODE)\b(?:\s*(?:NO\.?|NUMBER|CODE)\b)?\s*(?:IS\b|:|#)?\s*/, '');
  // Try without the label first, then as typed (a code could itself start with "REF").
  for (const candidate of withoutLabel === s ? [s] : [withoutLabel, s]) {
    const compact = candidate.replace(/[\s\-\u2010-\u2015\u2212._]/g, '').replace(/U/g, 'V');
    if (compact.length !== CODE_LENGTH) continue;
    const shown = display(compact);
    if (isValidReference(shown)) return shown;
  }
  return null;
}
