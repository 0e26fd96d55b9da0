/**
 * SpeakSafe intent classifier, built on NLP.js (neural NLU) and trained at start-up from the YAML
 * files in content/nlu/<locale>/ (training split only; the held-out split lives in content/nlu/<locale>/test/).
 *
 * NLP.js landmines handled here (see shared/landmines.md):
 *  - one container per service instance (containerBootstrap + container.use(Nlp)), never dockStart;
 *  - autoSave/autoLoad off: nothing is read from or written to disk by NLP.js;
 *  - a silent logger, training log off, no @nlpjs/basic import (its pino logger warns at require time);
 *  - NLP.js's own threshold is disabled (its "None" has score 1); we apply ours and map None → 'none';
 *  - the locale is always passed to process();
 *  - the unbounded per-utterance / per-word caches are bounded (bot/nlu/bounded-cache.ts);
 *  - the model is never exported (export patches RegExp.prototype.toJSON globally).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { containerBootstrap, type Container } from '@nlpjs/core';
import { Nlp, type NlpProcessResult } from '@nlpjs/nlp';
import { LangEn } from '@nlpjs/lang-en';
import { boundNluResultsCache, boundStemmerCache, boundTokenizerCache, recordSize } from './bounded-cache';

export const INTENTS = [
  'danger.immediate',
  'report.concern',
  'help.self',
  'learn.county_lines',
  'learn.cuckooing',
  'learn.signs_young_person',
  'learn.signs_property',
  'info.anonymity',
  'info.next_steps',
  'support.services',
  'nav.greeting',
  'nav.menu',
  'nav.goodbye',
  'none',
] as const;

export type IntentName =
  | 'danger.immediate'
  | 'report.concern'
  | 'help.self'
  | 'learn.county_lines'
  | 'learn.cuckooing'
  | 'learn.signs_young_person'
  | 'learn.signs_property'
  | 'info.anonymity'
  | 'info.next_steps'
  | 'support.services'
  | 'nav.greeting'
  | 'nav.menu'
  | 'nav.goodbye'
  | 'none';

// Compile-time check that INTENTS and IntentName list the same names.
type _IntentsMatch = (typeof INTENTS)[number] extends IntentName
  ? IntentName extends (typeof INTENTS)[number]
    ? true
    : never
  : never;
const _intentsMatch: _IntentsMatch = true;
void _intentsMatch;

export interface NluResult {
  intent: IntentName;
  /** Confidence (0..1) of the classifier in `intent`. For a below-threshold fallback to 'none' it is the low score of `candidate`. */
  score: number;
  /** Set when the result fell back to 'none' because the best intent scored below the threshold. */
  candidate?: IntentName;
  /** The classifier's score for danger.immediate, whatever the top intent (used by the safety check's lower threshold). */
  dangerScore?: number;
}

export interface NluOptions {
  /** Folder holding <locale>/*.yml. Default: <repo>/content/nlu */
  contentDir?: string;
  /** Default ['en']. The first one is the default for classify(). */
  locales?: string[];
  /** Below this score the intent becomes 'none' (the bot then shows a helpful menu). Default DEFAULT_THRESHOLD. */
  threshold?: number;
  /** Max utterances kept in the NLP.js preprocessing cache (the word-stem cache keeps 4x this). 0 disables. Default 1000. */
  cacheSize?: number;
  /**
   * Safety bias: when the classifier's score for danger.immediate reaches this value, the result is
   * danger.immediate even if another intent scored higher (missing danger costs far more than a
   * false alarm). Default DEFAULT_DANGER_PRIORITY; 1.01 turns it off.
   */
  dangerPriority?: number;
}

/** Chosen by evaluation (npm run nlu:eval -- --sweep): see content/nlu/README.md. */
export const DEFAULT_THRESHOLD = 0.4;
export const DEFAULT_CACHE_SIZE = 1000;
/** Chosen by cross-validation on the training split (npm run nlu:eval -- --sweep). */
export const DEFAULT_DANGER_PRIORITY = 0.25;
/** Neural network training settings, chosen by cross-validation (npm run nlu:eval -- --sweep). */
export const NEURAL_LEARNING_RATE = 0.05;
export const NEURAL_ITERATIONS = 60;
/** Longer input is cut (at a word boundary) before classification: the intent is almost always stated early. */
export const MAX_CLASSIFY_CHARS = 1000;

const INTENT_SET: ReadonlySet<string> = new Set(INTENTS);

export function isIntentName(value: unknown): value is IntentName {
  return typeof value === 'string' && INTENT_SET.has(value);
}

/** Locates <repo>/content/nlu by walking up from this file (works from bot/nlu and from a dist/ build). */
export function defaultContentDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'content', 'nlu');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return resolve(process.cwd(), 'content', 'nlu');
}

interface IntentFile {
  intent?: unknown;
  description?: unknown;
  examples?: unknown;
}

/**
 * Reads the examples for one locale and split. Training: content/nlu/<locale>/*.yml.
 * Test: content/nlu/<locale>/test/*.yml. Files whose name starts with "_" are not intent files.
 * Throws with the file name on a malformed file (fail fast at start-up).
 */
export function loadIntentExamples(dir: string, locale: string, split: 'train' | 'test'): Array<{ intent: IntentName; text: string }> {
  const folder = split === 'test' ? join(dir, locale, 'test') : join(dir, locale);
  if (!existsSync(folder)) throw new Error(`NLU data folder not found: ${folder}`);
  const files = readdirSync(folder)
    .filter((f) => /\.ya?ml$/i.test(f) && !f.startsWith('_'))
    .sort();
  const out: Array<{ intent: IntentName; text: string }> = [];
  for (const file of files) {
    const path = join(folder, file);
    let doc: IntentFile;
    try {
      doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as IntentFile;
    } catch (err) {
      throw new Error(`${path}: not valid YAML: ${(err as Error).message}`);
    }
    if (!isIntentName(doc.intent)) {
      throw new Error(`${path}: "intent" must be one of ${INTENTS.join(', ')} (got ${JSON.stringify(doc.intent)})`);
    }
    if (!Array.isArray(doc.examples)) throw new Error(`${path}: "examples" must be a list`);
    for (const ex of doc.examples) {
      if (typeof ex !== 'string' && typeof ex !== 'number') {
        throw new Error(`${path}: every example must be a line of text (got ${JSON.stringify(ex)})`);
      }
      const text = String(ex).trim();
      if (text) out.push({ intent: doc.intent, text });
    }
  }
  return out;
}

/** Optional spelling map (content/nlu/<locale>/_spellings.yml): SMS spellings → standard words. */
export function loadSpellings(dir: string, locale: string): Map<string, string> {
  const path = join(dir, locale, '_spellings.yml');
  const map = new Map<string, string>();
  if (!existsSync(path)) return map;
  let doc: { spellings?: Record<string, unknown> } | null;
  try {
    doc = parseYaml(readFileSync(path, 'utf8')) as { spellings?: Record<string, unknown> } | null;
  } catch (err) {
    throw new Error(`${path}: not valid YAML: ${(err as Error).message}`);
  }
  for (const [from, to] of Object.entries(doc?.spellings ?? {})) {
    if (typeof to !== 'string' && typeof to !== 'number') continue;
    map.set(String(from).toLowerCase().trim(), String(to).toLowerCase().trim());
  }
  return map;
}

// Control characters, bidi controls, zero-width characters, BOM.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const REPEATS = /(\p{L})\1{2,}/gu;
const WORD = /[\p{L}\p{N}]+/gu;

/** Cuts long text at a word boundary, near `max` characters. */
export function truncateText(text: string, max = MAX_CLASSIFY_CHARS): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  // don't split a surrogate pair
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  const space = cut.search(/\s\S*$/);
  return space > max * 0.8 ? cut.slice(0, space) : cut;
}

/**
 * Cheap, bounded text clean-up applied before NLP.js: cut, strip invisible/control characters,
 * lower-case, squeeze runs of 3+ identical letters ("pleeease" → "pleease"), map SMS spellings.
 */
export function prepareText(raw: unknown, spellings: ReadonlyMap<string, string>): string {
  if (typeof raw !== 'string') return '';
  let text = truncateText(raw);
  text = text.replace(INVISIBLE, ' ').replace(LONE_SURROGATE, ' ').toLowerCase();
  text = text.replace(/[\u2018\u2019\u02bc`´]/g, "'");
  text = text.replace(REPEATS, '$1$1');
  if (spellings.size) text = text.replace(WORD, (w) => spellings.get(w) ?? w);
  return text.replace(/\s+/g, ' ').trim();
}

const silentLogger = {
  name: 'logger',
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  log: () => undefined,
  trace: () => undefined,
  fatal: () => undefined,
};

interface DomainManagerInternals {
  domains?: Record<string, { cache?: Record<string, unknown>; prepare(t: string): Promise<unknown> }>;
}
interface NluManagerInternals {
  domainManagers?: Record<string, DomainManagerInternals>;
}

function resolveOptions(options: NluOptions): Required<NluOptions> {
  return {
    contentDir: options.contentDir ?? defaultContentDir(),
    locales: options.locales && options.locales.length ? [...options.locales] : ['en'],
    threshold: options.threshold ?? DEFAULT_THRESHOLD,
    cacheSize: options.cacheSize ?? DEFAULT_CACHE_SIZE,
    dangerPriority: options.dangerPriority ?? DEFAULT_DANGER_PRIORITY,
  };
}

export class NluService {
  readonly intents: IntentName[];
  readonly threshold: number;
  readonly locales: string[];
  readonly cacheSize: number;
  readonly dangerPriority: number;
  private _ready = false;
  private readonly container: Container;
  private readonly nlp: Nlp;
  private readonly spellings = new Map<string, Map<string, string>>();

  private constructor(private readonly opts: Required<NluOptions>) {
    this.threshold = opts.threshold;
    this.locales = opts.locales;
    this.cacheSize = opts.cacheSize;
    this.dangerPriority = opts.dangerPriority;
    this.intents = [];
    this.container = containerBootstrap();
    this.container.register('logger', silentLogger, true);
    this.container.use(LangEn);
    this.container.registerConfiguration(
      'nlp',
      {
        languages: [...opts.locales],
        autoSave: false,
        autoLoad: false,
        forceNER: false,
        threshold: 0, // we apply our own threshold
        calculateSentiment: false,
        modelFileName: '',
        nlu: { log: false, useNoneFeature: true },
      },
      true,
    );
    // Settings of every NLU (the neural classifier) in this container. The defaults of NLP.js are
    // kept except: no training log, and a lower learning rate with early stopping (60 epochs),
    // chosen by 5-fold cross-validation on the training split (the default memorises the
    // training lines and generalises worse: CV accuracy 0.69 vs 0.79).
    this.container.registerConfiguration(
      'nlu-??',
      {
        keepStopwords: true,
        nonefeatureValue: 1,
        nonedeltaMultiplier: 1.2,
        spellCheck: false,
        spellCheckDistance: 1,
        filterZeros: true,
        log: false,
        learningRate: NEURAL_LEARNING_RATE,
        iterations: NEURAL_ITERATIONS,
      },
      true,
    );
    this.container.use(Nlp);
    this.nlp = this.container.get<Nlp>('nlp');
  }

  get ready(): boolean {
    return this._ready;
  }

  static async train(options: NluOptions = {}): Promise<NluService> {
    const service = new NluService(resolveOptions(options));
    await service.doTrain();
    return service;
  }

  /**
   * Trains on the given examples instead of the training files (used by cross-validation in
   * bot/nlu/eval.ts). Spellings still come from contentDir. Every locale gets the same examples.
   */
  static async fromExamples(examples: Array<{ intent: IntentName; text: string }>, options: NluOptions = {}): Promise<NluService> {
    const service = new NluService(resolveOptions(options));
    await service.doTrain(examples);
    return service;
  }

  private async doTrain(given?: Array<{ intent: IntentName; text: string }>): Promise<void> {
    const seen = new Set<IntentName>();
    for (const locale of this.locales) {
      const spellings = loadSpellings(this.opts.contentDir, locale);
      this.spellings.set(locale, spellings);
      const examples = given ?? loadIntentExamples(this.opts.contentDir, locale, 'train');
      if (!examples.length) throw new Error(`No training examples for locale ${locale}`);
      for (const { intent, text } of examples) {
        const prepared = prepareText(text, spellings);
        if (!prepared) continue;
        this.nlp.addDocument(locale, prepared, intent);
        seen.add(intent);
      }
    }
    await this.nlp.train();
    this.intents.push(...INTENTS.filter((i) => seen.has(i)));
    await this.boundCaches();
    this._ready = true;
  }

  private nluInstances(): Array<{ cache?: Record<string, unknown>; prepare(t: string): Promise<unknown> }> {
    const manager = this.nlp.nluManager as NluManagerInternals;
    const out: Array<{ cache?: Record<string, unknown>; prepare(t: string): Promise<unknown> }> = [];
    for (const dm of Object.values(manager.domainManagers ?? {})) {
      for (const nlu of Object.values(dm.domains ?? {})) out.push(nlu);
    }
    return out;
  }

  private async boundCaches(): Promise<void> {
    const nlus = this.nluInstances();
    if (!nlus.length) throw new Error('NLP.js internals changed: no Nlu instance found to bound its cache');
    for (const nlu of nlus) await boundNluResultsCache(nlu, this.cacheSize);
    boundTokenizerCache(this.container.get('tokenize'), 0);
    boundStemmerCache(this.container.get('stem'), this.cacheSize * 4);
    for (const locale of this.locales) {
      boundTokenizerCache(this.container.get(`tokenizer-${locale}`), 0);
      boundStemmerCache(this.container.get(`stemmer-${locale}`), this.cacheSize * 4);
    }
  }

  /**
   * Entry counts of the NLP.js caches, read from the library's own objects (for tests and monitoring).
   */
  cacheSizes(): { utterances: number; tokens: number; stems: number } {
    let utterances = 0;
    for (const nlu of this.nluInstances()) {
      const results = (nlu.cache?.results ?? {}) as Record<string, unknown>;
      for (const key of Object.keys(results)) utterances += recordSize(results[key]);
    }
    let tokens = 0;
    let stems = 0;
    const tokenizers = ['tokenize', ...this.locales.map((l) => `tokenizer-${l}`)];
    for (const name of tokenizers) {
      const t = this.container.get<{ cache?: { normalized?: unknown; nonNormalized?: unknown } }>(name);
      tokens += recordSize(t?.cache?.normalized) + recordSize(t?.cache?.nonNormalized);
    }
    for (const name of ['stem', ...this.locales.map((l) => `stemmer-${l}`)]) {
      const s = this.container.get<{ cache?: unknown }>(name);
      stems += recordSize(s?.cache);
    }
    return { utterances, tokens, stems };
  }

  private pickLocale(locale?: string): string {
    if (typeof locale === 'string') {
      const short = locale.slice(0, 2).toLowerCase();
      if (this.locales.includes(locale)) return locale;
      if (this.locales.includes(short)) return short;
    }
    return this.locales[0] ?? 'en';
  }

  /** Never throws. Empty / unusable input → { intent: 'none', score: 1 }. */
  async classify(text: string, locale?: string): Promise<NluResult> {
    try {
      if (!this._ready) return { intent: 'none', score: 0 };
      const loc = this.pickLocale(locale);
      const prepared = prepareText(text, this.spellings.get(loc) ?? new Map());
      if (!prepared || !/[\p{L}\p{N}]/u.test(prepared)) return { intent: 'none', score: 1 };
      const out: NlpProcessResult = await this.nlp.process(loc, prepared);
      return this.toResult(out);
    } catch {
      return { intent: 'none', score: 0 };
    }
  }

  private toResult(out: NlpProcessResult): NluResult {
    let dangerScore = 0;
    const cls = out.classifications;
    if (Array.isArray(cls)) {
      for (const c of cls) {
        if (c.intent === 'danger.immediate') {
          dangerScore = c.score;
          break;
        }
      }
    }
    const raw = out.intent;
    const score = typeof out.score === 'number' && Number.isFinite(out.score) ? out.score : 0;
    if (dangerScore >= this.dangerPriority) {
      return { intent: 'danger.immediate', score: dangerScore, dangerScore };
    }
    if (raw === 'None' || !isIntentName(raw)) return { intent: 'none', score: 1, dangerScore };
    if (raw !== 'none' && score < this.threshold) return { intent: 'none', score, candidate: raw, dangerScore };
    return { intent: raw, score, dangerScore };
  }
}
