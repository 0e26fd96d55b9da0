// The web chat page in a real browser: Debian's Chromium, driven by
// playwright-core, running Bot Framework Web Chat against SpeakSafe's own
// Direct Line API. Nothing leaves loopback: every other request is blocked
// (and recorded, which is how the quick exit is checked).
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { channelsOf } from '../../bot/channels';
import { REFERENCE_RE, reporterAnswer, startChannelApp, waitUntil, type ChannelTestApp } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const EXIT_URL = 'https://www.bbc.co.uk/weather';
const RESULTS = path.resolve(__dirname, '../../test-results');
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) {
  // eslint-disable-next-line no-console
  console.warn(`Skipping the web chat browser tests: ${CHROMIUM} is absent (.ci/run installs Debian's chromium with apt).`);
}
const describeBrowser = hasChromium ? describe : describe.skip;

jest.setTimeout(180_000);

let t: ChannelTestApp;
let browser: Browser;

describeBrowser('web chat page in Chromium', () => {
  beforeAll(async () => {
    fs.mkdirSync(RESULTS, { recursive: true });
    t = await startChannelApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (t) await channelsOf(t.app.server).directLine.idle();
    await t?.close();
  });

  const m = () => t.app.services.content.messages;

  interface Session {
    context: BrowserContext;
    page: Page;
    /** Requests for anything but the app itself: blocked, and listed here. */
    external: string[];
    problems: string[];
  }

  async function open(viewport = { width: 1280, height: 900 }): Promise<Session> {
    const context = await browser.newContext({ viewport, locale: 'en-GB', serviceWorkers: 'block' });
    const page = await context.newPage();
    const external: string[] = [];
    const problems: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return route.continue();
      external.push(url.href);
      return route.abort('blockedbyclient');
    });
    // axe-core, served from the app's own origin so the page's CSP (script-src 'self') allows it.
    await context.route('**/__test__/axe.min.js', (route) =>
      route.fulfill({ path: require.resolve('axe-core/axe.min.js'), contentType: 'text/javascript; charset=utf-8' }),
    );
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/ERR_BLOCKED_BY_CLIENT|net::ERR_FAILED/.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });
    return { context, page, external, problems };
  }

  /**
   * The page tried to leave for the exit site, and the test's route has recorded and blocked it. (A
   * 'request' event can arrive before the route handler has run; 'requestfailed' comes after it.)
   */
  const blockedExit = (page: Page) => page.waitForEvent('requestfailed', { predicate: (r) => r.url().startsWith(EXIT_URL), timeout: 10000 });

  const toolbar = (page: Page) => page.getByRole('toolbar', { name: 'Suggested actions' });
  const sendBox = (page: Page) => page.locator('[data-id="webchat-sendbox-input"]');
  const botBubbles = (page: Page) => page.locator('.webchat__bubble:not(.webchat__bubble--from-user) .webchat__bubble__content');
  /** Web Chat's Markdown renderer prints typographic apostrophes and quotes. */
  const plain = (s: string): string => s.replace(/[\u2018\u2019]/g, "'").replace(/[\u201C\u201D]/g, '"');

  /** Web Chat's own "Connecting…" notice has gone: the Direct Line connection is online. */
  async function connected(page: Page): Promise<void> {
    await page.waitForFunction(() => !document.querySelector('.webchat__connectivityStatus'), undefined, { timeout: 15000 });
  }

  async function options(page: Page): Promise<string[]> {
    return (await toolbar(page).getByRole('button').allInnerTexts()).map((s) => plain(s.trim()));
  }

  /** Do something, then wait until the bot has answered with something new to pick or read. */
  async function act(page: Page, action: () => Promise<void>): Promise<void> {
    const before = await botBubbles(page).count();
    await action();
    await waitUntil(async () => ((await botBubbles(page).count()) > before ? true : undefined), 'the bot to answer', 20000);
    // Replies to one message arrive together in one poll; give Web Chat a moment to render them all.
    await page.waitForTimeout(300);
  }

  async function click(page: Page, title: string): Promise<void> {
    const exact = toolbar(page).getByRole('button', { name: title, exact: true });
    const button = (await exact.count()) ? exact : toolbar(page).getByRole('button', { name: title.replace(/'/g, '\u2019'), exact: true });
    await act(page, () => button.first().click());
  }

  async function type(page: Page, text: string): Promise<void> {
    await act(page, async () => {
      await sendBox(page).fill(text);
      await sendBox(page).press('Enter');
    });
  }

  async function lastBotText(page: Page): Promise<string> {
    return plain(await botBubbles(page).last().innerText());
  }

  async function transcript(page: Page): Promise<string> {
    return plain(await page.locator('.webchat__basic-transcript').innerText());
  }

  /** axe-core's WCAG 2.2 A/AA rules on the whole page, Web Chat included (no exclusions). */
  async function axeViolations(page: Page): Promise<Array<{ id: string; impact: string; help: string; nodes: string[] }>> {
    await page.addScriptTag({ url: `${t.url}/__test__/axe.min.js` });
    const result = await page.evaluate(async () => {
      type AxeResult = { violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>; passes: unknown[] };
      const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<AxeResult> } }).axe;
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
      return {
        passes: r.passes.length,
        violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })),
      };
    });
    // axe really ran its rules over this page.
    expect(result.passes).toBeGreaterThan(10);
    return result.violations;
  }

  it('chats through a topic and a referral by clicking buttons, passes axe, and Esc leaves the site', async () => {
    const { context, page, external, problems } = await open();
    const response = await page.goto(`${t.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.getAttribute('html', 'lang')).toBe('en-GB');

    // The quick exit is visible and the first thing the keyboard reaches.
    const exit = page.getByRole('button', { name: 'Leave this site' });
    await expect(exit.isVisible()).resolves.toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('quick-exit');

    // Welcome, then who you are, then a topic: all by clicking buttons.
    await toolbar(page).getByRole('button').first().waitFor({ timeout: 30000 });
    expect(await transcript(page)).toContain(m().t('ask_audience'));
    expect(await options(page)).toContain(m().t('audience.young_person'));
    await click(page, m().t('audience.young_person'));
    expect(await options(page)).toContain('What is cuckooing?');
    await click(page, 'What is cuckooing?');
    const topic = await transcript(page);
    expect(topic).toContain('Cuckooing is when a gang takes over');
    expect(topic).not.toContain('**'); // Markdown rendered, not shown
    await expect(page.locator('.webchat__bubble strong', { hasText: 'What is cuckooing?' }).count()).resolves.toBeGreaterThan(0);

    // A referral: buttons for every choice, the send box for the reporter's own words.
    await click(page, m().t('menu.report'));
    const town = t.app.services.content.area.towns[0].name;
    let reference: string | undefined;
    for (let i = 0; i < 30 && !reference; i++) {
      const opts = await options(page);
      const answer = reporterAnswer(m(), await lastBotText(page), opts, town);
      if ('pick' in answer) await click(page, answer.pick);
      else await type(page, answer.say);
      reference = REFERENCE_RE.exec(await transcript(page))?.[0];
    }
    expect(reference).toBeDefined();
    const referral = await t.app.services.db.referral.findUnique({ where: { reference: reference! } });
    expect(referral).toMatchObject({ channel: 'webchat', concernType: 'young_person' });
    expect(referral!.narrative).toContain('silver car');

    // Nothing kept on the device, nothing fetched from anywhere else, no errors.
    expect(await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }))).toEqual({
      local: 0,
      session: 0,
      cookie: '',
    });
    expect(await context.cookies()).toEqual([]);
    expect(external).toEqual([]);
    expect(problems).toEqual([]);

    await connected(page);
    await page.screenshot({ path: path.join(RESULTS, 'webchat-referral.png'), fullPage: true });

    const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious).toEqual([]);

    // Esc, even while typing in the chat, leaves at once for a neutral site.
    await sendBox(page).fill('I need to go');
    const leaving = blockedExit(page);
    await sendBox(page).press('Escape');
    await leaving;
    expect(external).toContain(EXIT_URL);
    expect(await page.evaluate(() => document.body?.innerText ?? '')).not.toContain('SpeakSafe');
    await context.close();
  });

  it('on a short screen (400% zoom), nothing the keyboard reaches is hidden under the banner', async () => {
    const { context, page } = await open({ width: 320, height: 256 });
    await page.goto(`${t.url}/`);
    await toolbar(page).getByRole('button').first().waitFor({ timeout: 30000 });
    await connected(page);
    const hidden: string[] = [];
    const check = async (key: string) => {
      await page.keyboard.press(key);
      const where = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        const banner = document.querySelector('.banner') as HTMLElement;
        if (!el || el === document.body || banner.contains(el)) return null;
        const r = el.getBoundingClientRect();
        const b = banner.getBoundingClientRect();
        const sticky = getComputedStyle(banner).position === 'sticky';
        // Hidden: entirely under a banner that stays on screen.
        return { what: `${el.tagName.toLowerCase()}.${el.className}`.slice(0, 60), hidden: sticky && r.bottom <= b.bottom && r.bottom > 0 };
      });
      if (where?.hidden) hidden.push(`${key}: ${where.what}`);
    };
    for (let i = 0; i < 12; i++) await check('Tab');
    for (let i = 0; i < 8; i++) await check('Shift+Tab');
    expect(hidden).toEqual([]);
    await context.close();
  });

  it('when the chat ends, the message is announced and keyboard focus moves to it; Esc inside a message is the chat\'s', async () => {
    const { context, page, external } = await open();
    await page.goto(`${t.url}/`);
    await toolbar(page).getByRole('button').first().waitFor({ timeout: 30000 });
    await connected(page);
    // Esc pressed inside a message's own content belongs to the chat ("Exit message" in its keyboard help): no exit.
    const inMessage = await page.evaluate(() => {
      const activity = document.querySelector('.webchat__basic-transcript__activity');
      if (!activity) return false;
      activity.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
      return true;
    });
    expect(inMessage).toBe(true);
    await page.waitForTimeout(200);
    expect(external).toEqual([]);

    // A tab asleep past the chat's time limit, with focus in the message box: the chat ends.
    await sendBox(page).focus();
    await page.evaluate(() => {
      const realNow = Date.now.bind(Date);
      let visibility = 'hidden';
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
      document.dispatchEvent(new Event('visibilitychange'));
      Date.now = () => realNow() + 26 * 60 * 1000;
      visibility = 'visible';
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const ended = page.locator('#chat-timeout');
    await ended.waitFor({ state: 'visible' });
    expect(await ended.getAttribute('role')).toBe('alert');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('chat-timeout');
    // Its button starts a new chat.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('chat-timeout-restart');
    await context.close();
  });

  it('on a phone: the "Leave this site" button works by keyboard and by tap, and the page passes axe', async () => {
    const { context, page, external, problems } = await open({ width: 390, height: 844 });
    await page.goto(`${t.url}/`);
    await toolbar(page).getByRole('button').first().waitFor({ timeout: 30000 });
    await connected(page);
    await page.screenshot({ path: path.join(RESULTS, 'webchat-phone.png') });
    const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious).toEqual([]);

    // Reflow (WCAG 1.4.10): at 320 px wide nothing needs sideways scrolling.
    await page.setViewportSize({ width: 320, height: 640 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await page.setViewportSize({ width: 390, height: 844 });

    // Keyboard: Tab to the button, Enter.
    await page.keyboard.press('Tab');
    const leaving = blockedExit(page);
    await page.keyboard.press('Enter');
    await leaving;
    expect(external).toEqual([EXIT_URL]);
    expect(problems).toEqual([]);

    // Tap, on a fresh page.
    const again = await context.newPage();
    await again.goto(`${t.url}/`);
    const tapped = blockedExit(again);
    await again.getByRole('button', { name: 'Leave this site' }).click();
    await tapped;
    await context.close();
  });
});
