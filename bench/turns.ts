// CPU and memory allocated per bot turn, in process: for comparing two versions of the turn (run it in each
// checkout, alternately, several times). Not part of `npm run bench`.
//
//   node --max-old-space-size=160 --max-semi-space-size=8 --import tsx bench/turns.ts [--two] [--alloc[=25]]
//
// Runs 5 rounds of 10,000 turns, 50 in flight, each from a new conversation (the SMS phase's message), on a fresh
// SQLite file, and prints each round's CPU and wall time per turn in µs; the lowest CPU of rounds 2–5 is the figure
// to compare. --two adds a second turn to each conversation (a menu pick: the continue path). --alloc instead
// prints the bytes a turn allocates, by file and by function, from V8's sampling heap profiler with collected
// objects included (line numbers of SpeakSafe's own functions are only right in compiled code).
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import { createApp } from '../bot/app';
import { loadConfig } from '../bot/config';
import { tempDir } from './lib/phases';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const args = process.argv.slice(2);
const two = args.includes('--two');
const allocArg = args.find((a) => a.startsWith('--alloc'));
const top = allocArg?.includes('=') ? Number(allocArg.split('=')[1]) : 25;

const post = <T>(session: inspector.Session, method: string, params: object = {}): Promise<T> =>
  new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))));

async function main(): Promise<void> {
  const dir = tempDir('speaksafe-turns-');
  const secret = (n: number) => Buffer.alloc(32, n).toString('base64');
  const app = await createApp(
    loadConfig({
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${path.join(dir, 'turns.db')}`,
      IDENTITY_HASH_SECRET: secret(1),
      CONTACT_ENCRYPTION_KEY: secret(2),
      TOKEN_SIGNING_SECRET: secret(3),
    }),
  );
  const { runner } = app.services;
  let i = 0;
  const round = async (n: number): Promise<{ cpuUs: number; wallUs: number }> => {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    let started = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (started < n) {
          started += 1;
          const id = `turn-${(i += 1)}`;
          const replies = await runner.run({ channelId: 'sms', conversationId: id, userId: id, text: 'what is cuckooing' });
          if (!replies.length) throw new Error('a turn sent no reply');
          if (two) await runner.run({ channelId: 'sms', conversationId: id, userId: id, text: '2' });
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    return { cpuUs: (used.user + used.system) / n, wallUs: ((performance.now() - t0) * 1000) / n };
  };
  try {
    if (allocArg) {
      await round(5000);
      const session = new inspector.Session();
      session.connect();
      await post(session, 'HeapProfiler.enable');
      await post(session, 'HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      const n = 5000;
      await round(n);
      const { profile } = await post<{ profile: { head: ProfileNode } }>(session, 'HeapProfiler.stopSampling');
      const root = path.resolve(__dirname, '..');
      const byFunction = new Map<string, number>();
      const byFile = new Map<string, number>();
      let total = 0;
      const walk = (node: ProfileNode): void => {
        const file = node.callFrame.url.replace(/.*node_modules\//, '').replace(/^(file:\/\/)?/, '').replace(`${root}/`, '') || '(native)';
        const fn = `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber + 1}`;
        byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.selfSize);
        byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
        total += node.selfSize;
        node.children.forEach(walk);
      };
      walk(profile.head);
      const list = (m: Map<string, number>) =>
        [...m]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([k, v]) => `${String(Math.round(v / n)).padStart(8)}  ${k}`)
          .join('\n');
      process.stdout.write(`Bytes allocated per turn: ${Math.round(total / n)}\n\nBy file:\n${list(byFile)}\n\nBy function:\n${list(byFunction)}\n`);
      return;
    }
    const rounds = [];
    for (let r = 0; r < 5; r++) rounds.push(await round(10000));
    const best = Math.min(...rounds.slice(1).map((r) => r.cpuUs));
    process.stdout.write(
      `${two ? 'two turns' : 'first turn'}: CPU/wall µs per turn by round: ${rounds.map((r) => `${r.cpuUs.toFixed(0)}/${r.wallUs.toFixed(0)}`).join('  ')}; lowest CPU after round 1: ${best.toFixed(0)} µs\n`,
    );
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
