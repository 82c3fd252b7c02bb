// The collector as many stateless instances (ARCHITECTURE.md, "N instances"): three collectors on one
// PostgreSQL and one Redis behind Debian's nginx, started here. Chromium records a visit through
// nginx while one instance is SIGKILLed mid-stream and another is restarted: every event is stored
// exactly once, read back through nginx. The named events reach the Flameup stand-in exactly once
// each, whichever instance received them. 3,700 /track requests from one address, spread by nginx
// over the three, meet one shared budget of 3,600 a minute.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import pg from 'pg';
import { type FlameupStandin, startFlameupStandin } from '../test/support/flameup-standin.js';
import { answers, freePort } from '../test/support/ports.js';
import { type Collector, makeDataDir, removeDataDir, startCollector } from './collector.js';
import { customEvents, expectStored, ReadApi, type StoredEvent } from './store.js';

const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';
const DATABASE_URL = process.env.SPOOR_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.SPOOR_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const HOW_TO_GET =
  'PostgreSQL and Redis tests need servers: apt-get install postgresql redis-server (or set SPOOR_TEST_DATABASE_URL / SPOOR_TEST_REDIS_URL)';
const FLAMEUP_KEY = 'fl_live_scale_0123456789abcdef01';
const V1 = '/api/services/analytics/v1';

test.describe.configure({ mode: 'serial' });

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const database = `spoor_scale_${randomBytes(5).toString('hex')}`;
const prefix = `spoor-scale-${randomBytes(5).toString('hex')}`;
let dir = '';
let base = '';
let nginx: ChildProcess | null = null;
let standin: FlameupStandin | null = null;
const ports: number[] = [];
const dataDirs: string[] = [];
const instances: (Collector | null)[] = [null, null, null];

function env(): Record<string, string> {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${database}`;
  return {
    SPOOR_DATABASE_URL: url.toString(),
    SPOOR_REDIS_URL: REDIS_URL,
    SPOOR_REDIS_PREFIX: prefix,
    SPOOR_TRUST_PROXY: '1',
    SPOOR_PUBLIC_URL: base,
    SPOOR_FLAMEUP_API_KEY: FLAMEUP_KEY,
    SPOOR_FLAMEUP_URL: standin?.url ?? '',
  };
}

async function start(i: number): Promise<void> {
  instances[i] = await startCollector({
    dataDir: dataDirs[i] as string,
    port: ports[i] as number,
    env: env(),
    demoSignIn: false,
  });
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const servers = (await answers(DATABASE_URL, 5432)) && (await answers(REDIS_URL, 6379));
  if (!servers) {
    if (process.env.CI) throw new Error(HOW_TO_GET);
    console.warn(`Skipping e2e/scale.spec.ts. ${HOW_TO_GET}`);
    test.skip(true, HOW_TO_GET);
    return;
  }
  if (!existsSync(NGINX)) throw new Error(`No nginx at ${NGINX}: apt-get install nginx (or set NGINX_PATH)`);
  await admin(`CREATE DATABASE ${database}`);
  standin = await startFlameupStandin({ apiKey: FLAMEUP_KEY });
  dir = mkdtempSync(join(tmpdir(), 'spoor-scale-'));
  const nginxPort = await freePort();
  base = `http://127.0.0.1:${nginxPort}`;
  for (let i = 0; i < 3; i++) {
    ports.push(await freePort());
    dataDirs.push(await makeDataDir());
  }
  // Together: they race for the migration lock, as instances deployed at once do.
  await Promise.all([0, 1, 2].map((i) => start(i)));

  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream collectors {
${ports.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${nginxPort};
    client_max_body_size 10m;
    location / {
      proxy_pass http://collectors;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      # /track is idempotent (a body is stored once, by its hash): a request an instance died under
      # goes to the next one.
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
    }
  }
}
`,
  );
  nginx = spawn(NGINX, ['-p', dir, '-c', conf, '-e', join(dir, 'nginx-error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await expect
    .poll(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status, { timeout: 15_000 })
    .toBe(200);
});

test.afterAll(async () => {
  const ended = (child: ChildProcess | null) =>
    new Promise<void>((done) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGQUIT');
    });
  await ended(nginx);
  for (const c of instances) await c?.stop();
  await standin?.close();
  for (const d of dataDirs) await removeDataDir(d);
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (base) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
});

test('three instances record a visit exactly once while one is killed and another restarted', async ({
  browser,
}) => {
  test.setTimeout(150_000);
  const since = new Date(Date.now() - 1000);
  const context = await browser.newContext();
  const page = await context.newPage();
  const names: string[] = [];
  const track = async (name: string) => {
    names.push(name);
    await page.evaluate((n) => {
      (window as unknown as { spoor: (...args: unknown[]) => void }).spoor('track', n, { at: n });
    }, name);
  };
  await page.goto(`${base}/products.html?e2e=scale`);
  await page.evaluate(() => {
    (window as unknown as { spoor: (...args: unknown[]) => void }).spoor('identify', 'scale-visitor');
  });
  for (let i = 0; i < 4; i++) {
    await track(`before-${i}`);
    await page.mouse.move(100 + i * 20, 200);
    await page.waitForTimeout(250);
  }
  // Mid-stream: one instance dies with whatever it had in flight.
  await instances[0]?.kill();
  instances[0] = null;
  for (let i = 0; i < 4; i++) {
    await track(`killed-${i}`);
    await page.mouse.move(300, 200 + i * 20);
    await page.waitForTimeout(250);
  }
  await page.click('a.card[data-product="camp-lantern"]');
  await page.waitForLoadState('load');
  // Another is restarted (a deploy): it stops cleanly and comes back on its port.
  await instances[1]?.stop();
  await start(1);
  for (let i = 0; i < 4; i++) {
    await track(`restarted-${i}`);
    await page.waitForTimeout(250);
  }
  await start(0);

  // The page stays open until its batches are stored: a request refused while instances were down is
  // retried by the snippet with backoff, as it would be for a visitor who stays on the page.
  const api = new ReadApi(`${base}/api`);
  const stored = await expectStored(
    api,
    since,
    {
      sessions: 1,
      visits: 2,
      events: (s) => {
        const named = (s.events[0]?.tabs ?? []).flatMap((t) =>
          customEvents(t.events as StoredEvent[], 'event'),
        );
        return named.length >= names.length;
      },
    },
    60_000,
  );
  await context.close();
  const all = (stored.events[0]?.tabs ?? []).flatMap((t) => t.events as StoredEvent[]);
  // Exactly once: no event twice (same type, time and data), every named event once, in order.
  const keys = all.map((e) => JSON.stringify(e));
  expect(new Set(keys).size).toBe(keys.length);
  const named = customEvents(all, 'event').map((e) => e.data.payload?.name);
  expect(named).toEqual(names);
  expect(customEvents(all, 'visit')).toHaveLength(2);
  expect(stored.events[0]?.named_events.map((e) => e.name)).toEqual(names);

  // Flameup: each named event of the identified visitor exactly once, whichever instance sent it.
  await (standin as FlameupStandin).waitForAccepted(names.length, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const sent = (standin as FlameupStandin).accepted.map((a) => a.body.event);
  expect([...sent].sort()).toEqual([...names].sort());
  for (const s of instances) expect(s?.output() ?? '').not.toContain('Server Error');
});

test('3,700 /track requests from one address over the three instances meet one shared budget', async () => {
  test.setTimeout(120_000);
  const url = `${base}${V1}/track`;
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < 3700) {
      next++;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
  };
  // A few clients, not a burst: the other Playwright worker's journeys share the machine's two cores.
  await Promise.all(Array.from({ length: 4 }, () => worker()));
  expect(statuses).toHaveLength(3700);
  const refused = statuses.filter((s) => s === 429).length;
  // One budget of 3,600 a minute for the address, whichever instance answers; the visit above spent
  // some of it too. Per-instance budgets would have refused none.
  expect(refused).toBeGreaterThanOrEqual(100);
  expect(statuses.filter((s) => s >= 500)).toEqual([]);
});
