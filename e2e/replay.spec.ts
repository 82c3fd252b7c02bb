// The stored events replay: rrweb's Replayer in a second page rebuilds the checkout page, and the
// rebuilt page's landmarks sit where the live page's did (positions, not pixels).
import type { Page } from '@playwright/test';
import { expect, leave, test } from './fixtures.js';
import { expectStored, type StoredEvent } from './store.js';

const LANDMARKS = ['header', 'main', 'main h1', 'form', 'aside', 'footer'] as const;
type Box = { x: number; y: number; width: number; height: number };

/** Document-relative boxes of the landmarks in a document (the live page or the replay's iframe). */
function measure(doc: Document, selectors: readonly string[]): Record<string, Box | null> {
  const win = doc.defaultView as Window;
  const out: Record<string, Box | null> = {};
  for (const selector of selectors) {
    const el = doc.querySelector(selector);
    if (!el) {
      out[selector] = null;
      continue;
    }
    const r = el.getBoundingClientRect();
    out[selector] = { x: r.left + win.scrollX, y: r.top + win.scrollY, width: r.width, height: r.height };
  }
  return out;
}

async function liveBoxes(page: Page): Promise<Record<string, Box | null>> {
  return page.evaluate(
    ({ fn, selectors }) =>
      new Function('doc', 'selectors', `return (${fn})(doc, selectors)`)(document, selectors),
    { fn: measure.toString(), selectors: LANDMARKS },
  );
}

async function replayBoxes(page: Page): Promise<Record<string, Box | null>> {
  return page.evaluate(
    ({ fn, selectors }) => {
      const doc = document.querySelector<HTMLIFrameElement>('#stage iframe')?.contentDocument;
      if (!doc) throw new Error('no replay iframe');
      return new Function('doc', 'selectors', `return (${fn})(doc, selectors)`)(doc, selectors);
    },
    { fn: measure.toString(), selectors: LANDMARKS },
  );
}

test('the stored events rebuild the checkout page with its landmarks where the live page had them', async ({
  page,
  context,
  api,
  since,
  shot,
}) => {
  await page.goto('/checkout.html?e2e=replay');
  await page.locator('#name').pressSequentially('Replay Tester', { delay: 10 });
  await page.locator('#email').pressSequentially('replay@tester.test', { delay: 10 });
  await page.locator('#card').pressSequentially('4000 0000 0000 0002', { delay: 10 });
  await page.locator('#password').pressSequentially('not-a-real-one', { delay: 10 });
  await page.locator('#password').blur();
  await page.waitForTimeout(500);
  const live = await liveBoxes(page);
  const viewport = page.viewportSize();
  await shot(page, 'replay-live-checkout', { fullPage: false });
  await leave(page);

  // Wait for the whole recording: the last input events are in the final batch. Three fields, not
  // four: the snippet never records a password field's input events at all.
  const stored = await expectStored(api, since, {
    sessions: 1,
    visits: 1,
    events: (s) => {
      const events = s.events[0]?.tabs[0]?.events ?? [];
      const fields = new Set(events.filter((e) => e.type === 3 && e.data.source === 5).map((e) => e.data.id));
      return fields.size >= 3;
    },
  });
  const events = stored.events[0]?.tabs[0]?.events as StoredEvent[];
  expect(events.some((e) => e.type === 2)).toBe(true);

  const replay = await context.newPage();
  await replay.setViewportSize({
    width: (viewport?.width ?? 1280) + 40,
    height: (viewport?.height ?? 800) + 40,
  });
  await replay.goto('/replay-test.html');
  await replay.waitForFunction(() => typeof window.replayToEnd === 'function');
  const size = await replay.evaluate((list) => window.replayToEnd(list), events as unknown[]);
  // The replay's frame has the recorded viewport's size, so the layout is the live page's.
  expect(size).toMatchObject({ width: viewport?.width, height: viewport?.height });
  const rebuilt = await replayBoxes(replay);
  await shot(replay, 'replay-rebuilt-checkout', { fullPage: false });

  for (const selector of LANDMARKS) {
    const a = live[selector];
    const b = rebuilt[selector];
    expect(a, `live ${selector}`).not.toBeNull();
    expect(b, `replayed ${selector}`).not.toBeNull();
    if (!a || !b) continue;
    for (const key of ['x', 'y', 'width', 'height'] as const) {
      expect(
        Math.abs(a[key] - b[key]),
        `${selector}.${key}: live ${a[key]}, replay ${b[key]}`,
      ).toBeLessThanOrEqual(3);
    }
  }
  // The rebuilt form shows no typed value: maskAllInputs is on by default, passwords are not recorded.
  const values = await replay.evaluate(() => {
    const doc = document.querySelector<HTMLIFrameElement>('#stage iframe')?.contentDocument;
    return Array.from(doc?.querySelectorAll('input') ?? [], (input) => input.value);
  });
  expect(values.length).toBe(4);
  for (const value of values) expect(value).toMatch(/^\**$/);
});

declare global {
  interface Window {
    replayToEnd(events: unknown[]): Promise<{ width: number; height: number; totalTime: number }>;
  }
}
