// Bad input on the hub's forms: the sign-in form (public) and CSRF-protected
// referral forms with a signed-in session, plus the JSON API. Never a 500,
// and a malformed form never changes the referral it names.
import fc from 'fast-check';
import { healthy, NASTY_STRINGS } from './helpers';
import { contentType, invalidUtf8, messageText } from './arbitraries';
import { Client, createStaff, makeReferral, startHubApp, type HubTestApp } from '../hub/fixtures';

const MAX_BODY_BYTES = 16 * 1024;
let t: HubTestApp;
let staff: Client;
let reference: string;
let csrf: string;
let apiToken: string;

beforeAll(async () => {
  t = await startHubApp({ MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  await createStaff(t, 'sam', 'supervisor');
  staff = new Client(t.url);
  expect((await staff.login('sam')).status).toBe(303);
  reference = await makeReferral(t.services, { urgency: 'high' });
  await staff.get(`/hub/referrals/${reference}`);
  csrf = staff.csrf();
  apiToken = (await t.hub.tokens.create({ name: 'fuzz', scopes: ['referrals:read', 'referrals:write'] }, { type: 'system', id: 'test' })).token;
});
afterAll(async () => {
  expect(await healthy(t.url)).toBe(true);
  await t?.close();
});

/** What a change to the referral would alter: status, version, events. */
async function snapshot(): Promise<unknown> {
  const row = await t.services.db.referral.findUnique({ where: { reference }, select: { id: true, status: true, version: true, assignedAgency: true, outcome: true, sourceEvaluation: true } });
  const events = await t.services.db.referralEvent.count({ where: { referralId: row!.id } });
  return { ...row, events };
}

const fieldValue = fc.oneof(messageText(3000), fc.constantFrom('triage', 'assign', 'close', 'reopen', 'police', 'no_further_action', '1', 'A', 'P'), fc.constant(''));
/** Any version except the right one (0): missing, garbage, negative, huge, wrong. */
const wrongVersion = fc.oneof(fc.constant(undefined), fc.constantFrom('', '-1', '1', '99', '1e3', '0x0', ' 0', '0 ', '00a', '9'.repeat(40), 'NaN'), fc.string({ maxLength: 8 }).filter((v) => v !== '0'));
const csrfOf = fc.constantFrom<'valid' | 'wrong' | 'missing' | 'twice'>('valid', 'wrong', 'missing', 'twice');

test('malformed referral forms (transition, closure request, grading, note) with a session: never 5xx, never a change', async () => {
  const before = await snapshot();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('transition', 'closure-request', 'grading'),
      csrfOf,
      wrongVersion,
      fc.dictionary(fc.constantFrom('action', 'agency', 'outcome', 'reason', 'sourceEvaluation', 'intelAssessment', 'handlingCode', 'approve', '__proto__', 'action[0]', 'to'), fieldValue, { maxKeys: 6 }),
      async (form, token, version, fields) => {
        const body: Record<string, string | string[]> = { ...fields };
        if (version !== undefined) body.version = version;
        if (token === 'valid') body._csrf = csrf;
        if (token === 'wrong') body._csrf = `${csrf.slice(0, -2)}xx`;
        if (token === 'twice') body._csrf = ['nope', csrf];
        const res = await staff.post(`/hub/referrals/${reference}/${form}`, body, { csrf: false });
        expect(res.status).toBeLessThan(500);
        expect([400, 403, 409, 413, 422]).toContain(res.status);
      },
    ),
    { numRuns: 80 },
  );
  expect(await snapshot()).toEqual(before);
});

test('a note form without a valid CSRF token: 403, and no note', async () => {
  const before = await snapshot();
  await fc.assert(
    fc.asyncProperty(messageText(2000), fc.constantFrom<'wrong' | 'missing'>('wrong', 'missing'), async (text, token) => {
      const body: Record<string, string> = { text, note: text };
      if (token === 'wrong') body._csrf = 'x'.repeat(csrf.length);
      const res = await staff.post(`/hub/referrals/${reference}/notes`, body, { csrf: false });
      expect([403, 413]).toContain(res.status);
    }),
    { numRuns: 40 },
  );
  expect(await snapshot()).toEqual(before);
});

test('raw bytes and wrong content types on a form, with a session: never 5xx, never a change', async () => {
  const before = await snapshot();
  await fc.assert(
    fc.asyncProperty(fc.oneof(invalidUtf8, fc.constant(Buffer.from(`_csrf=${csrf}&action=close&version=%FF%FE`))), contentType, async (bytes, type) => {
      const headers: Record<string, string> = { cookie: [...staff.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
      if (type !== undefined) headers['content-type'] = type;
      const res = await fetch(`${t.url}/hub/referrals/${reference}/transition`, { method: 'POST', headers, body: bytes, redirect: 'manual' });
      expect(res.status).toBeLessThan(500);
    }),
    { numRuns: 60 },
  );
  expect(await snapshot()).toEqual(before);
});

test('reference path parameters of any shape: 4xx, never 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), fc.constantFrom(...NASTY_STRINGS.filter(Boolean))), async (ref) => {
      let path: string;
      try {
        path = encodeURIComponent(ref);
      } catch {
        path = 'x';
      }
      const page = await staff.get(`/hub/referrals/${path}`);
      expect(page.status).toBeLessThan(500);
      const form = await staff.post(`/hub/referrals/${path}/transition`, { _csrf: csrf, action: 'triage', version: '0' });
      expect(form.status).toBeLessThan(500);
    }),
    { numRuns: 40 },
  );
});

test('the JSON API with a valid token and malformed bodies: 4xx, never 5xx, never a change', async () => {
  const before = await snapshot();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('transitions', 'grading'),
      fc.oneof(
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        fc.record({ to: fieldValue, version: fc.oneof(fc.constantFrom(-1, 1, 1.5, 1e20, '1', 'x', null, true), fc.jsonValue({ maxDepth: 1 })), reason: fieldValue }).map((v) => JSON.stringify(v)),
        fc.constantFrom('{', '{"to":"closed",', '{"__proto__":{"version":0},"to":"triaged"}', 'to=closed'),
      ),
      fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
      async (route, body, type) => {
        const res = await fetch(`${t.url}/api/hub/referrals/${reference}/${route}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiToken}`, 'content-type': type, 'if-match': '"v7"' },
          body,
        });
        expect(res.status).toBeLessThan(500);
        expect(res.status).toBeGreaterThanOrEqual(400);
      },
    ),
    { numRuns: 60 },
  );
  expect(await snapshot()).toEqual(before);
});

test('the sign-in form with hostile fields, tokens and encodings: never 5xx, never a session', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        username: fc.oneof(messageText(500), fc.constantFrom("sam' OR '1'='1", 'sam\u0000', 'SAM', ' sam ', 'sam'.repeat(100))),
        password: fc.oneof(messageText(2000), fc.constant('')),
        next: fc.oneof(fc.constantFrom('//evil.example.org', '/hub/../admin', 'javascript:alert(1)', '/hub/queue?x=<script>'), fc.string({ maxLength: 30 })),
      }),
      fc.boolean(),
      async (fields, withToken) => {
        const visitor = new Client(t.url);
        await visitor.get('/hub/login');
        const res = await visitor.post('/hub/login', withToken ? fields : { ...fields, _csrf: 'forged' });
        expect(res.status).toBeLessThan(500);
        expect([400, 401, 403, 413, 429]).toContain(res.status);
        expect([...visitor.cookies.keys()].some((k) => k.includes('ss_hub') && !k.includes('login'))).toBe(false);
      },
    ),
    { numRuns: 40 },
  );
  // Garbage bytes and content types at the sign-in form.
  await fc.assert(
    fc.asyncProperty(invalidUtf8, contentType, async (bytes, type) => {
      const res = await fetch(`${t.url}/hub/login`, { method: 'POST', headers: type === undefined ? {} : { 'content-type': type }, body: bytes, redirect: 'manual' });
      expect(res.status).toBeLessThan(500);
    }),
    { numRuns: 40 },
  );
}, 30_000);
