// The shop journey and its counts: what the collector stored for one visitor who browses, buys and
// reaches the thank-you page.
import { expect, leave, test } from './fixtures.js';
import { customEvents, expectStored, rawJson } from './store.js';

// Distinctive strings: none of them, nor any 5-character piece of them, occurs in the shop's own text.
const typed = {
  name: 'Zyqor Vextlan',
  email: 'qwyzzle.frobnak@zyxq.test',
  card: '4929 7315 8824 6603',
  password: 'Jx7#Wqv!Plorb',
};

/** Every piece of a typed value that must never reach the store. */
function forbiddenPieces(): string[] {
  const pieces = new Set<string>();
  for (const value of [typed.name, typed.email, typed.password]) {
    pieces.add(value);
    for (let i = 0; i + 5 <= value.length; i++) {
      const piece = value.slice(i, i + 5);
      if (!/\s/.test(piece)) pieces.add(piece);
    }
  }
  const digits = typed.card.replace(/\s/g, '');
  pieces.add(typed.card);
  pieces.add(digits);
  // Eight digits in a row from the card: timestamps are full of digits, but not these runs.
  for (let i = 0; i + 8 <= digits.length; i++) pieces.add(digits.slice(i, i + 8));
  return [...pieces];
}

test('a visitor who browses, buys and reaches thank-you makes one session with four visits in order and both conversions', async ({
  page,
  api,
  since,
}) => {
  const started = Date.now();
  await page.goto('/products.html?e2e=checkout');
  await page.waitForTimeout(1200);
  await page.click('a.card[data-product="camp-lantern"]');
  await page.waitForURL('**/product.html?id=camp-lantern');
  await expect(page.locator('h1')).toHaveText('Brass Camp Lantern');
  await page.waitForTimeout(1200);
  // The buy button is a click goal that navigates away at once.
  await page.click('[data-buy]');
  await page.waitForURL('**/checkout.html');
  await page.locator('#name').pressSequentially(typed.name, { delay: 15 });
  await page.locator('#email').pressSequentially(typed.email, { delay: 15 });
  await page.locator('#card').pressSequentially(typed.card, { delay: 15 });
  await page.locator('#password').pressSequentially(typed.password, { delay: 15 });
  await page.waitForTimeout(300);
  await page.click('button[type="submit"]');
  await page.waitForURL('**/thank-you.html?order=FW-*');
  await page.waitForTimeout(1200);
  await leave(page);
  const elapsed = (Date.now() - started) / 1000;

  const stored = await expectStored(api, since, {
    sessions: 1,
    visits: 4,
    conversions: 2,
    // The last page's timer arrives with its last batch, at page hide.
    until: (s) => s.visits.length === 4 && s.visits.every((v) => v.time_spend > 0),
    events: (s) => (s.events[0]?.tabs[0]?.events.length ?? 0) > 0,
  });

  const [session] = stored.sessions;
  if (!session) throw new Error('no session');
  expect(session.visits_count).toBe(4);
  expect(session.conversions_count).toBe(2);
  expect(session.entry_url).toContain('/products.html?e2e=checkout');
  expect(session.browser ?? '').toMatch(/chrom/i);
  expect(session.platform_os ?? '').toMatch(/linux/i);

  // Four visits, in the order they happened, all in the first tab, each a page load.
  const visits = [...stored.visits].sort((a, b) => a.started_at - b.started_at);
  expect(visits.map((v) => new URL(String(v.url)).pathname)).toEqual([
    '/products.html',
    '/product.html',
    '/checkout.html',
    '/thank-you.html',
  ]);
  expect(new Set(visits.map((v) => v.tab)).size).toBe(1);
  expect(visits.map((v) => v.navigation)).toEqual(['load', 'load', 'load', 'load']);

  // The click goal on the product page and the URL goal on thank-you, each in its own visit.
  const byType = Object.fromEntries(stored.conversions.map((c) => [c.type, c]));
  expect(byType.click?.goal).toBe('buy');
  expect(byType.url?.goal).toBe('thank-you');
  expect(byType.click?.visit_id).toBe(visits[1]?.id);
  expect(byType.url?.visit_id).toBe(visits[3]?.id);

  // Time spent: every visit counted some, the session is their sum, and none exceeds the wall clock.
  const sum = visits.reduce((total, v) => total + v.time_spend, 0);
  expect(session.time_spend).toBeCloseTo(sum, 0);
  expect(session.time_spend).toBeGreaterThan(2);
  expect(session.time_spend).toBeLessThanOrEqual(elapsed + 1);

  // Privacy: the form was recorded (input events exist, masked), but nothing typed was stored.
  const events = stored.events[0];
  if (!events) throw new Error('no events');
  const all = events.tabs.flatMap((t) => t.events);
  const inputs = all.filter((e) => e.type === 3 && e.data.source === 5);
  expect(inputs.length).toBeGreaterThan(0);
  for (const input of inputs) expect(String(input.data.text ?? '')).toMatch(/^\**$/);
  const json = rawJson(events);
  const leaked = forbiddenPieces().filter((piece) => json.includes(piece));
  expect(leaked).toEqual([]);

  // The batch that opens a visit starts with its visit event: four of them, in order.
  const visitEvents = customEvents(all, 'visit').map((e) => new URL(String(e.data.payload?.url)).pathname);
  expect(visitEvents).toEqual(['/products.html', '/product.html', '/checkout.html', '/thank-you.html']);
});
