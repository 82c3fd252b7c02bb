// The framework guides, tested: each app under examples/ (React with StrictMode and React Router, Vue
// with Vue Router, Next.js App Router) is built from the packed tarball, as a developer who ran
// `npm install spoor` would have it, served by its own server on its own origin, and driven in Chromium
// against the real collector, which allows those origins (SPOOR_ALLOWED_ORIGINS). Each must make one
// session with one recording and one visit per route change, and nothing may fail on the server side.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { installInto, pack } from '../scripts/pack.mjs';
import { freePort } from '../test/support/ports.js';
import { type Collector, ROOT, removeDataDir, startCollector, TEST_KEYS } from './collector.js';
import { customEvents, expectStored, ReadApi, sleep } from './store.js';

interface App {
  name: string;
  dir: string;
  /** Builds the app for `endpoint` (the options are read from the environment at build time). */
  build: (endpoint: string) => [string, string[], Record<string, string>];
  /** Starts its server on `port`. */
  serve: (port: number) => [string, string[]];
}

const bin = (dir: string, name: string) => join(ROOT, 'examples', dir, 'node_modules', '.bin', name);
const viteEnv = (endpoint: string) => ({
  VITE_SPOOR_ENDPOINT: endpoint,
  VITE_SPOOR_PROJECT: TEST_KEYS.SPOOR_PROJECT_KEY,
  VITE_SPOOR_ALLOW_AUTOMATION: 'true',
});
const APPS: App[] = [
  {
    name: 'react',
    dir: 'react',
    // React's development build, where StrictMode runs every effect twice, as on a developer's machine.
    build: (endpoint) => [
      bin('react', 'vite'),
      ['build', '--mode', 'development'],
      { ...viteEnv(endpoint), NODE_ENV: 'development' },
    ],
    serve: (port) => [bin('react', 'vite'), ['preview', '--port', String(port), '--strictPort']],
  },
  {
    name: 'vue',
    dir: 'vue',
    build: (endpoint) => [bin('vue', 'vite'), ['build'], viteEnv(endpoint)],
    serve: (port) => [bin('vue', 'vite'), ['preview', '--port', String(port), '--strictPort']],
  },
  {
    name: 'next',
    dir: 'next',
    build: (endpoint) => [
      bin('next', 'next'),
      ['build'],
      {
        NEXT_PUBLIC_SPOOR_ENDPOINT: endpoint,
        NEXT_PUBLIC_SPOOR_PROJECT: TEST_KEYS.SPOOR_PROJECT_KEY,
        NEXT_PUBLIC_SPOOR_ALLOW_AUTOMATION: 'true',
      },
    ],
    serve: (port) => [bin('next', 'next'), ['start', '--port', String(port)]],
  },
];

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quiet = { NEXT_TELEMETRY_DISABLED: '1', NO_COLOR: '1' };

/** Installs an example's own lock file, unless node_modules already holds exactly that lock. */
function installDependencies(dir: string): void {
  const lock = readFileSync(join(dir, 'package-lock.json'));
  const stamp = join(dir, 'node_modules', '.spoor-lock-sha256');
  const hash = createHash('sha256').update(lock).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(stamp, hash);
}

interface Served {
  url: string;
  child: ChildProcess;
  output: () => string;
}

/** Starts an app's server and waits until it answers. */
async function serve(app: App, port: number): Promise<Served> {
  const [command, args] = app.serve(port);
  const child = spawn(command, args, {
    cwd: join(ROOT, 'examples', app.dir),
    env: { ...process.env, ...quiet },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${app.name} did not start on ${url}:\n${output}`);
    }
    await sleep(250);
  }
  return { url, child, output: () => output };
}

test.describe.configure({ mode: 'serial' });

let work: string;
let collector: Collector;
let api: ReadApi;
const servers = new Map<string, Served>();

test.beforeAll(async () => {
  // Installing and building three apps (Next.js alone takes about 30 s on two cores).
  test.setTimeout(600_000);
  work = mkdtempSync(join(tmpdir(), 'spoor-examples-'));
  const { tarball } = pack(work);
  const collectorPort = await freePort();
  const ports = new Map<string, number>();
  for (const app of APPS) ports.set(app.name, await freePort());
  const endpoint = `http://localhost:${collectorPort}/api`;
  for (const app of APPS) {
    const dir = join(ROOT, 'examples', app.dir);
    installDependencies(dir);
    installInto(tarball, dir);
    const [command, args, env] = app.build(endpoint);
    execFileSync(command, args, {
      cwd: dir,
      env: { ...process.env, ...quiet, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  for (const app of APPS) servers.set(app.name, await serve(app, ports.get(app.name) as number));
  // The apps' origins are not the collector's: the collector must allow each of them.
  const origins = [...servers.values()].map((served) => served.url).join(',');
  collector = await startCollector({ port: collectorPort, env: { SPOOR_ALLOWED_ORIGINS: origins } });
  api = new ReadApi(collector.endpoint);
});

test.afterAll(async () => {
  for (const served of servers.values()) served.child.kill('SIGTERM');
  await collector?.stop();
  if (collector) await removeDataDir(collector.dataDir);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh second, so that sessions created before this test cannot fall in its window. */
async function freshSecond(): Promise<Date> {
  await sleep(1000 - (Date.now() % 1000) + 5);
  return new Date();
}

/** Home → About → Item 42 (Like) → back to About, by the app's own router links. */
async function browse(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.locator('h1')).toHaveText('Home');
  await page.getByRole('link', { name: 'About' }).click();
  await expect(page.locator('h1')).toHaveText('About');
  await page.getByRole('link', { name: 'Item 42' }).click();
  await expect(page.locator('h1')).toHaveText('Item 42');
  await page.getByRole('button', { name: 'Like' }).click();
  await page.goBack();
  await expect(page.locator('h1')).toHaveText('About');
  await page.waitForTimeout(300);
  // Leave as a visitor does: pagehide sends what is pending.
  await page.goto('about:blank');
}

for (const app of APPS) {
  test(`the ${app.name} example records one session with one recording and one visit per route change`, async ({
    page,
  }) => {
    const served = servers.get(app.name) as Served;
    const before = served.output().length;
    const since = await freshSecond();
    const errors: string[] = [];
    const logs: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      // Failed requests are checked below, by URL.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        errors.push(message.text());
      }
      logs.push(message.text());
    });
    // A browser asks for /favicon.ico, which these apps leave out; any other failure counts.
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
        errors.push(`${response.status()} ${response.url()}`);
      }
    });

    await browse(page, served.url);

    const stored = await expectStored(api, since, {
      sessions: 1,
      visits: 4,
      events: (s) => customEvents(s.events[0]?.tabs[0]?.events ?? [], 'event').length === 1,
    });
    expect(stored.visits.map((visit) => new URL(String(visit.url)).pathname)).toEqual([
      '/',
      '/about',
      '/items/42',
      '/about',
    ]);
    expect(stored.sessions[0]?.tabs).toBe(1);
    const events = stored.events[0]?.tabs[0]?.events ?? [];
    // One recorder: one Meta and one full snapshot for the one page load.
    expect(events.filter((event) => event.type === 4)).toHaveLength(1);
    expect(events.filter((event) => event.type === 2)).toHaveLength(1);
    expect(customEvents(events, 'event')[0]?.data.payload).toEqual({
      name: 'item-liked',
      parameters: { id: '42' },
    });
    expect(errors).toEqual([]);
    if (app.name === 'react') {
      // StrictMode did run the effect twice, and the second init() reused the first tracker, as did
      // the Like button's (it asks init() for the page's tracker).
      expect(logs.filter((line) => line.startsWith('[spoor] init'))).toEqual([
        '[spoor] init: started',
        '[spoor] init: reused',
        '[spoor] init: reused',
      ]);
    }
    // The server rendered the pages with init() in them and said nothing of it.
    const serverOutput = served.output().slice(before);
    expect(serverOutput).not.toMatch(/error|window is not defined|spoor/i);
  });
}
