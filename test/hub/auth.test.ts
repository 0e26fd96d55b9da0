// Sign-in, lockout, sessions, CSRF, security headers, and proof that every
// hub route needs authentication.
import { LOCKOUT_THRESHOLD } from '../../hub/constants';
import { Client, createStaff, makeReferral, PASSWORD, startHubApp, type HubTestApp } from './fixtures';

let t: HubTestApp;

beforeAll(async () => {
  t = await startHubApp();
  await createStaff(t, 'tina', 'triager');
  await createStaff(t, 'sam', 'supervisor');
  await createStaff(t, 'ada', 'admin');
  await createStaff(t, 'lou', 'triager');
});
afterAll(async () => t?.close());

const GENERIC = /Sign-in failed\. Check your username and password\./;

describe('sign in', () => {
  test('a correct password signs in with a hardened session cookie', async () => {
    const c = new Client(t.url);
    const login = await c.get('/hub/login');
    expect(login.status).toBe(200);
    const res = await c.post('/hub/login', { username: 'tina', password: PASSWORD });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/hub/queue');
    const cookie = res.headers.getSetCookie().find((x) => x.startsWith('ss_hub='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/); // served over plain HTTP in this test
    const queue = await c.get('/hub/queue');
    expect(queue.status).toBe(200);
    expect(queue.text).toContain('Signed in as <strong>tina</strong>');
    // The database stores a hash of the cookie, never the cookie itself.
    const value = c.cookies.get('ss_hub')!;
    expect(await t.services.db.staffSession.findUnique({ where: { id: value } })).toBeNull();
  });

  test('usernames are case-insensitive and the next page is honoured only within the hub', async () => {
    const c = new Client(t.url);
    await c.get('/hub/login?next=/hub/dashboard');
    const res = await c.post('/hub/login', { username: 'TINA', password: PASSWORD, next: '/hub/dashboard' });
    expect(res.location).toBe('/hub/dashboard');
    const c2 = new Client(t.url);
    await c2.get('/hub/login');
    const evil = await c2.post('/hub/login', { username: 'tina', password: PASSWORD, next: 'https://evil.example/' });
    expect(evil.location).toBe('/hub/queue');
  });

  test('wrong password and unknown user get the same generic message', async () => {
    const c = new Client(t.url);
    await c.get('/hub/login');
    const wrong = await c.post('/hub/login', { username: 'sam', password: 'not the password at all' });
    await c.get('/hub/login');
    const unknown = await c.post('/hub/login', { username: 'nobody-here', password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.text).toMatch(GENERIC);
    expect(unknown.text).toMatch(GENERIC);
    expect(wrong.headers.getSetCookie().some((x) => x.startsWith('ss_hub='))).toBe(false);
    // The failed count was reset by nothing yet: clean up for later tests.
    await t.services.db.staffUser.update({ where: { username: 'sam' }, data: { failedLogins: 0 } });
  });

  test(`an account locks after ${LOCKOUT_THRESHOLD} failed attempts, even against the right password`, async () => {
    const c = new Client(t.url);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      await c.get('/hub/login');
      const res = await c.post('/hub/login', { username: 'lou', password: `wrong password number ${i}` });
      expect(res.status).toBe(401);
    }
    const user = await t.services.db.staffUser.findUniqueOrThrow({ where: { username: 'lou' } });
    expect(user.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    await c.get('/hub/login');
    const locked = await c.post('/hub/login', { username: 'lou', password: PASSWORD });
    expect(locked.status).toBe(401);
    expect(locked.text).toMatch(GENERIC); // no hint that the account exists or is locked
    // Once the lock has expired, the right password works again and resets the count.
    await t.services.db.staffUser.update({ where: { username: 'lou' }, data: { lockedUntil: new Date(Date.now() - 1000) } });
    await c.get('/hub/login');
    const ok = await c.post('/hub/login', { username: 'lou', password: PASSWORD });
    expect(ok.status).toBe(303);
    const after = await t.services.db.staffUser.findUniqueOrThrow({ where: { username: 'lou' } });
    expect(after.failedLogins).toBe(0);
    expect(after.lockedUntil).toBeNull();
    const actions = (await t.services.db.auditLog.findMany({ where: { target: `user:${user.id}` } })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['login.failed', 'user.locked', 'login.succeeded']));
  });

  test('a disabled account cannot sign in and its sessions end', async () => {
    const id = await createStaff(t, 'dora', 'triager');
    const c = new Client(t.url);
    await c.login('dora');
    expect((await c.get('/hub/queue')).status).toBe(200);
    await t.hub.users.setDisabled(id, true, { type: 'system', id: 'test' });
    expect((await c.get('/hub/queue')).status).toBe(303);
    const again = new Client(t.url);
    await again.get('/hub/login');
    expect((await again.post('/hub/login', { username: 'dora', password: PASSWORD })).status).toBe(401);
  });

  test('signing out ends the session on the server', async () => {
    const c = new Client(t.url);
    await c.login('tina');
    const stolen = c.cookies.get('ss_hub')!;
    const out = await c.post('/hub/logout');
    expect(out.status).toBe(303);
    const replay = await fetch(`${t.url}/hub/queue`, { headers: { cookie: `ss_hub=${stolen}` }, redirect: 'manual' });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toMatch(/^\/hub\/login/);
  });

  test('an expired session is refused', async () => {
    const c = new Client(t.url);
    await c.login('tina');
    await t.services.db.staffSession.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await c.get('/hub/queue')).status).toBe(303);
  });

  test('a form sent after the session ended: the sign-in page says what happened and leads back to the same referral', async () => {
    const ref = await makeReferral(t.services);
    const c = new Client(t.url);
    await c.login('tina');
    await c.get(`/hub/referrals/${ref}`);
    const csrf = c.csrf();
    await t.services.db.staffSession.updateMany({ where: { user: { username: 'tina' } }, data: { lastSeenAt: new Date(Date.now() - 2 * 60 * 60_000) } });
    const sent = await c.post(`/hub/referrals/${ref}/notes`, { _csrf: csrf, note: 'Spoke to the school.' });
    expect(sent.status).toBe(303);
    expect(sent.location).toBe(`/hub/login?next=${encodeURIComponent(`/hub/referrals/${ref}`)}&ended=form`);
    const login = await c.get(sent.location!);
    expect(login.text).toContain('you were signed out because the hub had not been used'.replace(/^y/, 'Y'));
    expect(login.text).toContain('what you sent was not saved');
    const signedIn = await c.post('/hub/login', { username: 'tina', password: PASSWORD, next: `/hub/referrals/${ref}` });
    expect(signedIn.location).toBe(`/hub/referrals/${ref}`);
  });
});

describe('CSRF', () => {
  test('a form without the token is rejected and changes nothing', async () => {
    const ref = await makeReferral(t.services, { urgency: 'standard' });
    const c = new Client(t.url);
    await c.login('tina');
    const page = await c.get(`/hub/referrals/${ref}`);
    const version = c.version(page.text);
    const res = await c.post(`/hub/referrals/${ref}/transition`, { action: 'triage', version }, { csrf: false });
    expect(res.status).toBe(403);
    expect(res.text).toContain('This form has expired');
    const wrong = await c.post(`/hub/referrals/${ref}/transition`, { _csrf: 'x'.repeat(43), action: 'triage', version });
    expect(wrong.status).toBe(403);
    expect((await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } })).status).toBe('new');
    // Another session's token is no good either.
    const other = new Client(t.url);
    await other.login('sam');
    const foreign = await c.post(`/hub/referrals/${ref}/transition`, { _csrf: other.csrf(), action: 'triage', version });
    expect(foreign.status).toBe(403);
    // With its own token it works.
    await c.get(`/hub/referrals/${ref}`);
    const ok = await c.post(`/hub/referrals/${ref}/transition`, { action: 'triage', version });
    expect(ok.status).toBe(303);
  });

  test('the sign-in form needs its token too', async () => {
    const res = await fetch(`${t.url}/hub/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'tina', password: PASSWORD }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().some((x) => x.startsWith('ss_hub='))).toBe(false);
  });

  test('every POST form on the pages carries a CSRF token', async () => {
    const ref = await makeReferral(t.services, { urgency: 'high', contact: 'call me on 07700 900123' });
    const c = new Client(t.url);
    await c.login('ada');
    for (const p of [`/hub/referrals/${ref}`, '/hub/queue', '/hub/admin/users', '/hub/admin/tokens', '/hub/audit', '/hub/account', '/hub/dashboard']) {
      const html = (await c.get(p)).text;
      const forms = html.match(/<form[^>]*method="post"[\s\S]*?<\/form>/g) ?? [];
      for (const f of forms) expect(f).toMatch(/name="_csrf" value="[^"]{20,}"/);
    }
  });
});

describe('security headers', () => {
  test('pages and API answers carry CSP, frame and referrer protections', async () => {
    const c = new Client(t.url);
    for (const res of [await c.get('/hub/login'), await c.get('/api/hub/referrals'), await c.get('/hub/queue')]) {
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).toContain("base-uri 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  test('pages contain no inline script or style', async () => {
    const ref = await makeReferral(t.services);
    const c = new Client(t.url);
    await c.login('ada');
    for (const p of ['/hub/queue', `/hub/referrals/${ref}`, '/hub/dashboard', '/hub/audit', '/hub/admin/users', '/hub/admin/tokens']) {
      const html = (await c.get(p)).text;
      // Scripts only from the hub's own files (CSP script-src 'self'), never inline.
      for (const tag of html.match(/<script[^>]*>[\s\S]*?<\/script>/gi) ?? []) expect(tag).toMatch(/^<script src="\/hub\/static\/[a-z]+\.js" defer><\/script>$/);
      expect(html).not.toMatch(/\sstyle=/i);
      expect(html).not.toMatch(/\son[a-z]+=/i);
    }
  });
});

describe('every hub route requires authentication', () => {
  const PUBLIC = new Set(['GET /hub/login', 'POST /hub/login', 'GET /hub/static/hub.css', 'GET /hub/static/session.js']);

  test('enumerated from the server: anonymous requests are refused', async () => {
    const router = (t.app.server as unknown as { router: { getRoutes(): Record<string, { method: string; path: string }> } }).router;
    const routes = Object.values(router.getRoutes())
      .map((r) => ({ method: r.method.toUpperCase(), path: String(r.path) }))
      .filter((r) => r.path.startsWith('/hub') || r.path.startsWith('/api/hub'));
    expect(routes.length).toBeGreaterThan(25);
    // Everything the hub mounted is among what the server knows, and vice versa.
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(t.hub.routes.map((r) => `${r.method} ${r.path}`).sort());
    const ref = await makeReferral(t.services);
    let checked = 0;
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      const concrete = r.path.replace(':reference', ref).replace(':id', 'some-id');
      const res = await fetch(t.url + concrete, {
        method: r.method,
        redirect: 'manual',
        ...(r.method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=triage&to=triaged&text=x' } : {}),
      });
      if (PUBLIC.has(key)) {
        expect(t.hub.routes.find((x) => `${x.method} ${x.path}` === key)?.public).toBe(true);
        continue;
      }
      expect(t.hub.routes.find((x) => `${x.method} ${x.path}` === key)?.public).toBe(false);
      if (r.path.startsWith('/api/hub')) {
        expect([key, res.status]).toEqual([key, 401]);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      } else {
        expect([key, res.status]).toEqual([key, 303]);
        expect(res.headers.get('location')).toMatch(/^\/hub\/login/);
      }
      checked++;
    }
    expect(checked).toBe(routes.length - PUBLIC.size);
    expect((await t.services.db.referral.findUniqueOrThrow({ where: { reference: ref } })).status).toBe('new');
  });

  test('a made-up session cookie or bearer token does not help', async () => {
    const res = await fetch(`${t.url}/hub/queue`, { headers: { cookie: 'ss_hub=forged' }, redirect: 'manual' });
    expect(res.status).toBe(303);
    const api = await fetch(`${t.url}/api/hub/referrals`, { headers: { authorization: 'Bearer sshub_forged' } });
    expect(api.status).toBe(401);
  });
});

describe('served over HTTPS', () => {
  test('cookies are Secure with the __Host- prefix, and HSTS is sent', async () => {
    const s = await startHubApp({ PUBLIC_BASE_URL: 'https://hub.example.org' });
    try {
      await createStaff(s, 'tina', 'triager');
      const c = new Client(s.url);
      const login = await c.get('/hub/login');
      expect(login.headers.getSetCookie()[0]).toMatch(/^__Host-ss_hub_login=.*; Path=\/; SameSite=Strict; HttpOnly; Secure/);
      expect(login.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      const res = await c.post('/hub/login', { username: 'tina', password: PASSWORD });
      expect(res.status).toBe(303);
      const cookie = res.headers.getSetCookie().find((x) => x.startsWith('__Host-ss_hub='))!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Secure/);
      expect(cookie).not.toMatch(/Domain=/);
      expect((await c.get('/hub/queue')).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('guessing passwords', () => {
  /** A sign-in form, loaded and ready to post from a given network source (as a reverse proxy on the host reports it). */
  async function signInForm(source: string, username: string, password: string): Promise<() => Promise<number>> {
    const c = new Client(t.url);
    await c.get('/hub/login');
    const form = { _csrf: c.csrf(), username, password };
    return async () => (await c.request('POST', '/hub/login', { form, headers: { 'x-forwarded-for': source } })).status;
  }
  const signInFrom = async (source: string, username: string, password: string): Promise<number> => (await signInForm(source, username, password))();
  /** Posts every form at the same moment. */
  const allAtOnce = async (forms: Array<Promise<() => Promise<number>>>): Promise<number[]> => Promise.all((await Promise.all(forms)).map((post) => post()));

  test(`guesses sent at the same moment: at most ${LOCKOUT_THRESHOLD} are checked, then the account is locked`, async () => {
    const id = await createStaff(t, 'rita', 'triager');
    const guesses = Array.from({ length: 24 }, (_, i) => signInForm(`198.51.100.${i + 1}`, 'rita', `wrong guess ${i}`));
    // The right password arrives among them: it must not get in once the guesses have used up the account's allowance.
    const statuses = await allAtOnce([...guesses, signInForm('198.51.100.99', 'rita', PASSWORD)]);
    const audit = await t.services.db.auditLog.findMany({ where: { target: `user:${id}`, action: 'login.failed' } });
    const judged = audit.filter((a) => JSON.parse(String(a.detail ?? '{}')).reason === 'bad_password');
    expect(judged.length).toBeLessThanOrEqual(LOCKOUT_THRESHOLD);
    const user = await t.services.db.staffUser.findUniqueOrThrow({ where: { id } });
    if (statuses[statuses.length - 1] === 303) {
      // The right password was one of the first five checked: fine, the guessers got no more than five.
      expect(judged.length).toBeLessThan(LOCKOUT_THRESHOLD);
    } else {
      expect(user.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
    }
  });

  test('the per-network limit counts attempts sent at the same moment', async () => {
    const statuses = await allAtOnce(Array.from({ length: 45 }, (_, i) => signInForm('203.0.113.50', `nobody-${i}`, 'not the password at all')));
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(30);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
  });

  test('behind a reverse proxy on the host, one network using up its limit does not lock out another', async () => {
    await createStaff(t, 'pat', 'triager');
    for (let i = 0; i < 31; i++) await signInFrom('203.0.113.9', `made-up-${i}`, 'not the password at all');
    expect(await signInFrom('203.0.113.9', 'pat', PASSWORD)).toBe(429);
    expect(await signInFrom('198.51.100.7', 'pat', PASSWORD)).toBe(303);
  });
});

describe('changing your own password', () => {
  test('a wrong current password counts as a failed sign-in: audited, and the account locks with its sessions', async () => {
    const id = await createStaff(t, 'quinn', 'triager');
    const c = new Client(t.url);
    await c.login('quinn');
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      await c.get('/hub/account');
      const res = await c.post('/hub/account/password', { current: `guess ${i}`, password: 'A-New-Long-Passphrase-1', confirm: 'A-New-Long-Passphrase-1' });
      if (i < LOCKOUT_THRESHOLD - 1) expect(res.status).toBe(400);
    }
    const user = await t.services.db.staffUser.findUniqueOrThrow({ where: { id } });
    expect(user.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
    expect(await t.services.db.staffSession.count({ where: { userId: id } })).toBe(0);
    const actions = (await t.services.db.auditLog.findMany({ where: { target: `user:${id}` } })).map((a) => a.action);
    expect(actions.filter((a) => a === 'password_change.failed')).toHaveLength(LOCKOUT_THRESHOLD);
    expect(actions).toContain('user.locked');
    expect((await c.get('/hub/queue')).status).toBe(303);
  });

  test('a new password ends every other session of the account, and keeps this one', async () => {
    await createStaff(t, 'remy', 'triager');
    const mine = new Client(t.url);
    const other = new Client(t.url);
    await mine.login('remy');
    await other.login('remy');
    expect((await other.get('/hub/queue')).status).toBe(200);
    await mine.get('/hub/account');
    const res = await mine.post('/hub/account/password', { current: PASSWORD, password: 'A-New-Long-Passphrase-2', confirm: 'A-New-Long-Passphrase-2' });
    expect(res.status).toBe(303);
    expect((await mine.get('/hub/queue')).status).toBe(200);
    expect((await other.get('/hub/queue')).status).toBe(303);
  });
});
