// Playwright fixtures: one real collector per worker (tests in a worker run one after another, so
// "sessions created since this test began" are this test's sessions), a fault proxy in front of it
// for the tests that ask for one, a client of its read endpoints, and screenshots saved under
// e2e/screenshots/ (ignored by git).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test as base, type Page } from '@playwright/test';
import { type Collector, ROOT, removeDataDir, startCollector } from './collector.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { ReadApi } from './store.js';

export const SCREENSHOTS = join(ROOT, 'e2e', 'screenshots');

interface WorkerFixtures {
  collector: Collector;
  /**
   * A proxy in front of the worker's collector (started only for tests that use it). A test file
   * that wants its pages behind it overrides `baseURL` with the proxy's URL (e2e/faults.spec.ts).
   * Not `proxy`: that name is Playwright's own option for an outgoing HTTP proxy.
   */
  faultProxy: FaultProxy;
}

interface TestFixtures {
  api: ReadApi;
  /** When this test began: sessions created since then are its own. */
  since: Date;
  /** Saves a full-page screenshot as e2e/screenshots/<name>.png. */
  shot: (page: Page, name: string, options?: { fullPage?: boolean }) => Promise<string>;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  collector: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright's fixture signature needs the destructuring
    async ({}, use) => {
      const collector = await startCollector();
      try {
        await use(collector);
      } finally {
        await collector.stop();
        await removeDataDir(collector.dataDir);
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],
  faultProxy: [
    async ({ collector }, use) => {
      const proxy = await startFaultProxy(collector.url);
      try {
        await use(proxy);
      } finally {
        await proxy.close();
      }
    },
    { scope: 'worker' },
  ],
  baseURL: async ({ collector }, use) => {
    await use(collector.url);
  },
  api: async ({ collector }, use) => {
    await use(new ReadApi(collector.endpoint));
  },
  since: async ({ collector: _collector }, use) => {
    // created_at has whole seconds: start on a fresh second so that the previous test's sessions,
    // created earlier, cannot fall inside this test's window.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    await use(new Date());
  },
  shot: async ({ collector: _collector }, use) => {
    await mkdir(SCREENSHOTS, { recursive: true });
    await use(async (page, name, options = {}) => {
      const path = join(SCREENSHOTS, `${name}.png`);
      // caret: 'initial' because hiding the caret injects a style, which the demo's strict CSP blocks.
      await page.screenshot({ path, fullPage: options.fullPage ?? true, caret: 'initial' });
      return path;
    });
  },
});

export { expect } from '@playwright/test';

/** Leaves the page the way a visitor does (pagehide), keeping the browser context open to deliver. */
export async function leave(page: Page): Promise<void> {
  await page.goto('about:blank');
}

/** A distinctive string for this run, to find a test's own data. */
export function marker(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}
