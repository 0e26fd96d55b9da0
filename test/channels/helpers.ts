// Shared by the channel tests: a whole app with a captured log, Twilio-signed
// SMS requests, and a referral "person" who answers the bot's questions.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import twilio from 'twilio';
import { createApp, type App } from '../../bot/app';
import { loadConfig } from '../../bot/config';
import { tempDir, testEnv } from '../helpers/app';
import { twilioForm } from '../helpers/scripted';

export const AUTH_TOKEN = 'test-token';
export const PUBLIC_BASE_URL = 'https://speaksafe.example.org';
export const SMS_URL = `${PUBLIC_BASE_URL}/api/sms`;
export const REFERENCE_RE = /\b[A-Z2-9]{4}-[A-Z2-9]{4}\b/;

export interface ChannelTestApp {
  app: App;
  url: string;
  dbFile: string;
  logs: string[];
  close(): Promise<void>;
}

/** The whole app on loopback, with a fresh SQLite file and every log line captured (no redaction). */
export async function startChannelApp(env: Record<string, string> = {}): Promise<ChannelTestApp> {
  const dir = tempDir('speaksafe-channels-');
  const dbFile = path.join(dir, 'speaksafe.db');
  const logs: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  const config = loadConfig(
    testEnv(dbFile, {
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      PUBLIC_BASE_URL,
      RATE_LIMIT_PER_CONVERSATION: '1000',
      ...env,
    }),
  );
  const app = await createApp(config, { logger });
  const { url } = await app.listen();
  return { app, url, dbFile, logs, close: () => app.close() };
}

/** Every byte SQLite holds for this database: the file, its WAL and journal. */
export function databaseBytes(dbFile: string): Buffer {
  const files = [dbFile, `${dbFile}-wal`, `${dbFile}-journal`, `${dbFile}-shm`].filter((f) => fs.existsSync(f));
  return Buffer.concat(files.map((f) => fs.readFileSync(f)));
}

/** The ways a UK mobile number can be written. */
export function numberFormats(e164: string): string[] {
  const national = `0${e164.slice(3)}`;
  return [e164, e164.slice(1), national, e164.slice(3), `${national.slice(0, 5)} ${national.slice(5)}`, `+44 ${e164.slice(3, 7)} ${e164.slice(7)}`];
}

// ---------------------------------------------------------------- SMS

export interface SmsReply {
  status: number;
  contentType: string | null;
  body: string;
  messages: string[];
}

let sid = 0;
export function twilioParams(from: string, body: string, extra: Record<string, string> = {}): Record<string, string> {
  sid += 1;
  return { ...twilioForm(from, body, `SM${String(sid).padStart(32, '0')}`), ...extra };
}

const unescapeXml = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#39;/g, "'").replace(/&amp;/g, '&');

export function twimlMessages(xml: string): string[] {
  return [...xml.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((m) => unescapeXml(m[1]));
}

/** POST a form to /api/sms as Twilio does. `signature` overrides the correct one (null: no header). */
export async function postSms(
  baseUrl: string,
  params: Record<string, string>,
  options: { signature?: string | null; signUrl?: string; query?: string } = {},
): Promise<SmsReply> {
  const query = options.query ?? '';
  const signature =
    options.signature === undefined ? twilio.getExpectedTwilioSignature(AUTH_TOKEN, (options.signUrl ?? SMS_URL) + query, params) : options.signature;
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'TwilioProxy/1.1' };
  if (signature !== null) headers['X-Twilio-Signature'] = signature;
  const res = await fetch(`${baseUrl}/api/sms${query}`, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  const body = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body, messages: twimlMessages(body) };
}

/** The numbered options of an SMS reply: "1. Title" lines, in order. */
export function smsOptions(messages: string[]): string[] {
  // The list that belongs to the last question: the last run of numbered lines.
  const lines = messages.join('\n\n').split('\n');
  let options: string[] = [];
  let current: string[] = [];
  for (const line of lines) {
    const m = /^(\d+)\. (.+)$/.exec(line);
    if (m && Number(m[1]) === current.length + 1) current.push(m[2]);
    else if (current.length) {
      options = current;
      current = [];
    }
  }
  if (current.length) options = current;
  return options;
}

// ---------------------------------------------------------------- a reporter

export { reporterAnswer, type Answer } from '../helpers/scripted';

export async function waitUntil<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && (v as unknown) !== false) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
