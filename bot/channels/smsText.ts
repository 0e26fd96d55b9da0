// SMS text arithmetic: which characters GSM-7 can carry, how many segments a
// text costs, and splitting long text at sentence boundaries into chunks of
// at most N segments each. Pure functions; no copy text lives here.

/** GSM 03.38 basic character set (one septet each). */
const GSM_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);
/** GSM 03.38 extension table (escape + char: two septets each). */
const GSM_EXTENSION = new Set(Array.from('\f^{}\\[~]|€'));

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/** Limits per segment: a single message, and each part of a concatenated one. */
export const SEGMENT_LIMITS: Record<SmsEncoding, { single: number; multi: number }> = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
};

// Typographic characters that would force the whole message into UCS-2
// (67 characters per segment instead of 153), with their GSM-7 equivalents.
// Twilio's "smart encoding" does the same; doing it here keeps the segment
// arithmetic exact.
const SMART_REPLACEMENTS: Array<[RegExp, string]> = [
  [/[\u2018\u2019\u201A\u201B\u2032\u02BC]/g, "'"],
  [/[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB]/g, '"'],
  [/[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/g, '-'],
  [/\u2026/g, '...'],
  [/[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, ' '],
  [/[\u2022\u2023\u2043\u25E6\u00B7]/g, '-'],
  [/[\u200B-\u200D\u2060\uFEFF]/g, ''],
  [/\u00D7/g, 'x'],
];

/** Replace typographic punctuation with plain equivalents that GSM-7 carries. */
export function toSmsFriendly(text: string): string {
  let out = text.normalize('NFC');
  for (const [pattern, replacement] of SMART_REPLACEMENTS) out = out.replace(pattern, replacement);
  return out;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!GSM_BASIC.has(ch) && !GSM_EXTENSION.has(ch)) return false;
  return true;
}

export function encodingOf(text: string): SmsEncoding {
  return isGsm7(text) ? 'GSM-7' : 'UCS-2';
}

/** Cost of each character in the encoding's units (septets, or UTF-16 code units). */
function costs(text: string, encoding: SmsEncoding): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(encoding === 'GSM-7' ? (GSM_EXTENSION.has(ch) ? 2 : 1) : ch.length);
  return out;
}

/** How many SMS segments a text needs. A character is never split across two segments. */
export function segmentCount(text: string): { encoding: SmsEncoding; segments: number; units: number } {
  const encoding = encodingOf(text);
  const units = costs(text, encoding);
  const total = units.reduce((a, b) => a + b, 0);
  const { single, multi } = SEGMENT_LIMITS[encoding];
  if (total <= single) return { encoding, segments: total === 0 ? 0 : 1, units: total };
  let segments = 1;
  let used = 0;
  for (const c of units) {
    if (used + c > multi) {
      segments += 1;
      used = 0;
    }
    used += c;
  }
  return { encoding, segments, units: total };
}

export function fitsSegments(text: string, maxSegments: number): boolean {
  return segmentCount(text).segments <= maxSegments;
}

interface Piece {
  /** Separator before this piece when it follows another in the same chunk. */
  sep: string;
  text: string;
}

const SENTENCE_END = /(?<=[.!?…])["')\]]*\s+(?=\S)/g;

/** Split a paragraph (no blank lines) into sentence pieces; lines stay pieces of their own. */
function sentencePieces(paragraph: string): Piece[] {
  const pieces: Piece[] = [];
  paragraph.split('\n').forEach((line, lineIndex) => {
    const sentences: string[] = [];
    let last = 0;
    for (const m of line.matchAll(SENTENCE_END)) {
      const end = (m.index ?? 0) + m[0].length;
      // Keep closing quotes/brackets with the sentence, drop the whitespace.
      const chunk = line.slice(last, end).trimEnd();
      if (chunk) sentences.push(chunk);
      last = end;
    }
    const rest = line.slice(last).trim();
    if (rest) sentences.push(rest);
    sentences.forEach((s, i) => pieces.push({ sep: i === 0 ? (lineIndex === 0 ? '' : '\n') : ' ', text: s }));
  });
  return pieces;
}

/** Split text that is too long for one chunk at word boundaries (or anywhere, for very long words). */
function hardSplit(text: string, maxSegments: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(/(?<=\s)/)) {
    const candidate = current + word;
    if (fitsSegments(candidate.trimEnd(), maxSegments)) {
      current = candidate;
      continue;
    }
    if (current.trim()) out.push(current.trim());
    current = '';
    if (fitsSegments(word.trimEnd(), maxSegments)) {
      current = word;
      continue;
    }
    // A single "word" (e.g. a very long link) longer than a chunk.
    let part = '';
    for (const ch of word) {
      if (!fitsSegments(part + ch, maxSegments)) {
        out.push(part);
        part = '';
      }
      part += ch;
    }
    current = part;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/**
 * Split text into chunks of at most `maxSegments` SMS segments each. Whole
 * paragraphs are kept together when they fit; otherwise the split falls at a
 * sentence (or line) boundary, and only a single over-long sentence is split
 * between words.
 */
export function splitSms(text: string, maxSegments = 3): string[] {
  const clean = text.replace(/\r\n?/g, '\n').replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  if (!clean) return [];
  if (fitsSegments(clean, maxSegments)) return [clean];
  const chunks: string[] = [];
  let current = '';
  const push = (): void => {
    if (current.trim()) chunks.push(current.trim());
    current = '';
  };
  const add = (sep: string, piece: string): void => {
    const candidate = current ? current + sep + piece : piece;
    if (fitsSegments(candidate, maxSegments)) {
      current = candidate;
      return;
    }
    push();
    if (fitsSegments(piece, maxSegments)) {
      current = piece;
      return;
    }
    const parts = hardSplit(piece, maxSegments);
    chunks.push(...parts.slice(0, -1));
    current = parts[parts.length - 1] ?? '';
  };
  for (const paragraph of clean.split('\n\n')) {
    // Prefer to start a paragraph in a fresh chunk rather than split it.
    const joined = current ? `${current}\n\n${paragraph}` : paragraph;
    if (fitsSegments(joined, maxSegments)) {
      current = joined;
      continue;
    }
    if (fitsSegments(paragraph, maxSegments)) {
      push();
      current = paragraph;
      continue;
    }
    sentencePieces(paragraph).forEach((p, i) => add(i === 0 ? '\n\n' : p.sep, p.text));
  }
  push();
  return chunks;
}
