// Makes sure the compiled service in dist/ is current: `tsc -p tsconfig.json`
// when dist/ is missing or older than any source file. dist/ is build output
// (git-ignored); nothing else outside bench/ is written.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface BuildInfo {
  /** 'dist': node dist/…js; 'tsx': TypeScript through tsx (the build failed). */
  runtime: 'dist' | 'tsx';
  rebuilt: boolean;
  buildMs?: number;
  note?: string;
}

const SOURCE_DIRS = ['bot', 'dialogs', 'hub', 'bench'];
const SOURCE_FILES = ['tsconfig.json', 'prisma.config.ts'];

function newestSourceMtime(root: string): number {
  let newest = 0;
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'results' || entry.name === 'node_modules') continue;
        visit(full);
      } else if (entry.name.endsWith('.ts')) {
        newest = Math.max(newest, fs.statSync(full).mtimeMs);
      }
    }
  };
  for (const d of SOURCE_DIRS) if (fs.existsSync(path.join(root, d))) visit(path.join(root, d));
  for (const f of SOURCE_FILES) if (fs.existsSync(path.join(root, f))) newest = Math.max(newest, fs.statSync(path.join(root, f)).mtimeMs);
  return newest;
}

/** The compiled files the benchmark runs. */
export const distEntry = (root: string): { service: string; echo: string; variant: string } => ({
  service: path.join(root, 'dist', 'bot', 'index.js'),
  echo: path.join(root, 'dist', 'bench', 'echoBot.js'),
  variant: path.join(root, 'dist', 'bench', 'variantService.js'),
});

export function ensureBuild(root: string, log: (line: string) => void): BuildInfo {
  const entries = Object.values(distEntry(root));
  const built = entries.every((f) => fs.existsSync(f)) ? Math.min(...entries.map((f) => fs.statSync(f).mtimeMs)) : 0;
  if (built && built >= newestSourceMtime(root)) return { runtime: 'dist', rebuilt: false };

  log(built ? 'dist/ is older than the sources: compiling (tsc -p tsconfig.json)…' : 'dist/ is missing or incomplete: compiling (tsc -p tsconfig.json)…');
  const started = Date.now();
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  const buildMs = Date.now() - started;
  if (tsc.status === 0 && entries.every((f) => fs.existsSync(f))) return { runtime: 'dist', rebuilt: true, buildMs };
  const output = `${tsc.stdout ?? ''}${tsc.stderr ?? ''}`.trim().split('\n').slice(0, 20).join('\n');
  log(`tsc failed (exit ${tsc.status}); running the TypeScript sources through tsx instead:\n${output}`);
  return { runtime: 'tsx', rebuilt: false, buildMs, note: 'tsc failed: services ran through tsx (start-up includes transpiling)' };
}
