// Delivery at the edges of a page's life: closing the tab right after an interaction still
// delivers that interaction.
import { expect, test } from './fixtures.js';
import { expectStored } from './store.js';

test('closing the tab right after an interaction still delivers that interaction', async ({
  context,
  api,
  since,
}) => {
  const page = await context.newPage();
  await page.goto('/product.html?id=trail-pack&e2e=close');
  await expect(page.locator('h1')).toHaveText('Canvas Trail Pack');
  // Well inside the 5 s flush interval: nothing of this page has been sent on a timer yet.
  await page.waitForTimeout(1000);
  await page.click('[data-wishlist]');
  await page.close();

  const stored = await expectStored(api, since, {
    sessions: 1,
    visits: 1,
    events: (s) => JSON.stringify(s.events[0] ?? {}).includes('Saved to wishlist'),
  });
  const events = stored.events[0]?.tabs[0]?.events ?? [];
  // The click itself is there too (rrweb MouseInteraction, type Click), not just its effect.
  const clicks = events.filter((e) => e.type === 3 && e.data.source === 2 && e.data.type === 2);
  expect(clicks.length).toBeGreaterThan(0);
});

test("under the shop's strict CSP (script-src self), a self-hosted snippet gzips in its same-origin worker file", async ({
  context,
  api,
  since,
}) => {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  const gzipped: boolean[] = [];
  page.on('request', (request) => {
    if (!request.url().endsWith('/services/analytics/v1/track')) return;
    const body = request.postDataBuffer();
    if (body) gzipped.push(body[0] === 0x1f && body[1] === 0x8b);
  });
  const worker = page.waitForEvent('worker');
  await page.goto('/products.html?e2e=worker');
  await page.waitForTimeout(500);
  // The full snapshot is far over 1 KB: this flush is compressed, which loads the compressor.
  await page.evaluate(() => (window as unknown as { spoor: (c: string) => Promise<void> }).spoor('flush'));
  expect((await worker).url()).toMatch(/\/dist\/spoor\.worker\.min\.js$/);
  await expectStored(api, since, { sessions: 1, visits: 1 });
  expect(gzipped.length).toBeGreaterThan(0);
  expect(gzipped.every(Boolean)).toBe(true);
  expect(problems).toEqual([]);
});
