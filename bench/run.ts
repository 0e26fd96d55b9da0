// `npm run bench`: SpeakSafe against a minimal Bot Framework EchoBot, both on
// loopback, in the same run. See bench/README.md.
//
//   npm run bench                       every phase (about 5 minutes)
//   npm run bench -- --quick            short phases, to try the harness
//   npm run bench -- --only=sms,nlu     some phases (echo is added for ratios)
//   npm run bench -- --profile          also write and summarise a CPU profile of the service
//   npm run bench -- --connections=50 --duration=15 --warmup=1
//   npm run bench -- --service-flags="--max-old-space-size=128"   node flags for the service
//   npm run bench -- --variant=channel-only   an experiment: the service with one part taken out (bench/variantService.ts)
//
// Exit code: 0 when every phase ran (targets are reported PASS/MISS, not
// enforced); 1 when a phase crashed or a service died.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadContent } from '../bot/content';
import { ensureBuild, distEntry, type BuildInfo } from './lib/build';
import { ChildService, sleep } from './lib/child';
import { CpuMeter } from './lib/cpu';
import type { PhaseResult } from './lib/load';
import { directLinePhase, floorPhase, messagesPhase, referralConversationsPhase, smsPhase, tempDir, type Timing } from './lib/phases';
import { formatProfile, profileClockUs, summariseProfile, type ProfileWindow } from './lib/profile';
import { VARIANTS, type Variant } from './lib/variants';
import { echoReference, evaluateTargets, formatMarkdown, formatTable, type BenchReport } from './lib/report';

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const PHASES = ['echo', 'floor', 'messages', 'sms', 'directline', 'referral-conversations', 'channel-only', 'referral-commit', 'nlu', 'bot-turn'] as const;
type PhaseId = (typeof PHASES)[number];

interface Args {
  timing: Timing;
  only: Set<PhaseId>;
  profile: boolean;
  dlPool: number;
  /** Extra `node` flags for the SpeakSafe process, e.g. --max-old-space-size=128 (to try a fix). */
  serviceFlags: string[];
  /** An experiment instead of SpeakSafe as shipped (bench/variantService.ts). */
  variant?: Variant;
}

function parseArgs(argv: string[]): Args {
  const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = argv.includes('--quick');
  const num = (name: string, def: number, max: number): number => {
    const v = opt(name);
    const n = v === undefined ? def : Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`--${name} must be a positive number, at most ${max}`);
    return n;
  };
  const timing = { connections: num('connections', 50, 500), warmupS: num('warmup', quick ? 0.5 : 1, 10), durationS: num('duration', quick ? 2 : 15, 60) };
  const onlyArg = opt('only');
  const only = new Set<PhaseId>(onlyArg ? (onlyArg.split(',') as PhaseId[]) : PHASES);
  for (const p of only) if (!PHASES.includes(p)) throw new Error(`unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
  only.add('echo');
  // By default the service runs with the same node flags as `npm start`.
  const serviceFlags = (opt('service-flags') ?? startScriptFlags()).split(/\s+/).filter(Boolean);
  for (const f of serviceFlags) if (!/^--[a-z0-9-]+(=[\w.,:/-]+)?$/.test(f)) throw new Error(`--service-flags: "${f}" is not a node flag`);
  const variant = opt('variant') as Variant | undefined;
  if (variant !== undefined && !VARIANTS.includes(variant)) throw new Error(`--variant must be one of ${VARIANTS.join(', ')}`);
  return { timing, only, profile: argv.includes('--profile'), dlPool: num('dl-conversations', quick ? 300 : 1000, 20000), serviceFlags, variant };
}

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const b64 = (n: number): string => crypto.randomBytes(n).toString('base64');

/** A clean environment: nothing from the caller's SpeakSafe settings leaks into the services. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'bot', 'dialogs', 'hub', 'content', 'prisma'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

/** The node flags in package.json's start script (e.g. the heap bounds). */
function startScriptFlags(): string {
  const start: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts?.start ?? '';
  return (/\bnode\s+((?:--[a-z0-9-]+(?:=\S+)?\s+)*)/.exec(start)?.[1] ?? '').trim();
}

function nodeArgs(build: BuildInfo, script: 'service' | 'echo' | 'variant', extra: string[]): string[] {
  if (build.runtime === 'dist') return [...extra, distEntry(ROOT)[script]];
  return [...extra, '--import', 'tsx', { service: 'bot/index.ts', echo: 'bench/echoBot.ts', variant: 'bench/variantService.ts' }[script]];
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  fs.mkdirSync(RESULTS, { recursive: true });
  const build = ensureBuild(ROOT, log);
  const work = tempDir('speaksafe-bench-');
  const profileDir = path.join(RESULTS, 'profiles', stamp);
  const failures: string[] = [];
  const phases: PhaseResult[] = [];
  const windows: ProfileWindow[] = [];

  const secrets = { IDENTITY_HASH_SECRET: b64(32), CONTACT_ENCRYPTION_KEY: b64(32), TOKEN_SIGNING_SECRET: b64(32) };
  const twilioToken = crypto.randomBytes(16).toString('hex');
  const publicBaseUrl = 'https://bench.speaksafe.invalid';
  const serviceEnv: NodeJS.ProcessEnv = {
    ...baseEnv(),
    ...secrets,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${path.join(work, 'bench.db')}`,
    TWILIO_AUTH_TOKEN: twilioToken,
    // No TWILIO_ACCOUNT_SID: SMS replies go back in the TwiML, nothing is sent.
    PUBLIC_BASE_URL: publicBaseUrl,
    // Throughput, not the abuse limits, is measured here.
    RATE_LIMIT_PER_CONVERSATION: '1000000',
    RATE_LIMIT_PER_SOURCE: '1000000',
  };

  log(`SpeakSafe benchmark: ${os.cpus().length} CPUs, Node ${process.version}, services from ${build.runtime === 'dist' ? 'dist/ (compiled)' : 'TypeScript via tsx'}`);
  log(`Each phase: ${args.timing.connections} connections, ${args.timing.warmupS} s warm-up, ${args.timing.durationS} s measured.\n`);

  let service: ChildService | undefined;
  let echo: ChildService | undefined;
  let report: BenchReport | undefined;
  try {
    if (args.profile) fs.mkdirSync(profileDir, { recursive: true });
    if (args.variant) log(`VARIANT ${args.variant}: an experiment, not SpeakSafe as shipped (bench/variantService.ts)\n`);
    service = await ChildService.start({
      name: 'SpeakSafe',
      nodeArgs: nodeArgs(build, args.variant ? 'variant' : 'service', [...args.serviceFlags, ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])]),
      env: args.variant ? { ...serviceEnv, BENCH_VARIANT: args.variant } : serviceEnv,
      cwd: ROOT,
      readyPath: '/readyz',
    });
    log(`SpeakSafe ready at ${service.url} in ${service.startupMs.toFixed(0)} ms (pid ${service.pid})`);
    echo = await ChildService.start({
      name: 'EchoBot',
      nodeArgs: nodeArgs(build, 'echo', []),
      env: { ...baseEnv(), NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1' },
      cwd: ROOT,
      readyPath: '/healthz',
    });
    log(`EchoBot ready at ${echo.url} in ${echo.startupMs.toFixed(0)} ms (pid ${echo.pid})\n`);
    const s = service;
    const e = echo;
    // The SpeakSafe process under measurement: the service, then (channel-only phases) the variant.
    let current: ChildService = s;
    let stopped = false;

    const run = async (id: PhaseId, what: () => Promise<PhaseResult>, name?: string): Promise<void> => {
      if (!args.only.has(id)) return;
      const label = name ?? (id === 'echo' ? `echo #${phases.filter((p) => p.against === 'echo').length + 1}` : id);
      process.stdout.write(`  ${label.padEnd(24)}`);
      const started = Date.now();
      const fromUs = profileClockUs();
      const meter = new CpuMeter(stopped ? [] : [{ name: 'SpeakSafe', pid: current.pid }, { name: 'EchoBot', pid: e.pid }]);
      try {
        const result = await what();
        const cpu = meter.stop();
        if (cpu) {
          for (const [name, cores] of Object.entries(cpu.byProcess)) if (cores >= 0.05 || name === 'load generator') result.extra[`cores ${name}`] = cores;
          result.extra['cores other jobs'] = cpu.other;
          // CPU time per unit of work in the process under test: steadier than rates when other jobs share the machine.
          const cores = cpu.byProcess[result.against === 'echo' ? 'EchoBot' : result.against === 'speaksafe' ? 'SpeakSafe' : 'load generator'];
          if (cores && result.perSecond > 0) result.extra['CPU ms per unit'] = Math.round((cores / result.perSecond) * 1000 * 1000) / 1000;
        }
        phases.push(result);
        if (result.against === 'speaksafe') windows.push({ label: `phase ${result.id}`, fromUs, toUs: profileClockUs() });
        log(`${result.perSecond.toFixed(0).padStart(7)} ${result.unit}/s  p50 ${(result.p50Ms ?? 0).toFixed(1)} ms  p99 ${(result.p99Ms ?? 0).toFixed(1)} ms  errors ${result.errors}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (err) {
        log('CRASHED');
        failures.push(`${label}: ${(err as Error).stack ?? err}`);
      }
      if (!stopped) for (const c of [current, e]) if (!c.running) failures.push(`${c.name} died during ${label}:\n${c.stderr()}`);
      if (failures.length) throw new Error(failures[failures.length - 1]);
      await sleep(300); // let the last responses and background turns settle between phases
    };

    const t = args.timing;
    // Prime: JIT-warm the load generator, the EchoBot and SpeakSafe alike before anything is
    // measured, with the same 3 s of learning turns (new conversations; nothing is measured). A
    // phase run on a cold process reads 10-25% low, and SpeakSafe has far more code to compile.
    const prime = { ...t, warmupS: 0, durationS: 3 };
    await messagesPhase('prime', 'prime', 'echo', e.url, prime);
    await messagesPhase('prime', 'prime', 'speaksafe', s.url, prime);
    // The EchoBot is measured before and after each SpeakSafe phase with a target, and each
    // ratio uses the mean of the two runs next to it: the machine's load drifts during a run.
    let echoRuns = 0;
    const echoRun = (): Promise<void> =>
      run('echo', () => {
        echoRuns += 1;
        return messagesPhase(`echo-${echoRuns}`, `EchoBot /api/messages #${echoRuns} (reference)`, 'echo', e.url, t);
      });
    await echoRun();
    await run('floor', () => floorPhase(s.url, t));
    await run('messages', () => messagesPhase('messages', '/api/messages learning turn', 'speaksafe', s.url, t));
    if (args.only.has('messages')) await echoRun();
    await run('sms', () => smsPhase(s.url, twilioToken, publicBaseUrl, t));
    if (args.only.has('sms')) await echoRun();
    await run('directline', () => directLinePhase(s.url, t, args.dlPool));
    if (args.only.has('directline')) await echoRun();
    const content = loadContent({ dir: path.join(ROOT, 'content'), area: 'dorset', locale: 'en' });
    await run('referral-conversations', () => referralConversationsPhase(s.url, content.messages, content.area.towns[0].name, t));
    if (echoRuns < 2) await echoRun();

    const memory = { peakRssBytes: s.peakRssBytes(), echoPeakRssBytes: e.peakRssBytes(), finalRssBytes: s.rssBytes() };
    const logs = s.logs;
    const startup = { spawnToReadyMs: Math.round(s.startupMs), serviceReportedMs: s.reportedStartupMs ?? null, echoSpawnToReadyMs: Math.round(e.startupMs) };
    const serviceExit = await s.stop();
    if (serviceExit !== 0) failures.push(`SpeakSafe exited with code ${serviceExit} on SIGTERM:\n${s.stderr()}`);

    // The channels alone: the same SMS and Direct Line phases against the service with the bot's turn
    // replaced by a copy of one real turn's replies (bench/variantService.ts, channel-only). What is left
    // is the path the channel code controls: HTTP, signature, hashing, rate limits, opt-out read,
    // rendering, TwiML, Direct Line auth and the durable transcript.
    if (args.only.has('channel-only') && !args.variant) {
      const variant = await ChildService.start({
        name: 'SpeakSafe (channel-only)',
        nodeArgs: nodeArgs(build, 'variant', args.serviceFlags),
        env: { ...serviceEnv, BENCH_VARIANT: 'channel-only', DATABASE_URL: `file:${path.join(work, 'channel-only.db')}` },
        cwd: ROOT,
        readyPath: '/readyz',
      });
      current = variant;
      try {
        const alone = (p: PhaseResult): PhaseResult => ({ ...p, id: `${p.id}-channel-only`, title: `${p.title}, channel alone (turn stubbed)` });
        await run('channel-only', async () => alone(await smsPhase(variant.url, twilioToken, publicBaseUrl, t)), 'sms-channel-only');
        await echoRun();
        await run('channel-only', async () => alone(await directLinePhase(variant.url, t, args.dlPool)), 'directline-channel-only');
        await echoRun();
      } finally {
        current = s;
        await variant.stop();
      }
    }
    stopped = true;
    await e.stop();

    // In process, after the services have stopped (nothing else competes for the CPU).
    process.noDeprecation = true; // restify's DEP0111 warning, printed when the app is loaded in process
    const { referralCommitPhase, nluPhase, botTurnPhase } = await import('./lib/inProcess');
    await run('referral-commit', () => referralCommitPhase({ ...baseEnv(), ...secrets, PUBLIC_BASE_URL: publicBaseUrl }, 20, 0.5, Math.min(3, t.durationS)));
    await run('nlu', () => nluPhase(path.join(ROOT, 'content'), 0.3, Math.min(2, t.durationS)));
    await run('bot-turn', () => botTurnPhase({ ...baseEnv(), ...secrets, PUBLIC_BASE_URL: publicBaseUrl }, t.connections, t.warmupS, t.durationS));

    // The service's profile, summarised for each of its phases and for its whole life.
    let profiles: BenchReport['profiles'];
    if (args.profile) {
      const file = fs.readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        const full = path.join(profileDir, file);
        profiles = [...windows.map((w) => summariseProfile(full, ROOT, 25, w)), summariseProfile(full, ROOT, 25)];
        for (const p of profiles) p.file = path.relative(ROOT, full);
      } else failures.push('no CPU profile was written');
    }

    const partial = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      environment: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryMB: Math.round(os.totalmem() / 1024 / 1024),
        node: process.version,
        runtime: build.runtime === 'dist' ? 'services compiled (dist/)' : `services through tsx (${build.note})`,
        commit: gitCommit(),
        loadAverageAtEnd: os.loadavg().map((l) => l.toFixed(2)).join(' '),
      },
      settings: { ...t, directLineConversations: args.dlPool, profile: args.profile, phases: [...args.only].join(','), serviceFlags: args.serviceFlags.join(' '), variant: args.variant ?? 'none (SpeakSafe as shipped)' },
      reference: echoReference(phases),
      phases,
      startup,
      memory,
      serviceLogs: logs,
      profiles,
      failures,
    };
    report = { ...partial, targets: evaluateTargets(partial) };
  } catch (err) {
    if (!failures.length) failures.push(String((err as Error).stack ?? err));
  } finally {
    await Promise.all([service?.stop(), echo?.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  }

  if (!report) {
    const partial = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      environment: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, runtime: build.runtime, commit: gitCommit() },
      settings: { ...args.timing },
      reference: echoReference(phases),
      phases,
      startup: null,
      memory: null,
      serviceLogs: service?.logs ?? null,
      failures,
    };
    report = { ...partial, targets: evaluateTargets(partial) };
  }

  log(`\n${formatTable(report)}`);
  if (report.memory) {
    const mb = (b: number | null): string => (b ? `${(b / 1024 / 1024).toFixed(1)} MB` : '–');
    log(`\nStart-up ${report.startup?.spawnToReadyMs} ms (service's own figure ${report.startup?.serviceReportedMs} ms); peak RSS ${mb(report.memory.peakRssBytes)} (EchoBot ${mb(report.memory.echoPeakRssBytes)})`);
  }
  if (report.serviceLogs && (report.serviceLogs.warn || report.serviceLogs.error)) log(`Service log: ${JSON.stringify(report.serviceLogs.messages)}`);
  for (const p of report.profiles ?? []) log(`\n${formatProfile(p, 15, 10)}`);
  if (report.profiles?.length) log(`\nProfile: ${report.profiles[0].file} (summarise: npx tsx bench/profile.ts <file>)`);
  const jsonFile = path.join(RESULTS, `${stamp}.json`);
  fs.writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), formatMarkdown(report));
  log(`\nWrote ${path.relative(ROOT, jsonFile)} and bench/results/latest.md`);
  if (failures.length) {
    log(`\nFAILED:\n${failures.join('\n')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
