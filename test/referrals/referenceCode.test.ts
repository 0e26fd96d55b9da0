import {
  REFERENCE_ALPHABET,
  REFERENCE_PATTERN,
  checkCharacter,
  generateReference,
  isValidReference,
  normaliseReference,
} from '../../bot/referrals/referenceCode';

const N = REFERENCE_ALPHABET.length;
const SAMPLE = Array.from({ length: 400 }, () => generateReference());

function compact(ref: string): string {
  return ref.replace('-', '');
}
function display(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

describe('reference format', () => {
  test('alphabet has no confusable characters and an even size (needed by Luhn mod N)', () => {
    expect(REFERENCE_ALPHABET).toBe('23456789ABCDEFGHJKMNPQRSTVWXYZ');
    for (const ch of '01OILU') expect(REFERENCE_ALPHABET).not.toContain(ch);
    expect(new Set(REFERENCE_ALPHABET).size).toBe(N);
    expect(N % 2).toBe(0);
  });

  test('generated codes look like XXXX-XXXX, validate, and vary', () => {
    for (const ref of SAMPLE) {
      expect(ref).toMatch(REFERENCE_PATTERN);
      expect(isValidReference(ref)).toBe(true);
    }
    expect(new Set(SAMPLE).size).toBe(SAMPLE.length);
  });

  test('check character is the last character', () => {
    for (const ref of SAMPLE.slice(0, 50)) {
      const c = compact(ref);
      expect(checkCharacter(c.slice(0, 7))).toBe(c[7]);
    }
  });
});

describe('check character catches typing errors (brute force)', () => {
  test('every single-character substitution is detected', () => {
    let tried = 0;
    for (const ref of SAMPLE) {
      const c = compact(ref);
      for (let i = 0; i < c.length; i += 1) {
        for (const ch of REFERENCE_ALPHABET) {
          if (ch === c[i]) continue;
          const changed = c.slice(0, i) + ch + c.slice(i + 1);
          tried += 1;
          if (isValidReference(display(changed))) throw new Error(`substitution not caught: ${ref} -> ${display(changed)}`);
        }
      }
    }
    expect(tried).toBe(SAMPLE.length * 8 * (N - 1));
  });

  test('every adjacent transposition is detected', () => {
    let tried = 0;
    for (const ref of SAMPLE) {
      const c = compact(ref);
      for (let i = 0; i < c.length - 1; i += 1) {
        if (c[i] === c[i + 1]) continue;
        const swapped = c.slice(0, i) + c[i + 1] + c[i] + c.slice(i + 2);
        tried += 1;
        if (isValidReference(display(swapped))) throw new Error(`transposition not caught: ${ref} -> ${display(swapped)}`);
      }
    }
    expect(tried).toBeGreaterThan(SAMPLE.length * 6);
  });

  test('exhaustively: every adjacent pair except the documented blind pair changes the check', () => {
    // For each pair of characters (a, b) at each pair of positions, a valid code with "ab"
    // and the same code with "ba" cannot both be valid, except for a = first, b = last
    // of the alphabet, which generateReference never places next to each other.
    const blind = new Set([REFERENCE_ALPHABET[0]! + REFERENCE_ALPHABET[N - 1]!, REFERENCE_ALPHABET[N - 1]! + REFERENCE_ALPHABET[0]!]);
    const undetected: string[] = [];
    for (let pos = 0; pos < 6; pos += 1) {
      for (const a of REFERENCE_ALPHABET) {
        for (const b of REFERENCE_ALPHABET) {
          if (a === b) continue;
          const payload = ('3'.repeat(pos) + a + b).padEnd(7, '4');
          const swapped = ('3'.repeat(pos) + b + a).padEnd(7, '4');
          if (checkCharacter(payload) === checkCharacter(swapped)) undetected.push(a + b);
        }
      }
    }
    expect(new Set(undetected)).toEqual(blind);
    for (const ref of SAMPLE) for (const pair of blind) expect(compact(ref)).not.toContain(pair);
  });
});

describe('normaliseReference', () => {
  const ref = SAMPLE[0]!;
  const c = compact(ref);

  test('accepts lower case, spaces, a missing hyphen and a "ref" label', () => {
    expect(normaliseReference(ref)).toBe(ref);
    expect(normaliseReference(ref.toLowerCase())).toBe(ref);
    expect(normaliseReference(c)).toBe(ref);
    expect(normaliseReference(`  ${c.slice(0, 2)} ${c.slice(2, 5)} ${c.slice(5)} `)).toBe(ref);
    expect(normaliseReference(`ref: ${ref}`)).toBe(ref);
    expect(normaliseReference(`my reference is ${ref.toLowerCase()}`)).toBe(ref);
    expect(normaliseReference(`${c.slice(0, 4)}\u2013${c.slice(4)}`)).toBe(ref);
  });

  test('maps U to V (the only unambiguous look-alike)', () => {
    const withV = SAMPLE.find((r) => r.includes('V'));
    if (withV) expect(normaliseReference(withV.replace(/V/g, 'U'))).toBe(withV);
  });

  test('rejects 0, O, 1, I, L rather than guessing', () => {
    for (const ch of '0O1IL') {
      expect(normaliseReference(ch + c.slice(1))).toBeNull();
    }
  });

  test('rejects wrong check characters, wrong lengths and junk', () => {
    const wrong = c.slice(0, 7) + REFERENCE_ALPHABET[(REFERENCE_ALPHABET.indexOf(c[7]!) + 1) % N];
    expect(normaliseReference(wrong)).toBeNull();
    expect(normaliseReference(c.slice(0, 7))).toBeNull();
    expect(normaliseReference(c + '2')).toBeNull();
    expect(normaliseReference('')).toBeNull();
    expect(normaliseReference('hello there')).toBeNull();
    expect(normaliseReference(undefined as unknown as string)).toBeNull();
  });

  test('isValidReference only accepts the display form', () => {
    expect(isValidReference(ref)).toBe(true);
    expect(isValidReference(ref.toLowerCase())).toBe(false);
    expect(isValidReference(c)).toBe(false);
  });
});
