// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by
// package, the idle time left out.
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  /** Share of the busy (non-idle) time, %. */
  selfPct: number;
}

/** A time window on the monotonic clock V8's profiler uses (process.hrtime), in microseconds. */
export interface ProfileWindow {
  label: string;
  fromUs: number;
  toUs: number;
}

/** Now, on the profiler's clock. */
export const profileClockUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface ProfileSummary {
  file: string;
  /** The window summarised (a phase), or the whole life of the process. */
  window: string;
  busyMs: number;
  idleMs: number;
  functions: ProfileEntry[];
  packages: ProfileEntry[];
  /** SpeakSafe's own functions by inclusive (total) time: where the time goes, callees included. */
  projectInclusive: ProfileEntry[];
}

/** "prisma-client", "restify", "project:bot/…", "node:internal", "(garbage collector)" … */
function packageOf(frame: CallFrame, root: string): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('wasm://')) return '(WebAssembly: the Prisma query compiler)';
  if (url.startsWith('node:')) return 'node:internal';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const rel = path.relative(root, url);
  return rel.startsWith('..') ? url : `project:${rel.split(path.sep).slice(0, 2).join('/')}`;
}

function shortUrl(url: string, root: string): string {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  return u.startsWith(root) ? path.relative(root, u) : u;
}

export function summariseProfile(file: string, root: string, top = 25, window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (frame: CallFrame): string =>
    `${frame.functionName || '(anonymous)'}${frame.url ? ` ${shortUrl(frame.url, root)}:${frame.lineNumber + 1}` : ''}`;
  const isProject = (frame: CallFrame): boolean => {
    const u = frame.url.replace(/^file:\/\//, '');
    return u.startsWith(root) && !u.includes('/node_modules/');
  };
  // Inclusive time of project functions: each sample counts once for every distinct project function on its stack.
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (!isProject(frame)) continue;
      const key = keyOf(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const key = keyOf(frame);
    fn.set(key, (fn.get(key) ?? 0) + us);
    const p = packageOf(frame, root);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
  }
  const rank = (m: Map<string, number>, n: number): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, selfPct: busy ? Math.round((us / busy) * 1000) / 10 : 0 }));
  return { file, window: window?.label ?? 'whole run', busyMs: Math.round(busy / 1000), idleMs: Math.round(idle / 1000), functions: rank(fn, top), packages: rank(pkg, 15), projectInclusive: rank(inclusive, top) };
}

export function formatProfile(s: ProfileSummary, topFunctions = s.functions.length, topPackages = s.packages.length): string {
  const lines = [`CPU profile, ${s.window}: busy ${s.busyMs} ms, idle ${s.idleMs} ms`, '', 'Self time by package:'];
  for (const p of s.packages.slice(0, topPackages)) lines.push(`  ${p.selfPct.toFixed(1).padStart(5)}%  ${String(p.selfMs).padStart(8)} ms  ${p.name}`);
  lines.push('', 'Top functions by self time:');
  for (const f of s.functions.slice(0, topFunctions)) lines.push(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(8)} ms  ${f.name}`);
  lines.push('', "SpeakSafe's functions by inclusive time (callees included):");
  for (const f of s.projectInclusive.slice(0, topFunctions)) lines.push(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(8)} ms  ${f.name}`);
  return lines.join('\n');
}
