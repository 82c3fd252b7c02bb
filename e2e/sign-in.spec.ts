// The dashboard without the demo's automatic sign-in, as a deployed collector serves it: the page
// carries no secret, asks for the admin password, holds the session in a cookie no script can read,
// and signs out. (The other dashboard journeys run as `npm start` does: signed in on loopback.)
import { expect, test } from '@playwright/test';
import { type Collector, removeDataDir, startCollector, TEST_KEYS } from './collector.js';

const PASSWORD = 'e2e admin password, typed';

let collector: Collector;
test.beforeAll(async () => {
  collector = await startCollector({ demoSignIn: false, env: { SPOOR_ADMIN_PASSWORD: PASSWORD } });
});
test.afterAll(async () => {
  await collector.stop();
  await removeDataDir(collector.dataDir);
});

test('the dashboard asks for the admin password, keeps the session in an HttpOnly cookie, and signs out', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) errors.push(message.text());
  });
  const answer = await page.goto(`${collector.url}/dashboard`);
  expect(await answer?.text()).not.toContain(TEST_KEYS.SPOOR_API_TOKEN);

  const form = page.getByRole('form', { name: 'Sign in' });
  await expect(form).toBeVisible();
  await expect(page.locator('button[data-sort="id"]')).toHaveCount(0);

  await page.getByLabel('Admin password or project API token').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.sign-in-status')).toHaveText('These credentials do not match our records.');

  await page.getByLabel('Admin password or project API token').fill('');
  await page.getByLabel('Admin password or project API token').pressSequentially(PASSWORD, { delay: 5 });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('button[data-sort="id"]')).toBeVisible();
  await expect(form).toHaveCount(0);
  // The session cookie is HttpOnly: the page's scripts cannot read it.
  expect(await page.evaluate(() => document.cookie)).toBe('');
  const [cookie] = await page.context().cookies();
  expect(cookie).toMatchObject({ name: 'spoor_session', httpOnly: true, sameSite: 'Strict', secure: false });

  await page.reload();
  await expect(page.locator('button[data-sort="id"]')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('form', { name: 'Sign in' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('form', { name: 'Sign in' })).toBeVisible();
  expect(errors).toEqual([]);
});
