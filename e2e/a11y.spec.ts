// Accessibility of every page a person meets: the demo shop, the dashboard's sign-in form, the
// overview, the sessions list and a session with its replay, checked by axe-core at a laptop's and a phone's width. Any
// critical or serious violation fails the test. Then the replay journey done with the keyboard alone.
import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import { removeDataDir, startCollector } from './collector.js';
import { expect, leave, test } from './fixtures.js';
import { expectStored } from './store.js';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

const SHOP_PAGES = [
  ['shop home', '/'],
  ['shop product', '/product.html?id=wool-blanket'],
  ['shop checkout', '/checkout.html'],
  ['shop QA triggers', '/qa.html'],
] as const;

interface Finding {
  page: string;
  id: string;
  impact: string;
  targets: string[];
}

/** The critical and serious violations axe finds on the page as it is now (WCAG 2.x A and AA rules). */
async function audit(page: Page, name: string): Promise<Finding[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'critical' || violation.impact === 'serious')
    .map((violation) => ({
      page: name,
      id: violation.id,
      impact: violation.impact ?? '',
      targets: violation.nodes.map((node) => node.target.join(' ')),
    }));
}

function report(findings: Finding[]): string {
  return findings
    .map((f) => `${f.page}: ${f.impact} ${f.id} (${f.targets.length}): ${f.targets.join(', ')}`)
    .join('\n');
}

/** A short shopping journey, so that the list has a session and the detail a replay to show. */
async function recordJourney(page: Page): Promise<void> {
  await page.goto('/products.html?e2e=a11y');
  await page.waitForTimeout(600);
  await page.click('a.card[data-product="wool-blanket"]');
  await page.waitForURL('**/product.html?id=wool-blanket');
  await page.mouse.move(300, 300);
  await page.mouse.move(700, 420, { steps: 8 });
  await page.waitForTimeout(1500);
  await page.click('[data-buy]');
  await page.waitForURL('**/checkout.html');
  await page.locator('#name').pressSequentially('Ada Keys', { delay: 20 });
  await page.waitForTimeout(1500);
  await leave(page);
}

for (const viewport of VIEWPORTS) {
  test(`no page has a critical or serious axe violation at ${viewport.width}×${viewport.height}`, async ({
    browser,
    page,
    api,
    since,
  }) => {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    const findings: Finding[] = [];
    const checked: string[] = [];

    await recordJourney(page);
    const stored = await expectStored(api, since, { sessions: 1, visits: 3, conversions: 1 });
    const id = stored.sessions[0]?.id;

    for (const [name, path] of SHOP_PAGES) {
      await page.goto(path);
      await page.waitForLoadState('load');
      await expect(page.locator('header.site-header')).toBeVisible();
      await page.waitForTimeout(300);
      findings.push(...(await audit(page, name)));
      checked.push(name);
    }

    const dash = await page.context().newPage();
    await dash.goto('/dashboard');
    await expect(dash.locator(`tr[data-session="${id}"]`)).toBeVisible();
    findings.push(...(await audit(dash, 'dashboard list')));
    checked.push('dashboard list');

    await dash.goto('/dashboard#/overview');
    await expect(dash.locator('.overview-view figure.chart-figure')).toBeVisible();
    findings.push(...(await audit(dash, 'dashboard overview')));
    checked.push('dashboard overview');

    await dash.goto('/dashboard#/');
    await dash.locator(`tr[data-session="${id}"]`).click();
    await expect(dash.locator('.replay-card')).toHaveAttribute('data-replay-state', /playing|finished/);
    await expect(dash.locator('.replay-stage iframe')).toBeAttached();
    await dash.waitForTimeout(500);
    findings.push(...(await audit(dash, 'session detail')));
    checked.push('session detail');

    // The sign-in form as a deployed collector serves it: without the demo's automatic sign-in.
    const locked = await startCollector({
      demoSignIn: false,
      env: { SPOOR_ADMIN_PASSWORD: 'a11y password' },
    });
    try {
      const context = await browser.newContext({
        viewport: { width: viewport.width, height: viewport.height },
      });
      const signIn = await context.newPage();
      await signIn.goto(`${locked.url}/dashboard`);
      await expect(signIn.getByRole('form', { name: 'Sign in' })).toBeVisible();
      findings.push(...(await audit(signIn, 'dashboard sign-in')));
      checked.push('dashboard sign-in');
      await context.close();
    } finally {
      await locked.stop();
      await removeDataDir(locked.dataDir);
    }

    expect(checked).toHaveLength(8);
    expect(findings, `axe violations at ${viewport.width}px:\n${report(findings)}`).toEqual([]);
  });
}

/** Presses Tab (or Shift+Tab) until the target has focus; fails if it is not reached in `max` presses. */
async function tabTo(page: Page, target: Locator, { back = false, max = 40 } = {}): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((element) => element === document.activeElement).catch(() => false)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  await expect(target).toBeFocused();
}

test('the dashboard is used with the keyboard alone: filter, open a session, play, pause and seek the replay', async ({
  page,
  api,
  since,
}) => {
  await recordJourney(page);
  const stored = await expectStored(api, since, { sessions: 1, visits: 3, conversions: 1 });
  const id = stored.sessions[0]?.id;

  const dash = await page.context().newPage();
  await dash.goto('/dashboard');
  const row = dash.locator(`tr[data-session="${id}"]`);
  await expect(row).toBeVisible();

  // Filter: Tab to the entry-URL field, type, Enter. Focus stays in the field as the list reloads.
  const url = dash.getByLabel('Entry URL contains');
  await tabTo(dash, url);
  await dash.keyboard.type('no-such-page');
  await dash.keyboard.press('Enter');
  await expect(row).toBeHidden();
  await expect(url).toBeFocused();
  await dash.keyboard.press('ControlOrMeta+a');
  await dash.keyboard.type('e2e=a11y');
  await dash.keyboard.press('Enter');
  await expect(row).toBeVisible();
  await expect(url).toBeFocused();

  // Sort by a column from the keyboard: the header announces the order and keeps focus.
  const sortBrowser = dash.locator('button[data-sort="browser"]');
  await tabTo(dash, sortBrowser);
  await dash.keyboard.press('Enter');
  await expect(dash.locator('th[aria-sort="descending"] button[data-sort="browser"]')).toBeVisible();
  await expect(sortBrowser).toBeFocused();

  // Open the session: Tab to its row's link, Enter.
  const link = row.getByRole('link', { name: `#${id}` });
  await tabTo(dash, link, { max: 60 });
  await dash.keyboard.press('Enter');
  await dash.waitForURL(`**/dashboard#/session/${id}`);
  const replay = dash.locator('.replay-card');
  await expect(replay).toHaveAttribute('data-replay-state', /playing|finished/);
  await expect(dash.locator('main')).toBeFocused();

  const toggle = replay.getByRole('button', { name: /^(Play|Pause)$/ });
  const position = replay.getByRole('slider', { name: 'Replay position' });
  const shown = replay.locator('.rr-timeline__time').first();
  const now = async (): Promise<number> => Number(await position.getAttribute('aria-valuenow'));

  // Pause: Tab to the player's button, Space.
  await tabTo(dash, toggle);
  if ((await toggle.getAttribute('aria-label')) === 'Pause') await dash.keyboard.press('Space');
  await expect(toggle).toHaveAccessibleName('Play');
  const pausedAt = await now();
  await dash.waitForTimeout(600);
  expect(await now()).toBe(pausedAt);

  // Seek: Shift+Tab to the timeline, Home to the start, an arrow key forward.
  await tabTo(dash, position, { back: true });
  await dash.keyboard.press('Home');
  await expect(position).toHaveAttribute('aria-valuenow', '0');
  const atStart = await shown.textContent();
  await dash.keyboard.press('ArrowRight');
  await expect.poll(now).toBeGreaterThan(0);
  await expect(shown).not.toHaveText(atStart ?? '');
  await expect(toggle).toHaveAccessibleName('Play');
  await expect(position).toBeFocused();
  await dash.keyboard.press('Home');
  await expect(position).toHaveAttribute('aria-valuenow', '0');
  await expect(shown).toHaveText(atStart ?? '');

  // Play: Tab to the button, Enter; the time shown moves on.
  await tabTo(dash, toggle);
  await dash.keyboard.press('Enter');
  await expect(toggle).toHaveAccessibleName('Pause');
  await expect.poll(now).toBeGreaterThan(0);
  await expect(shown).not.toHaveText(atStart ?? '');

  // Back to the list with the keyboard.
  await tabTo(dash, dash.getByRole('link', { name: '← All sessions' }), { back: true });
  await dash.keyboard.press('Enter');
  await expect(row).toBeVisible();
});

test('with prefers-reduced-motion the shop does not animate and the replay waits for its play button', async ({
  browser,
  page,
  api,
  since,
  collector,
}) => {
  await recordJourney(page);
  const stored = await expectStored(api, since, { sessions: 1, visits: 3, conversions: 1 });
  const id = stored.sessions[0]?.id;

  const transitionOf = (target: Page) =>
    target
      .locator('a.card')
      .first()
      .evaluate((card) => getComputedStyle(card).transitionDuration);
  await page.goto('/products.html');
  await expect(page.locator('a.card').first()).toBeVisible();
  expect(await transitionOf(page)).not.toMatch(/^0s(, 0s)*$/);

  const still = await browser.newContext({ baseURL: collector.url, reducedMotion: 'reduce' });
  try {
    const shop = await still.newPage();
    await shop.goto('/products.html');
    await expect(shop.locator('a.card').first()).toBeVisible();
    expect(await transitionOf(shop)).toMatch(/^0s(, 0s)*$/);

    const dash = await still.newPage();
    await dash.goto(`/dashboard#/session/${id}`);
    const replay = dash.locator('.replay-card');
    await expect(replay).toHaveAttribute('data-replay-state', 'paused');
    const toggle = replay.getByRole('button', { name: 'Play' });
    await expect(toggle).toBeVisible();
    await dash.waitForTimeout(600);
    await expect(replay.getByRole('slider', { name: 'Replay position' })).toHaveAttribute(
      'aria-valuenow',
      '0',
    );
    await toggle.press('Enter');
    await expect(replay.getByRole('button', { name: 'Pause' })).toBeVisible();
    await expect(replay).toHaveAttribute('data-replay-state', /playing|finished/);
  } finally {
    await still.close();
  }
});
