// A long recording in the dashboard: get-events answers it a page at a time, the replay starts on the
// first page and adds the later ones to the running player as they arrive, under the dashboard's CSP.
import type { Page } from '@playwright/test';
import { TEST_KEYS } from './collector.js';
import { expect, test } from './fixtures.js';
import type { ReadApi } from './store.js';

const V1 = '/api/services/analytics/v1';
const BATCHES = 60;
const MOVES_PER_BATCH = 100;
const PAD = 'p'.repeat(400);

/** A page with a heading (rrweb's serialised DOM: document 1, html 2, head 3, body 4). */
function fullSnapshot(timestamp: number) {
  return {
    type: 2,
    data: {
      node: {
        type: 0,
        id: 1,
        childNodes: [
          {
            type: 2,
            id: 2,
            tagName: 'html',
            attributes: {},
            childNodes: [
              { type: 2, id: 3, tagName: 'head', attributes: {}, childNodes: [] },
              {
                type: 2,
                id: 4,
                tagName: 'body',
                attributes: {},
                childNodes: [
                  {
                    type: 2,
                    id: 5,
                    tagName: 'h1',
                    attributes: { id: 'title' },
                    childNodes: [{ type: 3, id: 6, textContent: 'A long session' }],
                  },
                ],
              },
            ],
          },
        ],
      },
      initialOffset: { left: 0, top: 0 },
    },
    timestamp,
  };
}

function mouseMove(timestamp: number, i: number) {
  // `pad` is not rrweb's: it makes each batch about 50 KB, so the session spans several pages.
  return {
    type: 3,
    data: { source: 1, positions: [{ x: i % 800, y: 200, id: 4, timeOffset: 0 }], pad: PAD },
    timestamp,
  };
}

/** Stores a session of several get-events pages over /track; answers its id and event count. */
async function longSession(
  baseURL: string,
  api: ReadApi,
  since: Date,
): Promise<{ id: number; total: number }> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${baseURL}${V1}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return res.json();
  };
  const { sessionIdentifier } = await post('/session', {
    project: TEST_KEYS.SPOOR_PROJECT_KEY,
    url: 'https://shop.test/long',
    referrer: '',
  });
  const t0 = Date.now() - 120_000;
  let total = 0;
  const send = async (events: unknown[]) => {
    await post('/track', { sessionIdentifier, timer: 1, events });
    total += events.length;
  };
  await send([
    {
      type: 5,
      data: {
        tag: 'visit',
        payload: { url: 'https://shop.test/long', title: 'Long', referrer: '', navigation: 'load' },
      },
      timestamp: t0,
    },
    { type: 4, data: { href: 'https://shop.test/long', width: 1024, height: 640 }, timestamp: t0 + 1 },
    fullSnapshot(t0 + 2),
  ]);
  let ts = t0 + 10;
  for (let b = 0; b < BATCHES; b++) {
    await send(Array.from({ length: MOVES_PER_BATCH }, (_, i) => mouseMove(ts + i * 5, i)));
    ts += MOVES_PER_BATCH * 5;
  }
  // Near the end, the page gains a paragraph; the recording goes on for two more seconds after it.
  const end = {
    type: 3,
    data: {
      source: 0,
      texts: [],
      attributes: [],
      removes: [],
      adds: [
        {
          parentId: 4,
          nextId: null,
          node: { type: 2, id: 100, tagName: 'p', attributes: { id: 'the-end' }, childNodes: [] },
        },
      ],
    },
    timestamp: ts,
  };
  await send([end, mouseMove(ts + 2000, 1), mouseMove(ts + 2001, 2)]);

  const [session] = await api.sessionsSince(since);
  const id = session?.id as number;
  // The read helper follows the cursor to the end; the dashboard must too.
  const stored = await api.getEvents(id);
  expect(stored.tabs[0]?.events.length).toBe(total);
  return { id, total };
}

/** Holds every get-events request that carries a cursor (a later page) for `ms`; counts them. */
async function slowLaterPages(page: Page, ms: number): Promise<{ count: number }> {
  const later = { count: 0 };
  await page.route('**/sessions/get-events', async (route) => {
    const body = route.request().postDataJSON() as { cursor?: string };
    if (body.cursor) {
      later.count++;
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
    await route.continue();
  });
  return later;
}

/** Page errors and console errors (a CSP violation is reported as one). */
function problemsOf(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  return problems;
}

test('a recording of several pages starts on the first page and plays to the end of the last', async ({
  page,
  baseURL,
  api,
  since,
  shot,
}) => {
  const { id, total } = await longSession(baseURL as string, api, since);
  const later = await slowLaterPages(page, 1200);
  const problems = problemsOf(page);

  await page.goto(`/dashboard#/session/${id}`);
  const card = page.locator('.replay-card');
  const count = page.locator('.tab-switcher button[data-tab="1"] .count');
  await expect(card).toHaveAttribute('data-replay-state', /playing|waiting/);
  await expect(page.locator('.replay-stage iframe')).toBeAttached();
  const atStart = Number(await count.textContent());
  expect(atStart).toBeGreaterThan(0);
  expect(atStart).toBeLessThan(total);

  // Every page arrives and joins the running player.
  await expect(count).toHaveText(String(total), { timeout: 30_000 });
  expect(later.count).toBeGreaterThanOrEqual(2);
  await expect(page.locator('.replay-caption')).not.toContainText('loading');

  // Seek to the end of the timeline: the paragraph the last page added is in the rebuilt page.
  const progress = page.locator('.rr-progress');
  const box = await progress.boundingBox();
  if (!box) throw new Error('no progress bar');
  await progress.click({ position: { x: box.width - 2, y: box.height / 2 } });
  const frame = page.frameLocator('.replay-stage iframe');
  await expect(frame.locator('#the-end')).toBeAttached();
  await expect(frame.locator('#title')).toHaveText('A long session');
  await shot(page, 'dashboard-replay-pages', { fullPage: false });
  expect(problems).toEqual([]);
});

test('a replay that catches up with the pages loaded so far waits for the next one and plays on', async ({
  page,
  baseURL,
  api,
  since,
}) => {
  const { id, total } = await longSession(baseURL as string, api, since);
  // At 8× a page (~10 s of recording) plays in about 1.3 s; the next one takes 3 s to come.
  await slowLaterPages(page, 3000);
  const problems = problemsOf(page);

  await page.goto(`/dashboard#/session/${id}`);
  const card = page.locator('.replay-card');
  await expect(card).toHaveAttribute('data-replay-state', /playing/);
  await page.locator('.rr-controller button', { hasText: '8x' }).click();
  await expect(card).toHaveAttribute('data-replay-state', 'waiting', { timeout: 10_000 });
  await expect(page.locator('.replay-caption')).toContainText('loading the rest');
  // It goes on by itself once the page is in, and ends at the end of the last page.
  await expect(card).toHaveAttribute('data-replay-state', 'playing', { timeout: 10_000 });
  await expect(card).toHaveAttribute('data-replay-state', 'finished', { timeout: 60_000 });
  await expect(page.locator('.tab-switcher button[data-tab="1"] .count')).toHaveText(String(total));
  await expect(page.frameLocator('.replay-stage iframe').locator('#the-end')).toBeAttached();
  // The player's clock is redrawn on its next frame after 'finish': on a loaded machine that frame
  // can come after this line, so the clock is polled rather than read once.
  await expect
    .poll(async () => {
      const [current, length] = await page.locator('.rr-timeline__time').allTextContents();
      return current === length;
    })
    .toBe(true);
  expect(problems).toEqual([]);
});
