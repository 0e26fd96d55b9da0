// Starts a whole SpeakSafe service on loopback with a fresh SQLite file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../../bot/app';
import { loadConfig } from '../../bot/config';

export interface TestApp {
  app: App;
  url: string;
  dir: string;
  dbFile: string;
  close(): Promise<void>;
}

export function tempDir(prefix = 'speaksafe-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testEnv(dbFile: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${dbFile}`,
    ...env,
  };
}

export async function startApp(env: Record<string, string> = {}, dir = tempDir()): Promise<TestApp> {
  const dbFile = path.join(dir, 'speaksafe.db');
  const app = await createApp(loadConfig(testEnv(dbFile, env)));
  const { url } = await app.listen();
  return { app, url, dir, dbFile, close: () => app.close() };
}
