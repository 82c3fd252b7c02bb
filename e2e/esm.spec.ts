// The npm ES module build works like the script tag: esm.html imports init from /dist/index.js.
import { expect, leave, test } from './fixtures.js';
import { customEvents, expectStored } from './store.js';

test('the page that imports the ES module build records a session, a visit, a click goal and a named event', async ({
  page,
  api,
  since,
}) => {
  await page.goto('/esm.html?e2e=esm');
  await page.click('button[data-amount="100"]');
  await page.locator('#recipient').pressSequentially('friend@fern.test', { delay: 10 });
  await page.click('#send-gift');
  await expect(page.locator('[data-gift-status]')).toContainText('€100');
  await page.waitForTimeout(500);
  await leave(page);

  const stored = await expectStored(api, since, {
    sessions: 1,
    visits: 1,
    conversions: 1,
    events: (s) => customEvents(s.events[0]?.tabs[0]?.events ?? [], 'event').length === 1,
  });
  const [session] = stored.sessions;
  expect(session?.entry_url).toContain('/esm.html?e2e=esm');
  expect(session?.browser ?? '').toMatch(/chrom/i);
  expect(stored.visits[0]?.navigation).toBe('load');
  expect(stored.conversions[0]).toMatchObject({ type: 'click', goal: 'gift-card' });

  const events = stored.events[0]?.tabs[0]?.events ?? [];
  // A replayable recording, as from the script tag: Meta, then a full snapshot.
  expect(events.some((e) => e.type === 4)).toBe(true);
  expect(events.some((e) => e.type === 2)).toBe(true);
  const [named] = customEvents(events, 'event');
  expect(named?.data.payload).toEqual({ name: 'gift-card-sent', parameters: { amount: 100 } });
});
