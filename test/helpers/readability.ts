/**
 * Small, dependency-free readability helpers used by the content tests.
 *
 * Flesch-Kincaid grade = 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59
 *
 * The syllable count is a heuristic (vowel groups, with common silent endings
 * removed). It is good enough to catch copy that has drifted away from a
 * reading age of about 11; it is not a substitute for reading the text aloud.
 */

/** Strip the Markdown we allow in topic bodies, keeping the words. */
export function markdownToPlainText(markdown: string): string {
  return (
    markdown
      // [link text](url) -> link text
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      // bold / italic markers
      .replace(/[*_]{1,3}/g, '')
      // bullet markers at the start of a line
      .replace(/^\s*[-*+]\s+/gm, '')
      // web addresses and domains read as one word (fearless.org -> fearless)
      .replace(/\b([a-z0-9-]+)\.(org|uk|com|net)(\.[a-z]+)?\b/gi, '$1')
  );
}

/**
 * Split text into sentences. Line breaks also end a sentence, because every
 * bullet point and heading-like line is read as a separate unit on a phone.
 */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => /[a-z0-9]/i.test(s));
}

/** Words are runs of letters (with inner apostrophes) or digits. */
export function splitWords(text: string): string[] {
  return text.match(/[a-z0-9]+(?:['’][a-z]+)*/gi) ?? [];
}

/** Estimate the syllables in one word. */
export function countSyllables(rawWord: string): number {
  let word = rawWord.toLowerCase().replace(/['’]/g, '');
  if (/^\d+$/.test(word)) {
    // Numbers are read digit by digit or as short groups; count one per digit, max 4.
    return Math.min(word.length, 4);
  }
  word = word.replace(/[^a-z]/g, '');
  if (word.length === 0) return 0;
  if (word.length <= 3) return 1;

  // Silent endings: "-es" (but not after s, x, z, c, g: "taxes", "places", "changes"),
  // "-ed" (but not "-ted"/"-ded"), and a final silent "e" (but not "-le").
  word = word.replace(/(?:[^laeiouysxzcg]es|[^tdaeiouy]ed|[^laeiouy]e)$/, (m) => m.slice(0, 1));
  word = word.replace(/^y/, '');

  const groups = word.match(/[aeiouy]+/g);
  return Math.max(1, groups ? groups.length : 1);
}

export interface ReadabilityStats {
  sentences: number;
  words: number;
  syllables: number;
  grade: number;
}

/** Flesch-Kincaid grade level of a Markdown body. */
export function fleschKincaid(markdown: string): ReadabilityStats {
  const plain = markdownToPlainText(markdown);
  const sentences = splitSentences(plain);
  const words = sentences.flatMap(splitWords);
  const syllables = words.reduce((sum, w) => sum + countSyllables(w), 0);
  const s = Math.max(1, sentences.length);
  const w = Math.max(1, words.length);
  const grade = 0.39 * (w / s) + 11.8 * (syllables / w) - 15.59;
  return { sentences: sentences.length, words: words.length, syllables, grade: Math.round(grade * 100) / 100 };
}
