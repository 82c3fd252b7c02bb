// The deployment the README describes, done for real: the collector built to plain JavaScript, its
// runtime dependencies alone installed into a folder of their own (`npm ci --omit=dev`), started with
// `node main.js`, behind Debian's nginx running the README's own server block over HTTPS. A visitor's
// journey goes through nginx and is read back through nginx with the API token.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type APIRequestContext, expect, request, test } from '@playwright/test';
import { freePort } from '../test/support/ports.js';
import { ROOT, TEST_KEYS } from './collector.js';

const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';
/** The dashboard's admin password for this deployment. */
const ADMIN_PASSWORD = 'deploy admin password, long enough';
const V1 = '/api/services/analytics/v1';

test.describe.configure({ mode: 'serial' });

let dir = '';
let app = '';
let base = '';
let collector: ChildProcess | null = null;
let nginx: ChildProcess | null = null;
let collectorOutput = '';
let api: APIRequestContext;

/** The README's nginx server block, with this test's ports, host name and certificate. */
function readmeServerBlock(appPort: number, httpsPort: number, cert: string, key: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Deploy the collector'));
  const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README: no nginx block under "Deploy the collector"');
  const swaps: [string, string][] = [
    ['listen 443 ssl;', `listen 127.0.0.1:${httpsPort} ssl;`],
    ['server_name collector.example.com;', 'server_name localhost;'],
    ['/etc/letsencrypt/live/collector.example.com/fullchain.pem', cert],
    ['/etc/letsencrypt/live/collector.example.com/privkey.pem', key],
    ['http://127.0.0.1:8787', `http://127.0.0.1:${appPort}`],
  ];
  let out = block;
  for (const [from, to] of swaps) {
    if (!out.includes(from)) throw new Error(`README nginx block lost "${from}"`);
    out = out.replace(from, to);
  }
  return out;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} did not start:\n${collectorOutput}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      collectorOutput += chunk.toString();
      if (pattern.test(collectorOutput)) {
        clearTimeout(timer);
        done();
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      collectorOutput += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited with ${code}:\n${collectorOutput}`));
    });
  });
}

test.beforeAll(async () => {
  // Building, and compiling better-sqlite3 when no prebuilt binary can be fetched, take minutes.
  test.setTimeout(600_000);
  if (!existsSync(NGINX)) throw new Error(`No nginx at ${NGINX}: apt-get install nginx (or set NGINX_PATH)`);
  dir = mkdtempSync(join(tmpdir(), 'spoor-deploy-'));
  app = join(dir, 'app');
  execFileSync(process.execPath, ['scripts/build-collector.mjs'], {
    cwd: ROOT,
    env: { ...process.env, SPOOR_COLLECTOR_OUT: app },
    stdio: 'pipe',
  });
  // Outside the repository: nothing but what this installs can be found from here.
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
    cwd: app,
    stdio: 'pipe',
    timeout: 540_000,
  });

  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'pipe', input: '', env: { ...process.env } },
  );
  const appPort = await freePort();
  const httpsPort = await freePort();
  base = `https://localhost:${httpsPort}`;

  collector = spawn(process.execPath, ['main.js'], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...TEST_KEYS,
      PORT: String(appPort),
      SPOOR_DATA: join(dir, 'data'),
      SPOOR_PUBLIC_URL: base,
      SPOOR_TRUST_PROXY: '1',
      SPOOR_READ_LIMIT: '100000',
      SPOOR_ADMIN_PASSWORD: ADMIN_PASSWORD,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForLine(collector, /"msg":"listening"/, 'the built collector');

  const conf = join(dir, 'nginx.conf');
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 256; }
http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${readmeServerBlock(appPort, httpsPort, cert, key)}
}
`,
  );
  nginx = spawn(NGINX, ['-p', dir, '-c', conf, '-e', join(dir, 'nginx-error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let nginxErrors = '';
  nginx.stderr?.on('data', (chunk: Buffer) => {
    nginxErrors += chunk.toString();
  });

  api = await request.newContext({
    baseURL: base,
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { Authorization: `Bearer ${TEST_KEYS.SPOOR_API_TOKEN}` },
  });
  await expect
    .poll(
      async () => {
        if (nginx?.exitCode !== null) throw new Error(`nginx exited: ${nginxErrors}`);
        return (await api.get('/healthz').catch(() => null))?.status();
      },
      { timeout: 15_000 },
    )
    .toBe(200);
});

test.afterAll(async () => {
  await api?.dispose();
  const ended = (child: ChildProcess | null, signal: NodeJS.Signals) =>
    new Promise<number | null>((done) => {
      if (!child || child.exitCode !== null || child.signalCode !== null)
        return done(child?.exitCode ?? null);
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', (code) => {
        clearTimeout(force);
        done(code);
      });
      child.kill(signal);
    });
  // nginx stops on SIGQUIT gracefully; the collector on SIGTERM, and says so with exit code 0.
  await ended(nginx, 'SIGQUIT');
  const code = await ended(collector, 'SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
  expect(code, collectorOutput).toBe(0);
});

test('the built collector runs on its runtime dependencies alone', () => {
  const installed = (name: string) => existsSync(join(app, 'node_modules', name, 'package.json'));
  for (const name of [
    'better-sqlite3',
    'pino',
    'piscina',
    'ua-parser-js',
    'pg',
    'ioredis',
    'rate-limiter-flexible',
  ])
    expect(installed(name), name).toBe(true);
  for (const name of ['tsx', 'esbuild', 'typescript', 'vitest', '@playwright/test', 'rrweb-player']) {
    expect(installed(name), name).toBe(false);
  }
  // Whoever installs the snippet from npm gets no server package.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  expect(pkg.dependencies).toBeUndefined();
});

test('a journey through nginx over HTTPS is recorded and read back with the token', async ({ browser }) => {
  const since = new Date(Date.now() - 1000);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(`${base}/products.html?e2e=deploy`);
  await page.waitForTimeout(1200);
  await page.click('a.card[data-product="camp-lantern"]');
  await page.waitForLoadState('load');
  await page.waitForTimeout(1200);
  await context.close();

  const list = async () => {
    const answer = await api.post(`${V1}/project/sessions`, {
      data: {
        start_date: since.toISOString().slice(0, 19).replace('T', ' '),
        end_date: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
        sortKey: 'id',
        sortOrder: 'asc',
        per_page: '100',
        filters: {},
        include_ip_addresses: '1',
      },
    });
    expect(answer.status()).toBe(200);
    return ((await answer.json()) as { data: { data: Record<string, unknown>[] } }).data.data;
  };
  await expect.poll(async () => (await list())[0]?.visits_count, { timeout: 20_000 }).toBe(2);
  const [session] = await list();
  expect(session?.entry_url).toBe(`${base}/products.html?e2e=deploy`);
  // nginx overwrites X-Forwarded-For with the socket's address; the collector trusts it.
  expect(session?.ip_address).toBe('127.0.0.1');

  const events = await api.post(`${V1}/sessions/get-events`, { data: { session_id: session?.id } });
  expect(events.status()).toBe(200);
  const body = (await events.json()) as {
    data: { tabs: { events: { type: number; data: { tag?: string; payload?: { url?: string } } }[] }[] };
  };
  const all = body.data.tabs.flatMap((t) => t.events);
  expect(all.some((e) => e.type === 2)).toBe(true);
  expect(all.filter((e) => e.data.tag === 'visit').map((e) => e.data.payload?.url)).toEqual([
    `${base}/products.html?e2e=deploy`,
    expect.stringContaining(`${base}/product.html`),
  ]);

  // Without the token, the same read is refused through the proxy too.
  const anonymous = await request.newContext({ baseURL: base, ignoreHTTPSErrors: true });
  expect((await anonymous.post(`${V1}/project/sessions`, { data: {} })).status()).toBe(401);
  await anonymous.dispose();
});

test('the dashboard signs in over HTTPS through nginx with a Secure cookie and lists the journey', async ({
  browser,
}) => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const answer = await page.goto(`${base}/dashboard`);
  expect(await answer?.text()).not.toContain(TEST_KEYS.SPOOR_API_TOKEN);
  await page.getByLabel('Admin password or project API token').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('tr[data-session]').first()).toBeVisible({ timeout: 15_000 });
  // Served over HTTPS, the sign-in cookie is Secure and host-only (the __Host- prefix).
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({
    name: '__Host-spoor_session',
    httpOnly: true,
    secure: true,
    sameSite: 'Strict',
  });
  await context.close();
});

test("a client's own X-Forwarded-For does not reach the collector through nginx", async () => {
  const minted = await api.post(`${V1}/session`, {
    headers: { 'X-Forwarded-For': '203.0.113.9' },
    data: { project: TEST_KEYS.SPOOR_PROJECT_KEY, url: `${base}/xff` },
  });
  expect(minted.status()).toBe(200);
  const answer = await api.post(`${V1}/project/sessions`, {
    data: {
      start_date: '2000-01-01',
      end_date: '2100-01-01',
      sortKey: 'id',
      sortOrder: 'desc',
      per_page: '1',
      filters: { url: '/xff' },
      include_ip_addresses: '1',
    },
  });
  const rows = ((await answer.json()) as { data: { data: { ip_address: string }[] } }).data.data;
  expect(rows.map((r) => r.ip_address)).toEqual(['127.0.0.1']);
});
