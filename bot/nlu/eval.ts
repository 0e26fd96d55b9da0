/**
 * npm run nlu:eval [-- --json] [-- --sweep] [-- --threshold 0.5] [-- --locale en]
 *
 * Trains on the TRAINING split (content/nlu/<locale>/*.yml), evaluates on the held-out TEST split
 * (content/nlu/<locale>/test/*.yml) and prints accuracy, per-intent precision/recall/F1, the
 * misclassified examples, and the combined safety check (classifier OR danger rules).
 * Exits 1 if accuracy < 0.90, danger.immediate recall < 1.0 (classifier or combined check),
 * or any test example also appears in the training data (leakage).
 * --sweep adds a 5-fold cross-validation on the TRAINING split over thresholds (how the default was chosen).
 */
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_DANGER_PRIORITY,
  DEFAULT_THRESHOLD,
  INTENTS,
  NluService,
  defaultContentDir,
  loadIntentExamples,
  type IntentName,
  type NluResult,
} from './nlu';
import { detectDanger, loadDangerRules, matchDanger, type DangerRules } from '../safety/danger';

export const MIN_ACCURACY = 0.9;
export const MIN_DANGER_RECALL = 1.0;

interface Example {
  intent: IntentName;
  text: string;
}

interface IntentStats {
  intent: IntentName;
  support: number;
  predicted: number;
  tp: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalReport {
  locale: string;
  threshold: number;
  dangerPriority: number;
  trainExamples: number;
  testExamples: number;
  accuracy: number;
  perIntent: IntentStats[];
  lowestRecall: { intent: IntentName; recall: number };
  misclassified: Array<{ text: string; expected: IntentName; got: IntentName; score: number; candidate?: IntentName }>;
  danger: {
    classifierRecall: number;
    combinedRecall: number;
    rulesRecall: number;
    classifierThreshold: number;
    missedByCombined: string[];
    /** Non-danger test messages flagged by the combined check (safety advice shown unnecessarily). */
    combinedFalsePositives: Array<{ text: string; expected: IntentName; by: string }>;
    combinedFalsePositiveRate: number;
  };
  leakage: Array<{ text: string; intent: IntentName }>;
  classificationsPerSecond: number;
  trainMs: number;
  sweep?: SweepRow[];
  pass: boolean;
  failures: string[];
}

/** Normalised form used for the leakage check (case, punctuation and spacing ignored). */
export function leakKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function stats(examples: Example[], predictions: IntentName[]): { accuracy: number; perIntent: IntentStats[] } {
  let correct = 0;
  const perIntent: IntentStats[] = [];
  examples.forEach((e, i) => {
    if (predictions[i] === e.intent) correct += 1;
  });
  for (const intent of INTENTS) {
    let tp = 0;
    let support = 0;
    let predicted = 0;
    examples.forEach((e, i) => {
      if (e.intent === intent) support += 1;
      if (predictions[i] === intent) predicted += 1;
      if (e.intent === intent && predictions[i] === intent) tp += 1;
    });
    if (!support && !predicted) continue;
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perIntent.push({ intent, support, predicted, tp, precision, recall, f1 });
  }
  return { accuracy: examples.length ? correct / examples.length : 0, perIntent };
}

interface SweepRow {
  threshold: number;
  dangerPriority: number;
  cvAccuracy: number;
  cvNoneFallbackRate: number;
  cvDangerRecall: number;
  /** Share of non-danger examples turned into danger.immediate. */
  cvDangerFalseAlarmRate: number;
}

/** The decision NluService.classify makes from a raw result (threshold 0, no danger priority). */
function decide(raw: NluResult, threshold: number, dangerPriority: number): IntentName {
  if ((raw.dangerScore ?? 0) >= dangerPriority) return 'danger.immediate';
  if (raw.intent !== 'none' && raw.score < threshold) return 'none';
  return raw.intent;
}

async function crossValidate(
  contentDir: string,
  locale: string,
  train: Example[],
  grid: Array<{ threshold: number; dangerPriority: number }>,
  folds = 5,
): Promise<SweepRow[]> {
  // Deterministic shuffle so runs are comparable.
  const order = train.map((_, i) => i);
  let seed = 42;
  for (let i = order.length - 1; i > 0; i -= 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const raw: Array<{ expected: IntentName; result: NluResult }> = [];
  for (let f = 0; f < folds; f += 1) {
    const held = new Set(order.filter((_, k) => k % folds === f));
    const fitOn = train.filter((_, i) => !held.has(i));
    // raw best intent and scores: no threshold, no danger priority (applied below)
    const svc = await NluService.fromExamples(fitOn, { contentDir, locales: [locale], threshold: 0, dangerPriority: 2 });
    for (const i of held) {
      const ex = train[i]!;
      raw.push({ expected: ex.intent, result: await svc.classify(ex.text, locale) });
    }
  }
  return grid.map(({ threshold, dangerPriority }) => {
    let correct = 0;
    let fallbacks = 0;
    let dangerTotal = 0;
    let dangerHit = 0;
    let falseAlarms = 0;
    for (const { expected, result } of raw) {
      const got = decide(result, threshold, dangerPriority);
      if (got === 'none' && result.intent !== 'none') fallbacks += 1;
      if (got === expected) correct += 1;
      if (expected === 'danger.immediate') {
        dangerTotal += 1;
        if (got === expected) dangerHit += 1;
      } else if (got === 'danger.immediate') falseAlarms += 1;
    }
    return {
      threshold,
      dangerPriority,
      cvAccuracy: correct / raw.length,
      cvNoneFallbackRate: fallbacks / raw.length,
      cvDangerRecall: dangerTotal ? dangerHit / dangerTotal : 0,
      cvDangerFalseAlarmRate: raw.length - dangerTotal ? falseAlarms / (raw.length - dangerTotal) : 0,
    };
  });
}

export async function evaluate(options: {
  contentDir?: string;
  locale?: string;
  threshold?: number;
  dangerPriority?: number;
  sweep?: boolean;
  rules?: DangerRules;
}): Promise<EvalReport> {
  const contentDir = options.contentDir ?? defaultContentDir();
  const locale = options.locale ?? 'en';
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const dangerPriority = options.dangerPriority ?? DEFAULT_DANGER_PRIORITY;
  const rules = options.rules ?? loadDangerRules();
  const train = loadIntentExamples(contentDir, locale, 'train');
  const test = loadIntentExamples(contentDir, locale, 'test');

  const trainKeys = new Set(train.map((e) => leakKey(e.text)));
  const leakage = test.filter((e) => trainKeys.has(leakKey(e.text)));

  const t0 = performance.now();
  const svc = await NluService.train({ contentDir, locales: [locale], threshold, dangerPriority });
  const trainMs = performance.now() - t0;

  const results: NluResult[] = [];
  for (const e of test) results.push(await svc.classify(e.text, locale));
  const predictions = results.map((r) => r.intent);
  const { accuracy, perIntent } = stats(test, predictions);

  const misclassified = test
    .map((e, i) => ({ e, r: results[i]! }))
    .filter(({ e, r }) => r.intent !== e.intent)
    .map(({ e, r }) => ({ text: e.text, expected: e.intent, got: r.intent, score: round(r.score), candidate: r.candidate }));

  // Danger: classifier alone, rules alone, combined (what the bot does).
  const dangerTests = test.filter((e) => e.intent === 'danger.immediate');
  let clsHits = 0;
  let ruleHits = 0;
  let combHits = 0;
  const missedByCombined: string[] = [];
  const combinedFalsePositives: Array<{ text: string; expected: IntentName; by: string }> = [];
  for (let i = 0; i < test.length; i += 1) {
    const e = test[i]!;
    const decision = await detectDanger(e.text, svc, rules, locale);
    if (e.intent === 'danger.immediate') {
      if (results[i]!.intent === 'danger.immediate') clsHits += 1;
      if (matchDanger(e.text, rules).matched) ruleHits += 1;
      if (decision.danger) combHits += 1;
      else missedByCombined.push(e.text);
    } else if (decision.danger) {
      combinedFalsePositives.push({ text: e.text, expected: e.intent, by: decision.rule ?? `nlu ${round(decision.score ?? 0)}` });
    }
  }
  const nonDanger = test.length - dangerTests.length;
  const danger = {
    classifierRecall: dangerTests.length ? clsHits / dangerTests.length : 0,
    rulesRecall: dangerTests.length ? ruleHits / dangerTests.length : 0,
    combinedRecall: dangerTests.length ? combHits / dangerTests.length : 0,
    classifierThreshold: rules.classifierThreshold,
    missedByCombined,
    combinedFalsePositives,
    combinedFalsePositiveRate: nonDanger ? combinedFalsePositives.length / nonDanger : 0,
  };

  // Throughput on the test texts (one core, sequential awaits).
  const texts = test.map((e) => e.text);
  const n = 20000;
  const t1 = performance.now();
  for (let i = 0; i < n; i += 1) await svc.classify(`${texts[i % texts.length]} ${i}`, locale);
  const classificationsPerSecond = Math.round(n / ((performance.now() - t1) / 1000));

  const lowest = perIntent.filter((p) => p.support > 0).reduce((a, b) => (b.recall < a.recall ? b : a));

  const failures: string[] = [];
  if (accuracy < MIN_ACCURACY) failures.push(`accuracy ${pct(accuracy)} < ${pct(MIN_ACCURACY)}`);
  if (danger.classifierRecall < MIN_DANGER_RECALL) failures.push(`danger.immediate recall (classifier) ${pct(danger.classifierRecall)} < 100%`);
  if (danger.combinedRecall < MIN_DANGER_RECALL) failures.push(`danger recall (combined safety check) ${pct(danger.combinedRecall)} < 100%`);
  if (leakage.length) failures.push(`${leakage.length} test example(s) also appear in the training data`);

  const report: EvalReport = {
    locale,
    threshold,
    dangerPriority,
    trainExamples: train.length,
    testExamples: test.length,
    accuracy,
    perIntent,
    lowestRecall: { intent: lowest.intent, recall: lowest.recall },
    misclassified,
    danger,
    leakage,
    classificationsPerSecond,
    trainMs: Math.round(trainMs),
    pass: failures.length === 0,
    failures,
  };
  if (options.sweep) {
    const grid: Array<{ threshold: number; dangerPriority: number }> = [];
    for (const t of [0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8]) grid.push({ threshold: t, dangerPriority: dangerPriority });
    for (const p of [2, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15]) grid.push({ threshold, dangerPriority: p });
    report.sweep = await crossValidate(contentDir, locale, train, grid);
  }
  return report;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  lines.push(`SpeakSafe NLU evaluation (locale ${r.locale}, threshold ${r.threshold}, danger priority ${r.dangerPriority})`);
  lines.push(`train examples ${r.trainExamples}, test examples ${r.testExamples}, trained in ${r.trainMs} ms`);
  lines.push('');
  lines.push(`ACCURACY on held-out test split: ${pct(r.accuracy)}   (must be >= ${pct(MIN_ACCURACY)})`);
  lines.push('');
  lines.push(`${pad('intent', 26)}${pad('support', 9)}${pad('precision', 11)}${pad('recall', 9)}f1`);
  for (const p of r.perIntent) {
    lines.push(`${pad(p.intent, 26)}${pad(String(p.support), 9)}${pad(p.precision.toFixed(2), 11)}${pad(p.recall.toFixed(2), 9)}${p.f1.toFixed(2)}`);
  }
  lines.push(`lowest recall: ${r.lowestRecall.intent} ${r.lowestRecall.recall.toFixed(2)}`);
  lines.push('');
  lines.push('DANGER (danger.immediate test examples):');
  lines.push(`  classifier recall            ${pct(r.danger.classifierRecall)}   (must be 100%)`);
  lines.push(`  danger rules recall          ${pct(r.danger.rulesRecall)}`);
  lines.push(`  combined safety check recall ${pct(r.danger.combinedRecall)}   (must be 100%; rules OR classifier danger score >= ${r.danger.classifierThreshold})`);
  for (const m of r.danger.missedByCombined) lines.push(`  MISSED: ${m}`);
  lines.push(
    `  combined check flags ${r.danger.combinedFalsePositives.length} non-danger test message(s) (${pct(r.danger.combinedFalsePositiveRate)}): safety advice shown first, harmless but worth a look`,
  );
  for (const f of r.danger.combinedFalsePositives) lines.push(`    - [${f.expected}] ${f.text}   (${f.by})`);
  lines.push('');
  lines.push(`MISCLASSIFIED (${r.misclassified.length}):`);
  for (const m of r.misclassified) {
    lines.push(`  expected ${pad(m.expected, 25)} got ${pad(m.got, 25)} ${m.score.toFixed(2)}${m.candidate ? ` (best: ${m.candidate})` : ''}  "${m.text}"`);
  }
  if (r.leakage.length) {
    lines.push('');
    lines.push('LEAKAGE: these test examples are also in the training files (remove them from training):');
    for (const l of r.leakage) lines.push(`  [${l.intent}] ${l.text}`);
  }
  if (r.sweep) {
    lines.push('');
    lines.push('SWEEP (5-fold cross-validation on the TRAINING split; the test split plays no part):');
    lines.push(`  ${pad('threshold', 11)}${pad('danger prio', 13)}${pad('accuracy', 10)}${pad('fell to none', 14)}${pad('danger recall', 15)}danger false alarms`);
    for (const s of r.sweep) {
      lines.push(
        `  ${pad(String(s.threshold), 11)}${pad(s.dangerPriority > 1 ? 'off' : String(s.dangerPriority), 13)}${pad(pct(s.cvAccuracy), 10)}${pad(pct(s.cvNoneFallbackRate), 14)}${pad(pct(s.cvDangerRecall), 15)}${pct(s.cvDangerFalseAlarmRate)}`,
      );
    }
  }
  lines.push('');
  lines.push(`speed: ${r.classificationsPerSecond} classifications/s (one core)`);
  lines.push(r.pass ? 'RESULT: PASS' : `RESULT: FAIL: ${r.failures.join('; ')}`);
  return lines.join('\n');
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const t = argValue(args, '--threshold');
  const p = argValue(args, '--danger-priority');
  const report = await evaluate({
    locale: argValue(args, '--locale') ?? 'en',
    threshold: t !== undefined ? Number(t) : undefined,
    dangerPriority: p !== undefined ? Number(p) : undefined,
    sweep: args.includes('--sweep'),
  });
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  process.exitCode = report.pass ? 0 : 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`nlu:eval failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
