// The replay pages' Content-Security-Policy in a real browser: a recording cannot make the viewer's
// browser call another origin, and a recording of the demo shop still replays with its own
// stylesheets and images.
import type { ConsoleMessage, Page } from '@playwright/test';
import { expect, leave, test } from './fixtures.js';
import { expectStored } from './store.js';

const EVIL = 'https://evil.example';

/** A hand-written recording (rrweb meta + full snapshot) whose page names assets on EVIL everywhere it can. */
function hostileRecording(own: string): unknown[] {
  const t = Date.now();
  const el = (
    id: number,
    tagName: string,
    attributes: Record<string, string>,
    childNodes: unknown[] = [],
  ) => ({
    type: 2,
    id,
    tagName,
    attributes,
    childNodes,
  });
  const css =
    `@import url(${EVIL}/import.css);` +
    `@font-face { font-family: Evil; src: url(${EVIL}/font.woff2); }` +
    `body { font-family: Evil; background: url(${EVIL}/background.png); }`;
  const node = {
    type: 0,
    id: 1,
    childNodes: [
      { type: 1, id: 2, name: 'html', publicId: '', systemId: '' },
      el(3, 'html', {}, [
        el(4, 'head', {}, [
          el(5, 'style', {}, [{ type: 3, id: 6, textContent: css, isStyle: true }]),
          el(7, 'link', { rel: 'stylesheet', href: `${EVIL}/sheet.css` }),
        ]),
        el(8, 'body', {}, [
          el(9, 'img', { src: `${EVIL}/x.png` }),
          el(10, 'img', { srcset: `${EVIL}/x2.png 2x` }),
          el(11, 'img', { id: 'own', src: `${own}/img/mark.svg` }),
          el(12, 'video', { src: `${EVIL}/video.mp4`, poster: `${EVIL}/poster.png` }),
          el(13, 'div', { style: `width: 10px; height: 10px; background-image: url(${EVIL}/inline.png)` }),
          el(14, 'object', { data: `${EVIL}/object.swf` }),
        ]),
      ]),
    ],
  };
  return [
    { type: 4, data: { href: `${own}/recorded.html`, width: 800, height: 600 }, timestamp: t },
    { type: 2, data: { node, initialOffset: { top: 0, left: 0 } }, timestamp: t + 1 },
  ];
}

/** Collects the browser's reports of what a Content-Security-Policy refused. */
function violations(page: Page): string[] {
  const found: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (/Content Security Policy/i.test(message.text())) found.push(message.text());
  });
  return found;
}

test("a recording that names another origin's assets makes the viewer's browser fetch none of them", async ({
  page,
  context,
  collector,
}) => {
  const fetched: string[] = [];
  await context.route(`${EVIL}/**`, (route) => {
    fetched.push(route.request().url());
    return route.fulfill({ status: 200, body: '' });
  });
  const refused = violations(page);
  await page.goto('/replay-test.html');
  await page.waitForFunction(() => typeof window.replayToEnd === 'function');
  // replayToEnd waits for images to load; a refused one never does, so give it a bounded time.
  await page.evaluate(
    (events) => Promise.race([window.replayToEnd(events), new Promise((r) => setTimeout(r, 3000))]),
    hostileRecording(collector.url),
  );
  const own = () =>
    page.evaluate(() => {
      const doc = document.querySelector<HTMLIFrameElement>('#stage iframe')?.contentDocument;
      const img = doc?.querySelector<HTMLImageElement>('#own');
      return { rebuilt: Boolean(doc?.querySelector('video')), width: img?.naturalWidth ?? 0 };
    });
  expect((await own()).rebuilt).toBe(true);
  // The collector's own assets load (the image may still be arriving when the replay ends: wait for
  // it); the recorded page's references to EVIL are refused, not fetched.
  await expect.poll(async () => (await own()).width, { timeout: 5000 }).toBeGreaterThan(0);
  await page.waitForTimeout(500);
  expect(fetched).toEqual([]);
  expect(refused.some((text) => text.includes(`${EVIL}/x.png`))).toBe(true);
});

test('the dashboard replays a recorded shop page with its stylesheets and images, and the policy refuses nothing', async ({
  page,
  context,
  api,
  since,
}) => {
  await page.goto('/products.html?e2e=replay-csp');
  await page.mouse.move(300, 300);
  await page.waitForTimeout(800);
  await leave(page);
  const stored = await expectStored(api, since, { sessions: 1, visits: 1 });
  const id = stored.sessions[0]?.id;

  const dash = await context.newPage();
  const refused = violations(dash);
  const errors: string[] = [];
  dash.on('pageerror', (error) => errors.push(error.message));
  await dash.goto('/dashboard');
  await dash.locator(`tr[data-session="${id}"]`).click();
  await expect(dash.locator('.replay-card')).toHaveAttribute('data-replay-state', /playing|finished/);
  const frame = dash.frameLocator('.replay-stage iframe');
  await expect(frame.locator('header.site-header')).toBeAttached();
  await dash.waitForTimeout(1500);
  const replayed = await dash.evaluate(() => {
    const doc = document.querySelector<HTMLIFrameElement>('.replay-stage iframe')?.contentDocument;
    const images = Array.from(doc?.images ?? []);
    const header = doc?.querySelector('header.site-header');
    return {
      images: images.length,
      loaded: images.filter((img) => img.complete && img.naturalWidth > 0).length,
      // shop.css gives the header a border; the browser's default gives it none.
      headerBorder: header ? getComputedStyle(header).borderBottomStyle : null,
    };
  });
  expect(replayed.images).toBeGreaterThan(0);
  expect(replayed.loaded).toBe(replayed.images);
  expect(replayed.headerBorder).not.toBe('none');
  expect(refused).toEqual([]);
  expect(errors).toEqual([]);
});

declare global {
  interface Window {
    replayToEnd(events: unknown[]): Promise<{ width: number; height: number; totalTime: number }>;
  }
}
