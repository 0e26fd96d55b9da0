/**
 * Minimal type declarations for the parts of NLP.js (v4.27) that SpeakSafe imports.
 * NLP.js ships plain JavaScript with no types. Only what bot/nlu uses is declared;
 * internals reached for cache bounding are typed loosely on purpose (see bot/nlu/bounded-cache.ts).
 *
 * We import the sub-packages (@nlpjs/core, @nlpjs/nlp, @nlpjs/lang-en), all dependencies of
 * @nlpjs/basic, instead of @nlpjs/basic itself: requiring @nlpjs/basic loads @nlpjs/logger, whose
 * pino instance prints a "prettyPrint is deprecated" warning at require time.
 */

declare module '@nlpjs/core' {
  export interface NlpjsLogger {
    name?: string;
    debug(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
    log(...args: unknown[]): void;
    trace(...args: unknown[]): void;
    fatal(...args: unknown[]): void;
  }

  export class Container {
    constructor(preffix?: string);
    /** Instantiates (if a class) and registers a plugin under its name. */
    use(item: unknown, name?: string, isSingleton?: boolean, onlyIfNotExists?: boolean): string;
    register(name: string, clazz: unknown, isSingleton?: boolean): void;
    get<T = unknown>(name: string, settings?: Record<string, unknown>): T;
    registerConfiguration(tag: string, configuration: Record<string, unknown>, overwrite?: boolean): void;
    getConfiguration(tag: string): Record<string, unknown> | undefined;
  }

  /** Builds a fresh container. Unlike dockStart it is not a process-wide singleton and reads no conf.json. */
  export function containerBootstrap(
    inputSettings?: Record<string, unknown>,
    mustLoadEnv?: boolean,
    container?: Container,
    preffix?: string,
  ): Container;
}

declare module '@nlpjs/nlp' {
  import type { Container } from '@nlpjs/core';

  export interface NlpClassification {
    intent: string;
    score: number;
  }

  export interface NlpProcessResult {
    locale?: string;
    utterance?: string;
    intent: string;
    score: number;
    classifications?: NlpClassification[];
    [key: string]: unknown;
  }

  export interface NlpSettings {
    container?: Container;
    languages?: string[];
    autoSave?: boolean;
    autoLoad?: boolean;
    forceNER?: boolean;
    threshold?: number;
    calculateSentiment?: boolean;
    modelFileName?: string;
    nlu?: Record<string, unknown>;
    [key: string]: unknown;
  }

  export class Nlp {
    constructor(settings?: NlpSettings, container?: Container);
    settings: NlpSettings;
    container: Container;
    /** Internal: the NluManager (domainManagers per locale). Typed loosely. */
    nluManager: unknown;
    addLanguage(locales: string | string[]): void;
    addDocument(locale: string, utterance: string, intent: string): void;
    train(): Promise<unknown>;
    process(locale: string, utterance: string, context?: Record<string, unknown>, settings?: Record<string, unknown>): Promise<NlpProcessResult>;
  }
}

declare module '@nlpjs/lang-en' {
  export class LangEn {
    register(container: unknown): void;
  }
}
