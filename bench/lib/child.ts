// A service under test as a child process: started, watched until /readyz (or
// /healthz) answers 200, measured (start-up time, peak RSS) and stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import readline from 'node:readline';

export interface ChildOptions {
  name: string;
  /** Arguments to `node` (flags, then the script). */
  nodeArgs: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** A 200 from this path means ready. */
  readyPath: string;
  timeoutMs?: number;
}

export interface LogCounts {
  warn: number;
  error: number;
  /** The distinct messages of warnings and errors (pino's `msg`: never message text or identities). */
  messages: Record<string, number>;
}

export class ChildService {
  url = '';
  /** Spawn → first 200 from the ready path. */
  startupMs = 0;
  /** What the service itself reported (its `startupMs` log field), if any. */
  reportedStartupMs: number | undefined;
  readonly logs: LogCounts = { warn: 0, error: 0, messages: {} };
  private readonly stderrTail: string[] = [];
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve((this.exitCode = code ?? (signal ? 128 : null)))));
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) this.stderrTail.push(line);
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - 30));
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines written to stderr (for a crash report). */
  stderr(): string {
    return this.stderrTail.join('\n');
  }

  static async start(options: ChildOptions): Promise<ChildService> {
    const spawnedAt = performance.now();
    const proc = spawn(process.execPath, options.nodeArgs, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = new ChildService(options.name, proc);
    const url = new Promise<string>((resolve, reject) => {
      const lines = readline.createInterface({ input: proc.stdout! });
      lines.on('line', (line) => child.onLine(line, resolve));
      void child.exited.then((code) => reject(new Error(`${options.name} exited (code ${code}) before listening:\n${child.stderr()}`)));
    });
    const timeoutMs = options.timeoutMs ?? 60000;
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    try {
      child.url = await url;
      for (;;) {
        if (!child.running) throw new Error(`${options.name} exited before it was ready:\n${child.stderr()}`);
        if ((await status(`${child.url}${options.readyPath}`)) === 200) break;
        await sleep(5);
      }
      child.startupMs = performance.now() - spawnedAt;
      return child;
    } catch (err) {
      if (child.running) proc.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One line of the child's stdout: pino JSON from SpeakSafe, one JSON line from the EchoBot. */
  private onLine(line: string, onUrl: (url: string) => void): void {
    let entry: { level?: number; msg?: string; url?: string; startupMs?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (typeof entry.url === 'string' && !this.url) {
      if (typeof entry.startupMs === 'number') this.reportedStartupMs = entry.startupMs;
      onUrl(entry.url);
    }
    if (typeof entry.level === 'number' && entry.level >= 40) {
      if (entry.level >= 50) this.logs.error += 1;
      else this.logs.warn += 1;
      const key = `${entry.level >= 50 ? 'error' : 'warn'}: ${entry.msg ?? '?'}`;
      this.logs.messages[key] = (this.logs.messages[key] ?? 0) + 1;
    }
  }

  /** Peak resident set size so far (VmHWM), in bytes; null when unavailable. */
  peakRssBytes(): number | null {
    return procStatus(this.pid, 'VmHWM');
  }

  rssBytes(): number | null {
    return procStatus(this.pid, 'VmRSS');
  }

  /** SIGTERM (the service stops gracefully, writing a --cpu-prof profile), then SIGKILL after `graceMs`. */
  async stop(graceMs = 15000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function procStatus(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
