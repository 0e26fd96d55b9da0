// CPU accounting for a phase, from /proc (Linux): how many cores the service,
// the EchoBot and this load generator used, and how much went to anything
// else on the machine (other jobs make a run noisy; the report says so).
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function machineBusyTicks(): number | null {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait
    return cpu.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
  } catch {
    return null;
  }
}

function processTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return null;
  }
}

export interface CpuShare {
  /** Cores used on average, by process name. */
  byProcess: Record<string, number>;
  /** Cores used by everything else on the machine. */
  other: number;
}

export class CpuMeter {
  private readonly started = performance.now();
  private readonly machine = machineBusyTicks();
  private readonly self = process.cpuUsage();
  private readonly children: Array<{ name: string; pid: number; ticks: number | null }>;

  constructor(children: Array<{ name: string; pid: number }>) {
    this.children = children.map((c) => ({ ...c, ticks: processTicks(c.pid) }));
  }

  stop(): CpuShare | null {
    const seconds = (performance.now() - this.started) / 1000;
    const machine = machineBusyTicks();
    if (machine === null || this.machine === null || seconds <= 0) return null;
    const cores = (ticks: number): number => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
    const self = process.cpuUsage(this.self);
    const byProcess: Record<string, number> = { 'load generator': Math.round(((self.user + self.system) / 1e6 / seconds) * 100) / 100 };
    let ours = (self.user + self.system) / 1e4; // µs → ticks
    for (const c of this.children) {
      const now = processTicks(c.pid);
      if (now === null || c.ticks === null) continue;
      byProcess[c.name] = cores(now - c.ticks);
      ours += now - c.ticks;
    }
    return { byProcess, other: Math.max(0, cores(machine - this.machine - ours)) };
  }
}
