/**
 * Bounds the per-utterance and per-word caches that NLP.js 4.27 keeps without any size limit.
 *
 * Found in the NLP.js source (node_modules/@nlpjs):
 *  1. `@nlpjs/nlu/src/nlu.js` `defaultPipelinePrepare()`: `this.cache.results[locale][text] = tokens`
 *     for EVERY distinct utterance, cleared only when an hour has passed. A public bot receiving many
 *     distinct messages grows without limit (memory exhaustion).
 *  2. `@nlpjs/core/src/tokenizer.js` `tokenize()`: `this.cache.normalized[text] = tokens`, same pattern.
 *  3. `@nlpjs/core/src/base-stemmer.js` `stemWord()`: `this.cache['.' + word] = stem` for every distinct
 *     word, never cleared at all.
 *
 * We replace those plain objects, on our own instances only, with Proxy-backed records that keep at
 * most N entries (least recently used evicted). The properties that hold them are redefined as
 * accessors that ignore the library's hourly "reset" assignments, so the library can never swap a
 * fresh unbounded object back in. Size 0 turns a cache into a sink (nothing is kept).
 *
 * A side benefit: a Map has no prototype keys, so utterances such as "constructor" or "__proto__"
 * no longer hit Object.prototype members in the library's lookups.
 */

import { LRUCache } from 'lru-cache';

const SIZE = Symbol('boundedRecordSize');

/** A record-like object (what the library expects) that keeps at most `max` string keys. */
export function boundedRecord<V extends NonNullable<unknown> = NonNullable<unknown>>(max: number): Record<string, V> {
  const limit = Math.max(0, Math.floor(max));
  // lru-cache needs a size of at least 1; a size-0 record never stores anything anyway.
  const map = new LRUCache<string, V>({ max: Math.max(1, limit) });
  const handler: ProxyHandler<Record<string, V>> = {
    get(_target, key) {
      if (key === SIZE) return map.size;
      if (typeof key !== 'string') return undefined;
      return map.get(key); // also marks it most recently used
    },
    set(_target, key, value: V) {
      if (limit === 0 || typeof key !== 'string' || value === undefined || value === null) return true;
      map.set(key, value); // evicts the least recently used past the limit
      return true;
    },
    has(_target, key) {
      return typeof key === 'string' && map.has(key);
    },
    getOwnPropertyDescriptor(_target, key) {
      if (typeof key !== 'string' || !map.has(key)) return undefined;
      return { value: map.get(key), writable: true, enumerable: true, configurable: true };
    },
    ownKeys() {
      return [...map.keys()];
    },
    deleteProperty(_target, key) {
      if (typeof key === 'string') map.delete(key);
      return true;
    },
    defineProperty() {
      return true;
    },
  };
  return new Proxy(Object.create(null) as Record<string, V>, handler);
}

/** Number of entries held by a record (bounded or plain). */
export function recordSize(record: unknown): number {
  if (!record || typeof record !== 'object') return 0;
  const size = (record as Record<symbol, unknown>)[SIZE];
  if (typeof size === 'number') return size;
  return Object.keys(record).length;
}

/** Holder whose every key (a locale) maps to its own bounded record; assignments are ignored. */
function boundedHolder(size: number, maxKeys = 16): Record<string, Record<string, NonNullable<unknown>>> {
  const perKey = new Map<string, Record<string, NonNullable<unknown>>>();
  const sink = boundedRecord(0);
  return new Proxy(Object.create(null) as Record<string, Record<string, NonNullable<unknown>>>, {
    get(_target, key) {
      if (typeof key !== 'string') return undefined;
      let record = perKey.get(key);
      if (!record) {
        if (perKey.size >= maxKeys) return sink;
        record = boundedRecord(size);
        perKey.set(key, record);
      }
      return record;
    },
    set() {
      return true;
    },
    has(_target, key) {
      return typeof key === 'string';
    },
    ownKeys() {
      return [...perKey.keys()];
    },
    getOwnPropertyDescriptor(_target, key) {
      if (typeof key !== 'string' || !perKey.has(key)) return undefined;
      return { value: perKey.get(key), writable: true, enumerable: true, configurable: true };
    },
    defineProperty() {
      return true;
    },
  });
}

/** Makes `obj[prop]` always return `value`; the library's own assignments are silently dropped. */
function pin(obj: object, prop: string, value: unknown): void {
  Object.defineProperty(obj, prop, {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: () => undefined,
  });
}

interface NluLike {
  cache?: Record<string, unknown>;
  prepare(text: string): Promise<unknown>;
}

/**
 * (1) Bounds the Nlu instance's per-utterance results cache. Call after training (the library creates
 * the cache object lazily on the first prepare; we create it if needed).
 */
export async function boundNluResultsCache(nlu: NluLike, size: number): Promise<void> {
  if (!nlu.cache) await nlu.prepare('warm up');
  const cache = nlu.cache;
  if (!cache || typeof cache !== 'object') throw new Error('NLP.js Nlu cache not found: library internals changed');
  pin(cache, 'results', boundedHolder(size));
  // `created` is compared with now to decide the hourly reset; that reset is now a no-op anyway.
}

interface TokenizerLike {
  cache?: unknown;
}

/** (2) Tokenizer cache: disabled (size 0 by default). The utterance cache above already covers repeats. */
export function boundTokenizerCache(tokenizer: TokenizerLike | undefined, size = 0): void {
  if (!tokenizer || typeof tokenizer !== 'object') return;
  const store = {
    normalized: boundedRecord(size),
    nonNormalized: boundedRecord(size),
  };
  // Never "expired": the library checks Math.abs(now - created) > 1 hour.
  Object.defineProperty(store, 'created', { enumerable: true, get: () => Date.now(), set: () => undefined });
  pin(tokenizer, 'cache', store);
}

interface StemmerLike {
  cache?: unknown;
}

/** (3) Stemmer per-word cache: bounded. */
export function boundStemmerCache(stemmer: StemmerLike | undefined, size: number): void {
  if (!stemmer || typeof stemmer !== 'object' || !('cache' in stemmer)) return;
  pin(stemmer, 'cache', boundedRecord(size));
}
