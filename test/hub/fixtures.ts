// Test fixtures for the hub: a running app, staff accounts, referrals, and a
// tiny cookie-keeping HTTP client that reads CSRF tokens out of pages.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../../bot/app';
import { loadConfig } from '../../bot/config';
import type { Services } from '../../bot/services';
import { emptyEntities, type Assessment, type Entities, type IndicatorRef, type ReferralDraft } from '../../bot/referrals/types';
import { hubOf, type Hub } from '../../hub';
import type { Role } from '../../hub/constants';

export const PASSWORD = 'amber kettle lighthouse 2718';

export interface HubTestApp {
  app: App;
  url: string;
  services: Services;
  hub: Hub;
  dbFile: string;
  close(): Promise<void>;
}

export async function startHubApp(env: Record<string, string> = {}): Promise<HubTestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speaksafe-hub-'));
  const dbFile = path.join(dir, 'hub.db');
  const app = await createApp(
    loadConfig({ ...process.env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${dbFile}`, LOG_LEVEL: 'silent', ...env }),
  );
  const { url } = await app.listen();
  const hub = hubOf(app.server);
  if (!hub) throw new Error('registerHub was not called by createApp');
  return {
    app,
    url,
    services: app.services,
    hub,
    dbFile,
    close: async () => {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createStaff(t: HubTestApp, username: string, role: Role, password = PASSWORD): Promise<string> {
  const user = await t.hub.users.create({ username, role, password }, { type: 'system', id: 'test' });
  return user.id;
}

export interface ReferralOptions {
  urgency?: Assessment['urgency'];
  riskUnknown?: boolean;
  riskScore?: number;
  reasons?: Assessment['reasons'];
  concernType?: ReferralDraft['concernType'];
  ageBand?: ReferralDraft['subject']['ageBand'];
  residency?: ReferralDraft['subject']['residency'];
  town?: string;
  postcodeDistrict?: string;
  detail?: string;
  narrative?: string;
  indicators?: string[];
  entities?: Partial<Entities>;
  contact?: string;
  createdAt?: Date;
  subjectName?: string;
}

/** Create a referral through the real store; returns its reference. */
export async function makeReferral(services: Services, o: ReferralOptions = {}): Promise<string> {
  const draft: ReferralDraft = {
    concernType: o.concernType ?? 'young_person',
    subject: {
      ageBand: o.ageBand ?? '13_15',
      residency: o.residency ?? 'lives_here',
      ...(o.subjectName ? { name: o.subjectName } : {}),
    },
    location: {
      ...(o.town ? { town: o.town } : { town: 'Bournemouth' }),
      ...(o.postcodeDistrict ? { postcodeDistrict: o.postcodeDistrict } : {}),
      ...(o.detail ? { detail: o.detail } : {}),
    },
    when: 'this_week',
    indicators: (o.indicators ?? []).map((code): IndicatorRef => ({ code, source: 'choice' })),
    narrative: o.narrative ?? 'He comes home late with new trainers and two phones.',
    reporterRelationship: 'neighbour',
    knowledge: 'saw',
    dangerReported: false,
    entities: { ...emptyEntities(), ...o.entities },
  };
  const urgency = o.urgency ?? 'standard';
  const assessment: Assessment = {
    urgency,
    riskScore: o.riskScore ?? (urgency === 'immediate' ? 90 : urgency === 'high' ? 60 : 20),
    riskUnknown: o.riskUnknown ?? false,
    reasons: o.reasons ?? [{ code: 'test', text: `Test referral, ${urgency}`, points: 10 }],
  };
  const { reference } = await services.referrals.create({ draft, assessment, channel: 'test', ...(o.contact ? { contact: o.contact } : {}) });
  if (o.createdAt) await services.db.referral.update({ where: { reference }, data: { createdAt: o.createdAt } });
  return reference;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
  json<T = any>(): T;
}

/** A minimal browser: keeps cookies, follows nothing, finds CSRF tokens in pages. */
export class Client {
  readonly cookies = new Map<string, string>();
  lastHtml = '';

  constructor(readonly base: string) {}

  private cookieHeader(): string | undefined {
    return this.cookies.size ? [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  private store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/Max-Age=0/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, p: string, init: { form?: Record<string, string | string[]>; json?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const cookie = this.cookieHeader();
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      const usp = new URLSearchParams();
      for (const [k, v] of Object.entries(init.form)) for (const x of Array.isArray(v) ? v : [v]) usp.append(k, x);
      body = usp.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.base + p, { method, headers, body, redirect: 'manual' });
    this.store(res);
    const text = await res.text();
    if ((res.headers.get('content-type') ?? '').includes('text/html')) this.lastHtml = text;
    return { status: res.status, headers: res.headers, text, location: res.headers.get('location'), json: () => JSON.parse(text) };
  }

  get(p: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.request('GET', p, { headers });
  }

  /** POST a form, adding the CSRF token from the last page unless one is given. */
  post(p: string, form: Record<string, string | string[]> = {}, options: { csrf?: boolean } = {}): Promise<Reply> {
    const withToken = options.csrf === false || '_csrf' in form ? form : { _csrf: this.csrf(), ...form };
    return this.request('POST', p, { form: withToken });
  }

  csrf(html = this.lastHtml): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error('No CSRF token on the last page');
    return m[1]!;
  }

  /** The version hidden field on a referral page. */
  version(html = this.lastHtml): string {
    const m = /name="version" value="(\d+)"/.exec(html);
    if (!m) throw new Error('No version field on the last page');
    return m[1]!;
  }

  async login(username: string, password = PASSWORD): Promise<Reply> {
    await this.get('/hub/login');
    const res = await this.post('/hub/login', { username, password });
    if (res.status === 303) await this.get(res.location ?? '/hub/queue');
    return res;
  }
}

/** Decode the HTML entities nunjucks produces, to compare page text with input. */
export function unescapeHtml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
