// The demo as QA meets it: every shop page, the QA panel open on live data, and the dashboard with a
// session's replay playing. Screenshots land in e2e/screenshots/ (ignored by git) for a human to look at.
import { expect, leave, test } from './fixtures.js';
import { expectStored } from './store.js';

const PAGES = [
  ['shop-home', '/'],
  ['shop-products', '/products.html'],
  ['shop-product', '/product.html?id=wool-blanket'],
  ['shop-checkout', '/checkout.html'],
  ['shop-thank-you', '/thank-you.html?order=FW-482913'],
  ['shop-account-orders', '/app/orders'],
  ['shop-gift-cards-esm', '/esm.html'],
  ['shop-qa-triggers', '/qa.html'],
] as const;

test('every demo page renders under its strict CSP without errors', async ({ page, shot }) => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  for (const [name, path] of PAGES) {
    await page.goto(path);
    await page.waitForLoadState('load');
    await expect(page.locator('header.site-header')).toBeVisible();
    await expect(page.locator('#spoor-qa')).toBeAttached();
    await page.waitForTimeout(300);
    await shot(page, name);
  }
  await leave(page);
  expect(problems).toEqual([]);
});

test('the QA panel opens with ?spoor-debug and shows the session, tab and answered batches', async ({
  page,
  shot,
}) => {
  await page.goto('/products.html?spoor-debug');
  const panel = page.locator('#spoor-qa section.panel');
  await expect(panel).toBeVisible();
  await expect(page.locator('#spoor-qa [data-qa="session-id"]')).toHaveText(/^[0-9a-f]{8}$/);
  await expect(page.locator('#spoor-qa [data-qa="tab"]')).toHaveText(/^\d+$/);
  await page.mouse.move(400, 300);
  await page.mouse.wheel(0, 400);
  await page.evaluate(() => (window as unknown as { spoor: (command: string) => void }).spoor('flush'));
  await expect(page.locator('#spoor-qa tr[data-batch] .status.ok').first()).toHaveText('200');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'qa-panel-open', { fullPage: false });

  // The toggle closes it, and it stays closed on the next page of this tab.
  await page.locator('#spoor-qa button.close').click();
  await expect(panel).toBeHidden();
  await page.goto('/');
  await expect(page.locator('#spoor-qa section.panel')).toBeHidden();
  await expect(page.locator('#spoor-qa button.toggle')).toContainText('Spoor QA');
  await leave(page);
});

test('the dashboard lists the session, sorts and filters it, and replays it tab by tab', async ({
  context,
  page,
  api,
  since,
  shot,
}) => {
  await page.goto('/products.html?e2e=dashboard');
  await page.waitForTimeout(800);
  await page.click('a.card[data-product="wool-blanket"]');
  await page.waitForURL('**/product.html?id=wool-blanket');
  await page.mouse.move(300, 300);
  await page.mouse.move(700, 420, { steps: 8 });
  await page.waitForTimeout(800);
  await page.click('[data-buy]');
  await page.waitForURL('**/checkout.html');
  await page.locator('#name').pressSequentially('Dash Board', { delay: 20 });
  await page.waitForTimeout(800);
  await leave(page);
  const stored = await expectStored(api, since, { sessions: 1, visits: 3, conversions: 1 });
  const id = stored.sessions[0]?.id;

  const dash = await context.newPage();
  const errors: string[] = [];
  dash.on('pageerror', (error) => errors.push(error.message));
  await dash.goto('/dashboard');
  const row = dash.locator(`tr[data-session="${id}"]`);
  await expect(row).toBeVisible();
  await expect(row).toHaveClass(/unread/);
  await expect(row).toContainText('/products.html?e2e=dashboard');
  await shot(dash, 'dashboard-sessions', { fullPage: false });

  // Every allowed sort key is accepted by the collector (an error would replace the table).
  for (const key of ['id', 'browser', 'device', 'platform_os', 'country', 'time_spend', 'created_at']) {
    await dash.click(`button[data-sort="${key}"]`);
    await expect(dash.locator(`th[aria-sort] button[data-sort="${key}"]`)).toBeVisible();
    await expect(row).toBeVisible();
  }
  // Filters go to the collector: this session has a conversion, so "Without" hides it.
  await dash.selectOption('select:near(:text("Conversions"))', 'without');
  await expect(row).toBeHidden();
  await dash.selectOption('select:near(:text("Conversions"))', 'with');
  await expect(row).toBeVisible();
  await dash.fill('input[name="url"]', 'no-such-page');
  await dash.press('input[name="url"]', 'Enter');
  await expect(row).toBeHidden();
  await dash.click('text=Clear filters');
  await expect(row).toBeVisible();

  await row.click();
  const replay = dash.locator('.replay-card');
  await expect(replay).toHaveAttribute('data-replay-state', /playing|finished/);
  await expect(dash.locator('[data-card="visits"] .count-badge')).toHaveText('3');
  await expect(dash.locator('[data-card="conversions"] .count-badge')).toHaveText('1');
  await expect(dash.locator('.replay-stage iframe')).toBeAttached();
  await dash.waitForTimeout(2500);
  await shot(dash, 'dashboard-replay', { fullPage: true });

  // Opening it marked it read.
  await dash.click('text=← All sessions');
  await expect(row).toBeVisible();
  await expect(row).not.toHaveClass(/unread/);
  await dash.click('.segmented button:has-text("Unread")');
  await expect(row).toBeHidden();
  expect(errors).toEqual([]);
});
