// Single-page navigation: pushState, popstate and a query change make visits; a router's
// replaceState with the same URL does not.
import { expect, leave, test } from './fixtures.js';
import { expectStored } from './store.js';

test('single-page navigation makes a visit per route change and replaceState with the same URL makes none', async ({
  page,
  api,
  since,
}) => {
  await page.goto('/app/?e2e=spa');
  await page.click('a[data-route="/app/orders"]');
  await expect(page.locator('section[data-view="/app/orders"]')).toBeVisible();
  await page.waitForTimeout(300);
  await page.click('a[data-route="/app/settings"]');
  await expect(page.locator('section[data-view="/app/settings"]')).toBeVisible();
  // Save calls history.replaceState with the current URL, as routers do all the time.
  await page.click('[data-save]');
  await expect(page.locator('[data-saved]')).toHaveText('Settings saved');
  await page.evaluate(() => history.replaceState({ again: true }, '', location.href));
  await page.waitForTimeout(300);
  await page.goBack();
  await expect(page.locator('section[data-view="/app/orders"]')).toBeVisible();
  await page.waitForTimeout(300);
  // A filter replaces the query: a new URL, so a visit.
  await page.click('button[data-status="shipped"]');
  await expect(page).toHaveURL(/\/app\/orders\?status=shipped$/);
  await page.waitForTimeout(300);
  await leave(page);

  const stored = await expectStored(api, since, { sessions: 1, visits: 5 });
  const visits = [...stored.visits].sort((a, b) => a.started_at - b.started_at);
  expect(
    visits.map((v) => {
      const url = new URL(String(v.url));
      return [url.pathname + url.search, v.navigation];
    }),
  ).toEqual([
    ['/app/?e2e=spa', 'load'],
    ['/app/orders', 'push'],
    ['/app/settings', 'push'],
    ['/app/orders', 'pop'],
    ['/app/orders?status=shipped', 'replace'],
  ]);
  expect(stored.sessions[0]?.visits_count).toBe(5);
});
