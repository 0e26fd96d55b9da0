/**
 * SpeakSafe NLU command line.
 *
 *   npm run --silent nlu -- --jsonl            JSON lines in ({"text": "..."}), JSON lines out
 *                                              ({"text": ..., "intent": ..., "score": ...}), nothing else on stdout.
 *                                              A malformed line gives {"text": null, "error": "..."} and the run goes on.
 *   npm run nlu -- "some text"                 one-shot: prints the intent, score and danger check
 *   npm run nlu                                interactive: type a message, see the result (Ctrl+D to quit)
 *
 * Options: --locale en, --threshold 0.4
 */
import { createInterface } from 'node:readline';
import { NluService, type NluResult } from './nlu';
import { detectDanger, loadDangerRules } from '../safety/danger';

interface CliOptions {
  jsonl: boolean;
  locale?: string;
  threshold?: number;
  text: string[];
}

function parseArgs(argv: string[]): CliOptions {
  const opts: CliOptions = { jsonl: false, text: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i]!;
    if (a === '--jsonl') opts.jsonl = true;
    else if (a === '--locale') opts.locale = argv[++i];
    else if (a === '--threshold') opts.threshold = Number(argv[++i]);
    else if (a === '--') continue;
    else opts.text.push(a);
  }
  return opts;
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** Turns one input line into one output line. Never throws. */
export async function jsonlLine(line: string, nlu: Pick<NluService, 'classify'>, locale?: string): Promise<string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return JSON.stringify({ text: null, error: 'invalid JSON' });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return JSON.stringify({ text: null, error: 'expected a JSON object like {"text": "..."}' });
  }
  const text = (parsed as { text?: unknown }).text;
  if (typeof text !== 'string') return JSON.stringify({ text: null, error: '"text" must be a string' });
  const lineLocale = (parsed as { locale?: unknown }).locale;
  const result: NluResult = await nlu.classify(text, typeof lineLocale === 'string' ? lineLocale : locale);
  return JSON.stringify({ text, intent: result.intent, score: round(result.score) });
}

async function runJsonl(nlu: NluService, locale?: string): Promise<void> {
  // Guarantee a clean stdout: anything a library might print goes to stderr instead.
  const toStderr = (...args: unknown[]): void => {
    process.stderr.write(`${args.map(String).join(' ')}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const out = await jsonlLine(line, nlu, locale);
    if (!process.stdout.write(`${out}\n`)) {
      await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
    }
  }
}

async function describe(text: string, nlu: NluService, locale?: string): Promise<string> {
  const rules = loadDangerRules();
  const result = await nlu.classify(text, locale);
  const danger = await detectDanger(text, nlu, rules, locale);
  return JSON.stringify({ text, ...result, danger }, null, 2);
}

async function runInteractive(nlu: NluService, locale?: string): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'message> ' });
  process.stdout.write(`SpeakSafe NLU ready (${nlu.intents.length} intents, threshold ${nlu.threshold}). Type a message, Ctrl+D to quit.\n`);
  rl.prompt();
  for await (const line of rl) {
    if (line.trim()) process.stdout.write(`${await describe(line, nlu, locale)}\n`);
    rl.prompt();
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const nlu = await NluService.train({
    threshold: opts.threshold !== undefined && Number.isFinite(opts.threshold) ? opts.threshold : undefined,
  });
  if (opts.jsonl) return runJsonl(nlu, opts.locale);
  if (opts.text.length) {
    process.stdout.write(`${await describe(opts.text.join(' '), nlu, opts.locale)}\n`);
    return;
  }
  if (process.stdin.isTTY) return runInteractive(nlu, opts.locale);
  // piped plain text: one message per line
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) if (line.trim()) process.stdout.write(`${await describe(line, nlu, opts.locale)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`nlu: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
