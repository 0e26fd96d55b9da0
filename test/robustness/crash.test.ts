// Crash safety: the real service (bot/index.ts) runs as a child process while
// several clients report worries over /api/messages. It is killed with SIGKILL
// while some conversations are mid-turn, then restarted on the same SQLite
// file. Every reference code a client was given must be in the database,
// complete; no referral may be half written; the restarted service serves.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadContent } from '../../bot/content';
import { tempDir } from '../helpers/app';
import { REFERENCE_RE, walkReferral } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const content = loadContent({ dir: path.join(ROOT, 'content'), area: 'dorset', locale: 'en' });
const m = content.messages;

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Start `node --import tsx bot/index.ts` (no wrapper process, so SIGKILL reaches the server itself). */
async function startService(dbFile: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bot/index.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${dbFile}`,
      RATE_LIMIT_PER_CONVERSATION: '100000',
      RATE_LIMIT_PER_SOURCE: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`service did not start in 20 s\n${stderr}`)), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (const line of buffered.split('\n')) {
        if (!line.includes('"msg":"SpeakSafe is listening"')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code ?? signal}) before listening\n${stderr}`));
    });
  });
  return { proc, url, exited };
}

interface ReferralRow {
  id: string;
  reference: string;
  status: string;
  urgency: string;
  urgencyRank: number;
  riskScore: number;
  reasons: string;
  concernType: string;
  reporterRelationship: string;
  knowledge: string;
  subjectAgeBand: string;
  subjectResidency: string;
  when: string;
  narrative: string;
  channel: string;
}

test('SIGKILL mid-stream loses no acknowledged referral and leaves none half written', async () => {
  const dir = tempDir('speaksafe-crash-');
  const dbFile = path.join(dir, 'crash.db');

  // ---- first run: several reporters at once, killed while turns are in flight
  const first = await startService(dbFile);
  const received: string[] = [];
  let inFlight = 0;
  let killed = false;
  let inFlightAtKill = 0;
  const CLIENTS = 6;
  const KILL_AFTER = 5;
  let kill!: () => void;
  const killedNow = new Promise<void>((resolve) => {
    kill = () => {
      if (killed) return;
      killed = true;
      inFlightAtKill = inFlight;
      first.proc.kill('SIGKILL');
      resolve();
    };
  });
  const client = async (): Promise<void> => {
    while (!killed) {
      try {
        inFlight += 1;
        const reference = await walkReferral(first.url, m);
        received.push(reference);
        // Kill once enough references are out and other reporters are mid-turn.
        if (received.length >= KILL_AFTER && inFlight > 1) kill();
      } catch {
        return; // the server died under us: that request's outcome is unknown to this client
      } finally {
        inFlight -= 1;
      }
    }
  };
  const clients = Promise.all(Array.from({ length: CLIENTS }, () => client()));
  const safety = setTimeout(kill, 20_000);
  await killedNow;
  clearTimeout(safety);
  expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
  await clients;
  expect(received.length).toBeGreaterThanOrEqual(KILL_AFTER);
  // The kill landed while other reporters were mid-conversation.
  expect(inFlightAtKill).toBeGreaterThan(1);

  // ---- restart on the same file: it serves and takes a new referral
  const second = await startService(dbFile);
  let after = '';
  try {
    const ready = await fetch(`${second.url}/readyz`);
    expect(ready.status).toBe(200);
    after = await walkReferral(second.url, m);
    expect(after).toMatch(REFERENCE_RE);
    received.push(after);
  } finally {
    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }

  // ---- the database after the crash
  const db = new Database(dbFile, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = db.prepare('SELECT * FROM "Referral"').all() as ReferralRow[];
    const byReference = new Map(rows.map((r) => [r.reference, r]));
    for (const reference of received) expect(byReference.has(reference)).toBe(true);
    expect(new Set(received).size).toBe(received.length);

    const indicators = db.prepare('SELECT code, source FROM "ReferralIndicator" WHERE "referralId" = ? ORDER BY code');
    const entities = db.prepare('SELECT kind, value FROM "ReferralEntity" WHERE "referralId" = ? ORDER BY kind, value');
    const outbox = db.prepare('SELECT payload, status FROM "OutboxMessage" WHERE "dedupeKey" = ?');
    const shapeOf = (r: ReferralRow) => ({
      indicators: indicators.all(r.id),
      entities: entities.all(r.id),
    });

    // Every reporter answered the same way, so every referral (acknowledged or
    // committed just before the kill) must look exactly like the one made
    // after the restart: a half-written one would miss its child rows.
    const golden = shapeOf(byReference.get(after)!);
    expect(golden.indicators.length).toBeGreaterThan(0);
    expect(golden.entities).toEqual(
      expect.arrayContaining([
        { kind: 'phone', value: '+447700900123' },
        { kind: 'vehicle', value: 'AB12CDE' },
      ]),
    );
    const goldenUrgency = byReference.get(after)!.urgency;
    for (const r of rows) {
      expect(r.reference).toMatch(REFERENCE_RE);
      expect(r.status).toBe('new');
      expect(['immediate', 'high', 'standard']).toContain(r.urgency);
      expect(r.urgency).toBe(goldenUrgency);
      expect(r.urgencyRank).toBe({ immediate: 0, high: 1, standard: 2 }[r.urgency]);
      expect(Array.isArray(JSON.parse(r.reasons))).toBe(true);
      for (const field of ['concernType', 'reporterRelationship', 'knowledge', 'subjectAgeBand', 'subjectResidency', 'when', 'channel'] as const) {
        expect(typeof r[field]).toBe('string');
        expect(r[field].length).toBeGreaterThan(0);
      }
      expect(r.concernType).toBe('young_person');
      expect(r.narrative).toContain('AB12 CDE');
      expect(shapeOf(r)).toEqual(golden);
      const alert = outbox.get(`hub.alert:${r.reference}`) as { payload: string } | undefined;
      if (r.urgency === 'immediate' || r.urgency === 'high') {
        expect(alert).toBeDefined();
        expect(JSON.parse(alert!.payload)).toMatchObject({ reference: r.reference, urgency: r.urgency });
      } else {
        expect(alert).toBeUndefined();
      }
    }
    // No orphans: every child row and alert belongs to a referral.
    const orphan = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    expect(orphan('SELECT COUNT(*) AS n FROM "ReferralIndicator" WHERE "referralId" NOT IN (SELECT id FROM "Referral")')).toBe(0);
    expect(orphan('SELECT COUNT(*) AS n FROM "ReferralEntity" WHERE "referralId" NOT IN (SELECT id FROM "Referral")')).toBe(0);
    expect(orphan('SELECT COUNT(*) AS n FROM "ReporterContact" WHERE "referralId" NOT IN (SELECT id FROM "Referral")')).toBe(0);
    expect(
      orphan(`SELECT COUNT(*) AS n FROM "OutboxMessage" WHERE substr("dedupeKey", 11) NOT IN (SELECT reference FROM "Referral")`),
    ).toBe(0);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
