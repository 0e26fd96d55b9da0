// Load generation: autocannon for single-request phases, and a bounded
// closed-loop runner (N workers, warm-up, then a timed window) for the
// phases that chain requests or run in process.
import autocannon from 'autocannon';

export interface PhaseResult {
  id: string;
  title: string;
  /** What was measured: the EchoBot, the SpeakSafe child process, or code in this process. */
  against: 'echo' | 'speaksafe' | 'in-process';
  /** One unit of work: 'req', 'round trip', 'turn', 'referral', 'classification'. */
  unit: string;
  concurrency: number;
  seconds: number;
  count: number;
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  errors: number;
  errorDetail: Record<string, number>;
  extra: Record<string, number | string>;
}

export interface CannonSpec {
  id: string;
  title: string;
  against: PhaseResult['against'];
  url: string;
  connections: number;
  durationS: number;
  warmupS: number;
  requests: autocannon.Request[];
  /** A 2xx whose body fails this check counts as an error. */
  verifyBody?: (body: string) => boolean;
}

function runCannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Warm up, then measure, with autocannon. Every request is built by `requests` (so may differ each time). */
export async function cannon(spec: CannonSpec): Promise<PhaseResult> {
  const base = { url: spec.url, connections: spec.connections, requests: spec.requests, verifyBody: spec.verifyBody, timeout: 10 };
  if (spec.warmupS > 0) await runCannon({ ...base, duration: spec.warmupS });
  const r = await runCannon({ ...base, duration: spec.durationS, title: spec.id });
  const seconds = (r.finish.getTime() - r.start.getTime()) / 1000;
  const errorDetail: Record<string, number> = {};
  if (r.errors) errorDetail['socket errors/timeouts'] = r.errors;
  if (r.mismatches) errorDetail['unexpected body'] = r.mismatches;
  for (const [code, { count }] of Object.entries(r.statusCodeStats)) if (!code.startsWith('2')) errorDetail[`HTTP ${code}`] = count;
  return {
    id: spec.id,
    title: spec.title,
    against: spec.against,
    unit: 'req',
    concurrency: spec.connections,
    seconds,
    count: r.requests.total,
    perSecond: r.requests.total / seconds,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.mismatches + r.non2xx,
    errorDetail,
    extra: {},
  };
}

export interface LoopSpec {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** One unit of work. Throwing counts an error (keyed by the message's first line). */
  iteration: (worker: number) => Promise<void>;
}

export interface LoopStats {
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  errors: number;
  errorDetail: Record<string, number>;
}

export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * A closed loop: `concurrency` workers each run `iteration` back to back.
 * Iterations that finish inside the window [warm-up end, warm-up end +
 * duration] are counted, with their latency; workers start nothing after the
 * window and the in-flight ones are awaited (each bounded by its own timeouts).
 */
export async function loop(spec: LoopSpec): Promise<LoopStats> {
  const start = performance.now();
  const windowStart = start + spec.warmupMs;
  const windowEnd = windowStart + spec.durationMs;
  const latencies: number[] = [];
  const errorDetail: Record<string, number> = {};
  let errors = 0;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < windowEnd) {
      const t0 = performance.now();
      let failed: string | undefined;
      try {
        await spec.iteration(w);
      } catch (err) {
        failed = String((err as Error).message ?? err).split('\n')[0].slice(0, 80);
      }
      const t1 = performance.now();
      if (t1 < windowStart || t1 > windowEnd) continue;
      if (failed === undefined) latencies.push(t1 - t0);
      else {
        errors += 1;
        errorDetail[failed] = (errorDetail[failed] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, (_, w) => worker(w)));
  const sorted = Float64Array.from(latencies).sort();
  const seconds = spec.durationMs / 1000;
  return {
    count: sorted.length,
    seconds,
    perSecond: sorted.length / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors,
    errorDetail,
  };
}
