/**
 * NLP.js 4.27 caches its preprocessing per exact utterance (and per word in the stemmer) with no
 * size bound. These tests show the problem on a plain NLP.js instance, then prove the bound on ours
 * by reading the library's own cache objects.
 */
import { containerBootstrap } from '@nlpjs/core';
import { Nlp } from '@nlpjs/nlp';
import { LangEn } from '@nlpjs/lang-en';
import { NluService } from '../../bot/nlu/nlu';
import { boundedRecord, recordSize } from '../../bot/nlu/bounded-cache';

function randomText(i: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let w = 0; w < 4; w += 1) {
    let word = '';
    for (let c = 0; c < 6; c += 1) word += chars[Math.floor(Math.random() * chars.length)];
    s += `${word} `;
  }
  return `${s}${i}`;
}

interface NluInternals {
  cache?: { results?: Record<string, Record<string, unknown>>; created?: number };
}

describe('the NLP.js cache problem (unpatched library)', () => {
  it('grows by one entry per distinct utterance', async () => {
    const container = containerBootstrap();
    container.register('logger', { debug() {}, info() {}, warn() {}, error() {}, log() {}, trace() {}, fatal() {} }, true);
    container.use(LangEn);
    container.registerConfiguration(
      'nlp',
      { languages: ['en'], autoSave: false, autoLoad: false, calculateSentiment: false, nlu: { log: false } },
      true,
    );
    container.use(Nlp);
    const nlp = container.get<Nlp>('nlp');
    nlp.addDocument('en', 'hello there', 'greet');
    nlp.addDocument('en', 'goodbye now', 'bye');
    await nlp.train();
    for (let i = 0; i < 500; i += 1) await nlp.process('en', randomText(i));
    const manager = nlp.nluManager as { domainManagers: Record<string, { domains: Record<string, NluInternals> }> };
    const inner = manager.domainManagers.en!.domains.master_domain!;
    const perLocale = Object.values(inner.cache!.results!);
    const total = perLocale.reduce((n, r) => n + Object.keys(r).length, 0);
    expect(total).toBeGreaterThanOrEqual(500);
  });
});

describe('NluService bounds the NLP.js caches', () => {
  it('20,000 distinct random strings do not grow the caches beyond the bound', async () => {
    const cacheSize = 200;
    const nlu = await NluService.train({ cacheSize });
    for (let i = 0; i < 20_000; i += 1) await nlu.classify(randomText(i));
    const sizes = nlu.cacheSizes();
    expect(sizes.utterances).toBeGreaterThan(0);
    expect(sizes.utterances).toBeLessThanOrEqual(cacheSize);
    expect(sizes.stems).toBeLessThanOrEqual(cacheSize * 4);
    expect(sizes.tokens).toBe(0);
  }, 60_000);

  it('the default bound holds too, and repeated messages still hit the cache', async () => {
    const nlu = await NluService.train();
    for (let i = 0; i < 5_000; i += 1) await nlu.classify(randomText(i));
    expect(nlu.cacheSizes().utterances).toBeLessThanOrEqual(nlu.cacheSize);
    const a = await nlu.classify('my son keeps going missing');
    const b = await nlu.classify('my son keeps going missing');
    expect(b).toEqual(a);
  }, 60_000);

  it('the library cannot swap an unbounded object back in (its hourly reset is neutralised)', async () => {
    const nlu = await NluService.train({ cacheSize: 50 });
    const internals = nlu as unknown as {
      nlp: { nluManager: { domainManagers: Record<string, { domains: Record<string, NluInternals> }> } };
    };
    const inner = internals.nlp.nluManager.domainManagers.en!.domains.master_domain!;
    // Pretend the cache is more than an hour old: NLP.js then assigns `cache.results = {}`.
    inner.cache!.created = 0;
    inner.cache!.results = {};
    for (let i = 0; i < 1_000; i += 1) await nlu.classify(randomText(i));
    expect(nlu.cacheSizes().utterances).toBeLessThanOrEqual(50);
  });

  it('cacheSize 0 keeps nothing', async () => {
    const nlu = await NluService.train({ cacheSize: 0 });
    for (let i = 0; i < 500; i += 1) await nlu.classify(randomText(i));
    expect(nlu.cacheSizes()).toEqual({ utterances: 0, tokens: 0, stems: 0 });
    expect((await nlu.classify('wot is cuckooing')).intent).toBe('learn.cuckooing');
  });
});

describe('boundedRecord', () => {
  it('keeps the most recently used keys only', () => {
    const r = boundedRecord<number>(3);
    r.a = 1;
    r.b = 2;
    r.c = 3;
    expect(r.a).toBe(1); // a is now the most recent
    r.d = 4; // evicts b
    expect(recordSize(r)).toBe(3);
    expect(r.b).toBeUndefined();
    expect(Object.keys(r).sort()).toEqual(['a', 'c', 'd']);
    expect(Object.prototype.hasOwnProperty.call(r, 'a')).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(r, 'b')).toBe(false);
  });

  it('has no prototype keys', () => {
    const r = boundedRecord(3);
    expect(r.constructor).toBeUndefined();
    expect(r.toString).toBeUndefined();
    r.__proto__ = 5;
    expect(r.__proto__).toBe(5);
  });
});
