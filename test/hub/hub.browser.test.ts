// End-to-end in a real browser (playwright-core driving Debian's Chromium):
// sign in as a supervisor, open the most urgent referral, triage, assign and
// close it, take screenshots, and check every page with axe-core (no serious
// or critical violations) while the real Content-Security-Policy is enforced.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createStaff, makeReferral, PASSWORD, startHubApp, type HubTestApp } from './fixtures';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
const shots = path.resolve(__dirname, '..', '..', 'test-results', 'hub');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

if (!haveChromium) {
  // eslint-disable-next-line no-console
  console.warn(`Skipping the hub browser test: ${CHROMIUM} is not installed (apt-get install chromium).`);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

(haveChromium ? describe : describe.skip)('hub in a browser', () => {
  jest.setTimeout(180_000);
  let t: HubTestApp;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];
  let urgent: string;

  beforeAll(async () => {
    fs.mkdirSync(shots, { recursive: true });
    t = await startHubApp();
    await createStaff(t, 'sam', 'supervisor');
    const hour = 3_600_000;
    await makeReferral(t.services, { urgency: 'standard', createdAt: new Date(Date.now() - 30 * hour), town: 'Poole', indicators: ['yp_new_items'] });
    await makeReferral(t.services, { urgency: 'high', createdAt: new Date(Date.now() - 5 * hour), town: 'Weymouth', indicators: ['yp_multiple_phones', 'cl_deal_line'], entities: { phones: ['+447700900555'] } });
    urgent = await makeReferral(t.services, {
      urgency: 'immediate',
      createdAt: new Date(Date.now() - 2 * hour),
      town: 'Bournemouth',
      ageBand: '13_15',
      residency: 'visiting',
      indicators: ['yp_missing_episodes', 'yp_older_associates', 'cl_weapons'],
      reasons: [
        { code: 'weapon', text: 'A weapon was mentioned', points: 40 },
        { code: 'child_visiting', text: 'A child from outside the area', points: 20 },
      ],
      narrative: 'A boy, maybe 14, has been staying at the flat upstairs for a week. <b>Older men</b> visit at night and he was carrying a knife.',
      entities: { phones: ['+447700900555'], vehicles: ['AB12CDE'], names: ['little t'] },
      contact: 'Text 07700 900321',
    });
    await makeReferral(t.services, { urgency: 'immediate', createdAt: new Date(Date.now() - 10 * 60_000), town: 'Poole', riskUnknown: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) cspViolations.push(msg.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function axe(name: string): Promise<void> {
    // Evaluated through the DevTools protocol, so the page's CSP (no inline
    // script) stays on for everything the hub itself does.
    await page.evaluate(axeSource);
    const violations = (await page.evaluate(async () => {
      const w = window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: unknown[] }> } };
      const result = await w.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      });
      return result.violations;
    })) as AxeViolation[];
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    const report = bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n  ')}`);
    expect(report).toEqual([]);
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  }

  test('sign in, open the most urgent referral, triage, assign and close it', async () => {
    await page.goto(`${t.url}/hub/queue`);
    expect(new URL(page.url()).pathname).toBe('/hub/login');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to main content');
    await shot('01-login');
    await axe('login');

    await page.getByLabel('Username').fill('sam');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/hub\/queue$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Referral queue');
    await shot('02-queue');
    await axe('queue');

    // The first row is the most urgent, longest-waiting referral.
    const firstLink = page.locator('table.queue tbody tr').first().getByRole('link');
    expect(await firstLink.textContent()).toBe(urgent);
    await firstLink.click();
    await page.waitForURL(new RegExp(`/hub/referrals/${urgent}$`));
    expect(await page.locator('blockquote.reporter-words').textContent()).toContain('<b>Older men</b>');
    expect(await page.locator('blockquote.reporter-words b').count()).toBe(0);
    await shot('03-referral-new');
    await axe('referral');

    await page.getByRole('button', { name: 'Triage' }).click();
    await page.waitForURL(/done=triage/);
    expect(await page.getByRole('status').first().textContent()).toContain('Referral triaged.');

    await page.getByLabel('Agency').selectOption('police');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.waitForURL(/done=assign/);
    expect(await page.getByRole('status').first().textContent()).toContain('Referral assigned.');
    await shot('04-referral-assigned');
    await axe('referral assigned');

    // As a supervisor, the closure guard lets this immediate referral be closed.
    await page.getByLabel('Outcome').selectOption('strategy_discussion');
    await page.getByLabel('Reason', { exact: true }).fill('Strategy discussion held with police and children’s social care.');
    await page.getByRole('button', { name: 'Close referral' }).click();
    await page.waitForURL(/done=close/);
    expect(await page.getByRole('status').first().textContent()).toContain('Referral closed.');
    const row = await t.services.db.referral.findUniqueOrThrow({ where: { reference: urgent } });
    expect(row).toMatchObject({ status: 'closed', assignedAgency: 'police', outcome: 'strategy_discussion' });
    await shot('05-referral-closed');
    await axe('referral closed');

    // The reporter's contact details, on request.
    await page.getByRole('button', { name: 'Show contact details' }).click();
    expect(await page.locator('.contact').textContent()).toContain('Text 07700 900321');

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL(/\/hub\/dashboard$/);
    expect(await page.locator('svg[role="img"]').count()).toBeGreaterThanOrEqual(5);
    await shot('06-dashboard');
    await axe('dashboard');

    // Keyboard focus is visible: tab to the skip link and then the period select.
    const focusStyle = async () =>
      page.evaluate(() => {
        const el = document.activeElement as Element;
        const s = getComputedStyle(el);
        return { tag: el.tagName, outline: s.outlineStyle, shadow: s.boxShadow };
      });
    await page.keyboard.press('Tab');
    let f = await focusStyle();
    expect(f.tag).toBe('A');
    expect(f.outline !== 'none' || f.shadow !== 'none').toBe(true);
    await page.getByLabel('Period', { exact: true }).focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    f = await focusStyle();
    expect(f.tag).toBe('SELECT');
    expect(f.outline).not.toBe('none');

    expect(cspViolations).toEqual([]);
  });

  test('a form error is where keyboard focus starts, and the page title says so', async () => {
    await page.goto(`${t.url}/hub/account`);
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('copper meadow signal 81');
    await page.getByLabel('New password again').fill('copper meadow signal 82');
    await page.getByRole('button', { name: /change password/i }).click();
    await page.waitForLoadState();
    expect(await page.title()).toMatch(/^Error: /);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('alert');
    await axe('form error');
  });

  test('before the idle sign-out, a warning takes focus and "Stay signed in" keeps the session (WCAG 2.2.1)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await context.newPage();
    await p.clock.install();
    await p.goto(`${t.url}/hub/login`);
    await p.getByLabel('Username').fill('sam');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(/\/hub\/queue$/);
    const warning = p.locator('#session-warning');
    expect(await warning.isVisible()).toBe(false);
    // 55 minutes without using the hub (the default limit is 60).
    await p.clock.fastForward('55:01');
    await warning.waitFor({ state: 'visible' });
    expect(await warning.getAttribute('role')).toBe('alert');
    expect(await warning.textContent()).toContain('signed out in 5 minutes');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Stay signed in');
    // The server sees the session as nearly idle; "Stay signed in" makes it fresh again.
    const session = await t.services.db.staffSession.findFirstOrThrow({ where: { user: { username: 'sam' } }, orderBy: { createdAt: 'desc' } });
    await t.services.db.staffSession.update({ where: { id: session.id }, data: { lastSeenAt: new Date(Date.now() - 55 * 60_000) } });
    const kept = p.waitForResponse((r) => r.url().endsWith('/hub/session/keepalive'));
    await p.keyboard.press('Enter');
    expect((await kept).status()).toBe(204);
    await warning.waitFor({ state: 'hidden' });
    const after = await t.services.db.staffSession.findUniqueOrThrow({ where: { id: session.id } });
    expect(after.lastSeenAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  test('reflow (WCAG 1.4.10): at 320 and 640 CSS px wide, no page needs sideways scrolling', async () => {
    // Still signed in from the test above. The referral page has linked referrals and picked-out details.
    const wide: string[] = [];
    for (const width of [320, 640]) {
      await page.setViewportSize({ width, height: 900 });
      for (const p of ['/hub/queue', `/hub/referrals/${urgent}`, '/hub/dashboard']) {
        await page.goto(`${t.url}${p}`);
        // Open every "Show the data as a table", so the tables inside are measured too.
        for (const d of await page.locator('details').all()) await d.evaluate((el) => ((el as HTMLDetailsElement).open = true));
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        if (scrollWidth > width) wide.push(`${p} at ${width}: ${scrollWidth}px`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(wide).toEqual([]);
  });
});
