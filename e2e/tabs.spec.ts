// One session spans a browser's tabs, and each tab keeps its own numbered stream
// (docs/contract.md, "The session identifier").
import { expect, leave, test } from './fixtures.js';
import { customEvents, expectStored } from './store.js';

function pathOfVisit(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

test('a second tab opened on the same site joins the same session with a tab of its own', async ({
  context,
  page,
  api,
  since,
}) => {
  await page.goto('/?e2e=tabs');
  // The second tab must find the session the first one started, so let the first one start it.
  await expectStored(api, since, { sessions: 1, visits: 1 });

  const second = await context.newPage();
  await second.goto('/products.html?tab=second');
  await second.waitForTimeout(800);
  await leave(second);
  await leave(page);

  const stored = await expectStored(api, since, {
    sessions: 1,
    visits: 2,
    events: (s) => (s.events[0]?.tabs.length ?? 0) === 2,
  });
  const visits = [...stored.visits].sort((a, b) => a.started_at - b.started_at);
  expect(visits.map((v) => pathOfVisit(String(v.url)))).toEqual(['/?e2e=tabs', '/products.html?tab=second']);
  expect(visits[0]?.tab).not.toBe(visits[1]?.tab);

  // Each tab's stream holds its own page, and only its own.
  const tabs = stored.events[0]?.tabs ?? [];
  for (const visit of visits) {
    const tab = tabs.find((t) => t.tab === visit.tab);
    const urls = customEvents(tab?.events ?? [], 'visit').map((e) =>
      pathOfVisit(String(e.data.payload?.url)),
    );
    expect(urls).toEqual([pathOfVisit(String(visit.url))]);
  }

  // The dashboard's replay offers the two tabs as ARIA tabs: one tab stop, the arrow keys switch
  // tabs, and the panel is named by the tab it shows.
  const id = stored.sessions[0]?.id;
  const dash = await context.newPage();
  await dash.goto(`/dashboard#/session/${id}`);
  const replay = dash.locator('.replay-card');
  const [one, two] = [replay.getByRole('tab', { name: /Tab 1/ }), replay.getByRole('tab', { name: /Tab 2/ })];
  await expect(one).toHaveAttribute('aria-selected', 'true');
  await expect(one).toHaveAttribute('tabindex', '0');
  await expect(two).toHaveAttribute('tabindex', '-1');
  await one.focus();
  await dash.keyboard.press('ArrowRight');
  await expect(two).toBeFocused();
  await expect(two).toHaveAttribute('aria-selected', 'true');
  await expect(replay.getByRole('tabpanel')).toHaveAttribute('aria-labelledby', 'replay-tab-2');
  await expect(replay.getByRole('tabpanel')).toHaveAccessibleName(/Tab 2/);
  await dash.keyboard.press('Home');
  await expect(one).toBeFocused();
  await expect(one).toHaveAttribute('aria-selected', 'true');
});

test('a tab duplicated from an open tab gets a tab number of its own in the same session', async ({
  context,
  page,
  api,
  since,
}) => {
  // Records, before any page script runs, what sessionStorage a new page starts with.
  await context.addInitScript(() => {
    (window as unknown as { initialSessionKeys: string[] }).initialSessionKeys = Object.keys(sessionStorage);
  });
  await page.goto('/products.html?e2e=duplicate');
  await expectStored(api, since, { sessions: 1, visits: 1 });
  const openerKeys = await page.evaluate(() => Object.keys(sessionStorage));

  // The HTML standard copies the opener's session storage into a window that window.open() creates
  // from a same-origin page: the same starting state as the browser's "Duplicate tab", which
  // Playwright cannot press. The snippet must not take the copied tab number as its own.
  const [duplicate] = await Promise.all([
    context.waitForEvent('page'),
    page.evaluate(() => {
      window.open(location.href);
    }),
  ]);
  await duplicate.waitForLoadState('load');
  const duplicateKeys = await duplicate.evaluate(
    () => (window as unknown as { initialSessionKeys: string[] }).initialSessionKeys,
  );
  expect(openerKeys.length).toBeGreaterThan(0);
  expect(duplicateKeys).toEqual(expect.arrayContaining(openerKeys));

  await duplicate.waitForTimeout(800);
  await leave(duplicate);
  await leave(page);

  const stored = await expectStored(api, since, {
    sessions: 1,
    visits: 2,
    events: (s) => (s.events[0]?.tabs.length ?? 0) === 2,
  });
  const tabs = stored.visits.map((v) => v.tab);
  expect(new Set(tabs).size).toBe(2);
  for (const visit of stored.visits)
    expect(pathOfVisit(String(visit.url))).toBe('/products.html?e2e=duplicate');
});
