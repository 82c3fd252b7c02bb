// Frustration and failure in a real browser: a visitor on the demo's QA page rage-clicks a broken
// button, clicks a dead link, triggers an error and a failed request. The collector counts each; the
// sessions list finds the session by "has rage clicks" and "has errors"; the session's timeline has a
// marker for each, and a marker (clicked, or pressed from the keyboard) seeks the replay to within a
// second of it. Screenshots of the overview, the list and the session at 1280 and 390 px land in
// e2e/screenshots/ (ignored by git) for a person to look at.
import type { Page } from '@playwright/test';
import { expect, leave, test } from './fixtures.js';
import { expectStored } from './store.js';

const KINDS = ['rage', 'dead', 'error', 'request'] as const;

/** The demo's QA page, used as a frustrated visitor would. */
async function struggle(page: Page): Promise<void> {
  await page.goto('/qa.html');
  // The detectors load with the recorder's file.
  await page.waitForFunction(() => 'spoorRecorder' in window);
  await page.waitForTimeout(500);
  await page.evaluate(() =>
    (window as unknown as { spoor: (...args: unknown[]) => void }).spoor('identify', 'qa-visitor-17'),
  );
  await page.mouse.move(200, 200);
  const broken = page.locator('#qa-broken');
  await broken.scrollIntoViewIfNeeded();
  for (let i = 0; i < 4; i++) await broken.click({ delay: 20 });
  await page.waitForTimeout(1300);
  await page.locator('#qa-dead-link').click();
  await page.waitForTimeout(1300);
  await page.locator('#qa-error').click();
  await page.locator('#qa-request').click();
  await expect(page.locator('[data-qa-status]')).toHaveText('Stock check answered 503.');
  await page.waitForTimeout(1500);
  await leave(page);
}

/** Whether the page scrolls sideways (it must not, at any width). */
async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

test("a visitor's rage clicks, dead link, error and failed request are found, marked and replayed", async ({
  browser,
  page,
  api,
  since,
  collector,
  shot,
}) => {
  // Another visitor who met no trouble, so that the filters have something to leave out.
  const calm = await browser.newContext({ baseURL: collector.url });
  const calmPage = await calm.newPage();
  await calmPage.goto('/products.html');
  await calmPage.waitForTimeout(1500);
  await leave(calmPage);

  await struggle(page);
  const stored = await expectStored(api, since, {
    sessions: 2,
    until: (s) =>
      s.sessions.some(
        (row) => row.rage_clicks > 0 && row.dead_clicks > 0 && row.errors > 0 && row.failed_requests > 0,
      ),
  });
  await calm.close();
  const session = stored.sessions.find((row) => row.rage_clicks > 0);
  const other = stored.sessions.find((row) => row !== session);
  if (!session || !other) throw new Error('both sessions must be stored');
  // One burst of four clicks is one rage click; the broken button and the dead link are dead clicks
  // (the error and request buttons change the page, so they are not); the error once; one 503.
  expect(session).toMatchObject({ rage_clicks: 1, dead_clicks: 2, errors: 1, failed_requests: 1 });
  expect(other).toMatchObject({ rage_clicks: 0, dead_clicks: 0, errors: 0, failed_requests: 0 });
  const events = await api.getEvents(session.id);
  const signals = events.tabs.flatMap((t) => t.events).filter((e) => e.type === 5);
  const error = signals.find((e) => e.data?.tag === 'error');
  expect(error?.data?.payload).toMatchObject({
    kind: 'error',
    message: expect.stringContaining('QA: cannot read the total of an empty cart'),
    source: expect.stringMatching(/\/js\/qa\.js$/),
  });
  const failed = signals.find((e) => e.data?.tag === 'request_failed');
  expect(failed?.data?.payload).toMatchObject({
    method: 'GET',
    url: `${collector.url}/qa/fail`,
    status: 503,
  });

  // The list finds the session by "has rage clicks" and by "has errors", and leaves the other out.
  const dash = await page.context().newPage();
  await dash.setViewportSize({ width: 1280, height: 800 });
  await dash.goto('/dashboard');
  const row = dash.locator(`tr[data-session="${session.id}"]`);
  const otherRow = dash.locator(`tr[data-session="${other.id}"]`);
  await expect(row).toBeVisible();
  await expect(otherRow).toBeVisible();
  await dash.getByLabel('Rage clicks').check();
  await expect(otherRow).toBeHidden();
  await expect(row).toBeVisible();
  await dash.getByLabel('Rage clicks').uncheck();
  await expect(otherRow).toBeVisible();
  await dash.getByLabel('Errors').check();
  await expect(otherRow).toBeHidden();
  await expect(row).toBeVisible();
  await expect(row.locator('.signal-badge.rage')).toHaveAttribute('title', '1 rage click');
  // Browser filter by a lower-case prefix.
  const browserName = String(session.browser ?? '');
  await dash.getByLabel('Browser starts with').fill(browserName.slice(0, 3).toLowerCase());
  await dash.getByLabel('Browser starts with').press('Enter');
  await expect(row).toBeVisible();
  await shot(dash, 'signals-list-1280');
  expect(await scrollsSideways(dash)).toBe(false);

  // The session: external id, referrer, irregular-traffic verdict, and the timeline's markers.
  await row.getByRole('link', { name: `#${session.id}` }).click();
  await dash.waitForURL(`**/dashboard#/session/${session.id}`);
  const replay = dash.locator('.replay-card');
  await expect(replay).toHaveAttribute('data-replay-state', /playing|finished|waiting/);
  await expect(dash.locator('[data-fact="external-id"] dd')).toHaveText('qa-visitor-17');
  await expect(dash.locator('[data-fact="referrer"] dd')).toBeVisible();
  const verdict = (
    await api.raw('/project/sessions', {
      start_date: '2000-01-01',
      end_date: '2100-01-01',
      sortKey: 'id',
      sortOrder: 'asc',
      per_page: 100,
      check_irregular_traffic: true,
      filters: { has_rage_clicks: true },
    })
  ).body as { data: { data: { id: number; irregular_traffic: { is_irregular: boolean } }[] } };
  const irregular = verdict.data.data.find((r) => r.id === session.id)?.irregular_traffic.is_irregular;
  await expect(dash.locator('[data-irregular]')).toHaveCount(irregular ? 1 : 0);

  const track = dash.locator('.marker-track');
  for (const kind of KINDS) await expect(track.locator(`.marker[data-kind="${kind}"]`).first()).toBeVisible();
  await expect(track.locator('.marker[data-kind="visit"]')).toHaveCount(1);

  // Pause, then each marker seeks the replay to within a second of its moment.
  const toggle = replay.getByRole('button', { name: /^(Play|Pause)$/ });
  const pause = async () => {
    if ((await toggle.getAttribute('aria-label')) === 'Pause') await toggle.click();
    await expect(toggle).toHaveAccessibleName('Play');
  };
  const position = async () => Number(await replay.getAttribute('data-position'));
  for (const kind of KINDS) {
    await pause();
    const marker = track.locator(`.marker[data-kind="${kind}"]`).first();
    const at = Number(await marker.getAttribute('data-at'));
    await marker.click();
    await expect
      .poll(async () => Math.abs((await position()) - at), { message: `seek to the ${kind} marker` })
      .toBeLessThan(1000);
  }

  // From the keyboard: the track is one tab stop; End goes to the last marker, Enter plays from it.
  await pause();
  const first = track.locator('.marker').first();
  await first.focus();
  await dash.keyboard.press('End');
  const last = track.locator('.marker').last();
  await expect(last).toBeFocused();
  await expect(last).toHaveAttribute('tabindex', '0');
  await expect(first).toHaveAttribute('tabindex', '-1');
  await expect(last).toHaveAccessibleName(/ at \d+:\d\d, tab 1$/);
  await dash.keyboard.press('ArrowLeft');
  const previous = track.locator('.marker:focus');
  const at = Number(await previous.getAttribute('data-at'));
  await dash.keyboard.press('Enter');
  await expect.poll(async () => Math.abs((await position()) - at)).toBeLessThan(1000);

  // The replay's tabs are ARIA tabs controlling its panel.
  const tab = replay.getByRole('tab', { name: /Tab 1/ });
  await expect(tab).toHaveAttribute('aria-selected', 'true');
  await expect(replay.getByRole('tabpanel')).toHaveAttribute('aria-labelledby', 'replay-tab-1');
  await shot(dash, 'signals-detail-1280');
  expect(await scrollsSideways(dash)).toBe(false);

  await dash.goto('/dashboard#/overview');
  await expect(dash.locator('.overview-view .stat').first()).toBeVisible();
  await expect(dash.locator('[data-signal-link="rage"] .signal-count')).toHaveText('1');
  await expect(dash.locator('figure.chart-figure svg rect.bar').first()).toBeAttached();
  await shot(dash, 'signals-overview-1280');
  expect(await scrollsSideways(dash)).toBe(false);
  // The overview's "with rage clicks" leads to the list filtered to them.
  await dash.locator('[data-signal-link="rage"]').click();
  await expect(dash.getByLabel('Rage clicks')).toBeChecked();
  await expect(dash.locator(`tr[data-session="${session.id}"]`)).toBeVisible();
  await expect(dash.locator(`tr[data-session="${other.id}"]`)).toBeHidden();

  // A phone's width: no sideways scroll on any page, the list as cards, a usable replay.
  await dash.setViewportSize({ width: 390, height: 844 });
  await dash.goto('/dashboard#/overview');
  await expect(dash.locator('.overview-view .stat').first()).toBeVisible();
  await dash.waitForTimeout(300);
  expect(await scrollsSideways(dash)).toBe(false);
  await shot(dash, 'signals-overview-390');
  await dash.goto('/dashboard#/');
  await expect(dash.locator(`tr[data-session="${session.id}"]`)).toBeVisible();
  await dash.waitForTimeout(300);
  expect(await scrollsSideways(dash)).toBe(false);
  await shot(dash, 'signals-list-390');
  await dash.goto(`/dashboard#/session/${session.id}`);
  await expect(replay).toHaveAttribute('data-replay-state', /playing|finished|waiting/);
  await dash.waitForTimeout(500);
  expect(await scrollsSideways(dash)).toBe(false);
  const frame = await dash.locator('.replay-stage .rr-player').boundingBox();
  expect(frame?.width ?? 0).toBeGreaterThan(300);
  await shot(dash, 'signals-detail-390');
});
