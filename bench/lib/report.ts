// Targets, the printed table, the JSON result file and the Markdown summary.
import type { PhaseResult } from './load';
import type { ProfileSummary } from './profile';

export interface Reference {
  perSecond: number;
  p99Ms: number;
  /** The EchoBot runs averaged. */
  runs: string[];
}

export interface Target {
  name: string;
  measured: string;
  goal: string;
  pass: boolean | null;
  /** Not in the issue: a restatement proposed in bench/README.md, reported beside the issue's own targets. */
  proposed?: boolean;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  environment: Record<string, string | number>;
  settings: Record<string, string | number | boolean>;
  /** Mean of all the EchoBot runs (each ratio uses the runs next to its phase: see referenceFor). */
  reference: Reference | null;
  phases: PhaseResult[];
  startup: { spawnToReadyMs: number; serviceReportedMs: number | null; echoSpawnToReadyMs: number | null } | null;
  memory: { peakRssBytes: number | null; echoPeakRssBytes: number | null; finalRssBytes: number | null } | null;
  serviceLogs: { warn: number; error: number; messages: Record<string, number> } | null;
  targets: Target[];
  /** The service's CPU profile (--profile), per phase and whole. */
  profiles?: ProfileSummary[];
  failures: string[];
}

const MB = 1024 * 1024;
const fmt = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a == null || b == null || b === 0 ? null : a / b);

const mean = (runs: PhaseResult[]): Reference | null =>
  runs.length
    ? {
        perSecond: runs.reduce((sum, p) => sum + p.perSecond, 0) / runs.length,
        p99Ms: runs.reduce((sum, p) => sum + (p.p99Ms ?? 0), 0) / runs.length,
        runs: runs.map((p) => p.id),
      }
    : null;

export function echoReference(phases: PhaseResult[]): Reference | null {
  return mean(phases.filter((p) => p.against === 'echo'));
}

/** The EchoBot reference for one phase: the mean of the EchoBot runs just before and just after it. */
export function referenceFor(phases: PhaseResult[], phase: PhaseResult): Reference | null {
  const i = phases.indexOf(phase);
  const before = phases.slice(0, Math.max(0, i)).reverse().find((p) => p.against === 'echo');
  const after = phases.slice(i + 1).find((p) => p.against === 'echo');
  return mean([before, after].filter((p): p is PhaseResult => Boolean(p)));
}

export function evaluateTargets(report: Omit<BenchReport, 'targets'>): Target[] {
  const phase = (id: string): PhaseResult | undefined => report.phases.find((p) => p.id === id);
  const refOf = (p: PhaseResult | undefined): Reference | null => (p ? referenceFor(report.phases, p) : null);
  const targets: Target[] = [];
  /** A rate (the phase's own, or another figure of it) against the EchoBot runs next to the phase. */
  const rel = (name: string, id: string, min: number, rate = (p: PhaseResult): number | undefined => p.perSecond, proposed?: true): void => {
    const p = phase(id);
    const v = p ? rate(p) : undefined;
    const r = ratio(v, refOf(p)?.perSecond);
    targets.push({ name, measured: r === null ? 'not run' : `${r.toFixed(2)}× (${fmt(v)}/s)`, goal: `≥ ${min.toFixed(1)}× EchoBot`, pass: r === null ? null : r >= min, proposed });
  };
  rel('/api/messages learning turn: throughput', 'messages', 0.5);
  {
    const p = phase('messages');
    const r = ratio(p?.p99Ms, refOf(p)?.p99Ms);
    targets.push({ name: '/api/messages learning turn: p99', measured: r === null ? 'not run' : `${r.toFixed(2)}× (${fmt(p!.p99Ms)} ms)`, goal: '≤ 2.0× EchoBot p99', pass: r === null ? null : r <= 2 });
  }
  rel('SMS webhook: throughput', 'sms', 1.0);
  rel('Direct Line round trip: throughput', 'directline', 1.0);
  // Proposed in place of the two above (bench/README.md, "Why the remaining targets are missed"): the
  // channel's own path at 1.0× with the turn stubbed (the turn is the learning turn's, held to 0.5×).
  rel('SMS channel alone (turn stubbed): requests', 'sms-channel-only', 1.0, undefined, true);
  rel('Direct Line channel alone (turn stubbed): HTTP requests', 'directline-channel-only', 1.0, (p) => Number(p.extra.httpRequestsPerSecond) || undefined, true);
  const commit = phase('referral-commit');
  targets.push({ name: 'Referral submissions (SQLite)', measured: commit ? `${fmt(commit.perSecond)}/s` : 'not run', goal: '≥ 200/s', pass: commit ? commit.perSecond >= 200 : null });
  const nlu = phase('nlu');
  targets.push({ name: 'NLU classifications', measured: nlu ? `${fmt(nlu.perSecond)}/s` : 'not run', goal: '≥ 5,000/s', pass: nlu ? nlu.perSecond >= 5000 : null });
  const s = report.startup;
  targets.push({ name: 'Start-up (spawn → /readyz 200)', measured: s ? `${fmt(s.spawnToReadyMs)} ms` : 'not run', goal: '< 3,000 ms', pass: s ? s.spawnToReadyMs < 3000 : null });
  const m = report.memory?.peakRssBytes;
  targets.push({ name: 'Peak RSS (VmHWM)', measured: m ? `${fmt(m / MB, 1)} MB` : 'not run', goal: '< 250 MB', pass: m ? m < 250 * MB : null });
  return targets;
}

function rows(report: BenchReport): string[][] {
  return report.phases.map((p) => {
    const speaksafe = p.against === 'speaksafe';
    // The bot turn alone (in process) is set against all the EchoBot runs: it bounds what a channel can reach.
    const ref = speaksafe ? referenceFor(report.phases, p) : p.id === 'bot-turn' ? echoReference(report.phases) : null;
    return [
      p.title,
      p.against,
      p.unit,
      String(p.concurrency),
      fmt(p.perSecond, p.perSecond < 100 ? 1 : 0),
      fmt(p.p50Ms, 1),
      fmt(p.p99Ms, 1),
      String(p.errors),
      ref ? fmt(ratio(p.perSecond, ref.perSecond), 2) : p.against === 'echo' ? 'ref' : '',
      speaksafe ? fmt(ratio(p.p99Ms, ref?.p99Ms), 2) : '',
    ];
  });
}

/** Phases during which other jobs on the machine used a noticeable share of the CPU. */
function noisy(report: BenchReport): string[] {
  return report.phases
    .filter((p) => typeof p.extra['cores other jobs'] === 'number' && (p.extra['cores other jobs'] as number) >= 0.25)
    .map((p) => `${p.id} (${p.extra['cores other jobs']} cores)`);
}

const PROPOSED =
  'Proposed in place of the SMS and Direct Line targets, not in the issue (bench/README.md): the channel with the turn stubbed';

const NOTE =
  '× Echo: against the mean of the EchoBot runs just before and after the phase; for the bot turn alone (in process), against the mean of all of them.';

const HEAD = ['Phase', 'Against', 'Unit', 'Conc.', 'Rate /s', 'p50 ms', 'p99 ms', 'Errors', '× Echo rate', '× Echo p99'];

export function formatTable(report: BenchReport): string {
  const all = [HEAD, ...rows(report)];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const out = [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...rows(report).map(line)];
  out.push('');
  for (const p of report.phases) {
    const extra = Object.entries(p.extra).map(([k, v]) => `${k}=${v}`);
    const errors = Object.entries(p.errorDetail).map(([k, v]) => `${k}: ${v}`);
    if (extra.length || errors.length) out.push(`  ${p.id}: ${[...extra, ...(errors.length ? [`errors {${errors.join('; ')}}`] : [])].join(', ')}`);
  }
  out.push('', `  ${NOTE}`);
  const busy = noisy(report);
  if (busy.length) out.push(`  Other jobs used the CPU during: ${busy.join(', ')}: those figures are low by about that share.`);
  const targetLine = (t: Target): string => `  ${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.measured} (target ${t.goal})`;
  out.push('', 'Targets:', ...report.targets.filter((t) => !t.proposed).map(targetLine));
  out.push('', `${PROPOSED}:`, ...report.targets.filter((t) => t.proposed).map(targetLine));
  return out.join('\n');
}

export function formatMarkdown(report: BenchReport): string {
  const env = report.environment;
  const md: string[] = [
    `# SpeakSafe benchmark, ${report.startedAt}`,
    '',
    ...(String(report.settings.variant ?? 'none').startsWith('none') ? [] : [`**Variant \`${report.settings.variant}\`: an experiment with part of the service taken out (bench/variantService.ts), not SpeakSafe as shipped.**`, '']),
    `${env.cpus} CPUs (${env.cpuModel}), Node ${env.node}, ${env.runtime}; commit ${env.commit}. ` +
      `Load: ${report.settings.connections} connections, ${report.settings.warmupS} s warm-up, ${report.settings.durationS} s measured per phase, loopback only.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map((_, i) => (i >= 3 ? '---:' : '---')).join(' | ')} |`,
    ...rows(report).map((r) => `| ${r.join(' | ')} |`),
    '',
    NOTE,
    ...(noisy(report).length ? ['', `Other jobs used the CPU during: ${noisy(report).join(', ')}; those figures are low by about that share.`] : []),
    '',
    '| Target | Measured | Goal | Result |',
    '| --- | --- | --- | --- |',
    ...report.targets.map((t) => `| ${t.proposed ? `(proposed) ${t.name}` : t.name} | ${t.measured} | ${t.goal} | ${t.pass === null ? 'n/a' : t.pass ? 'PASS' : '**MISS**'} |`),
    '',
    `(proposed): ${PROPOSED}.`,
  ];
  const extras = report.phases.filter((p) => Object.keys(p.extra).length || Object.keys(p.errorDetail).length);
  if (extras.length) {
    md.push('', 'Details:', '');
    for (const p of extras) {
      const parts = [...Object.entries(p.extra).map(([k, v]) => `${k} ${v}`), ...Object.entries(p.errorDetail).map(([k, v]) => `error "${k}" ×${v}`)];
      md.push(`- ${p.title}: ${parts.join(', ')}`);
    }
  }
  if (report.serviceLogs && (report.serviceLogs.warn || report.serviceLogs.error)) {
    md.push('', `Service log during the run: ${report.serviceLogs.warn} warnings, ${report.serviceLogs.error} errors (${Object.entries(report.serviceLogs.messages).map(([k, v]) => `${k} ×${v}`).join('; ')}).`);
  }
  for (const p of report.profiles ?? []) {
    md.push('', `CPU profile of the service, ${p.window} (${p.file}): busy ${p.busyMs} ms, idle ${p.idleMs} ms.`, '');
    md.push('| Self % | Package |', '| ---: | --- |', ...p.packages.slice(0, 8).map((x) => `| ${x.selfPct.toFixed(1)} | ${x.name} |`));
    md.push('', '| Self % | Function |', '| ---: | --- |', ...p.functions.slice(0, 12).map((x) => `| ${x.selfPct.toFixed(1)} | \`${x.name}\` |`));
  }
  if (report.failures.length) md.push('', '**Failures:**', '', ...report.failures.map((f) => `- ${f}`));
  return `${md.join('\n')}\n`;
}
