// The setup mistakes a new user makes end the collector with one line that says what to fix, and the
// production build starts on plain Node: the real server/main.ts (and its build) as a child process.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { startCollectorProcess } from '../support/collector-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'spoor-setup-'));
  dirs.push(d);
  return d;
};

afterEach(() => {
  for (const d of dirs.splice(0)) {
    // A test made it read-only to refuse the collector; the cleanup needs it writable again.
    if (existsSync(d)) chmodSync(d, 0o700);
    rmSync(d, { recursive: true, force: true });
  }
});

/** Runs server/main.ts to its end: exit code and what it printed on stderr. */
function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      done({ code, stderr });
    });
  });
}

describe('setup mistakes', () => {
  it('says in one line that SPOOR_DATABASE_URL is not PostgreSQL, or does not answer, without printing it', async () => {
    const wrong = await run({ SPOOR_DATA: tempDir(), SPOOR_DATABASE_URL: 'mysql://root:hunter2@db/x' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('spoor: SPOOR_DATABASE_URL must be a postgres:// or postgresql:// URL\n');
    const closed = new Promise<number>((r) => {
      const s: Server = createServer();
      s.listen(0, () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => r(port));
      });
    });
    const away = await run({
      SPOOR_DATA: tempDir(),
      SPOOR_DATABASE_URL: `postgres://spoor:hunter2@127.0.0.1:${await closed}/spoor`,
    });
    expect(away.code).toBe(1);
    expect(away.stderr).toBe(
      'spoor: cannot open the PostgreSQL database of SPOOR_DATABASE_URL (ECONNREFUSED): check that it answers\n',
    );
  });

  it('says in one line that the port is in use, and exits 1', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, r));
    const port = (holder.address() as { port: number }).port;
    try {
      const { code, stderr } = await run({ SPOOR_DATA: tempDir(), PORT: String(port) });
      expect(code).toBe(1);
      expect(stderr).toBe(`spoor: port ${port} is already in use: stop what holds it or set PORT\n`);
    } finally {
      holder.close();
    }
  });

  it.skipIf(process.getuid?.() === 0)('says in one line that the data folder is not writable', async () => {
    const parent = tempDir();
    chmodSync(parent, 0o500);
    const { code, stderr } = await run({ SPOOR_DATA: join(parent, 'data') });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^spoor: The data folder .*data is not writable \(EACCES\): set SPOOR_DATA/);
  });

  it('says in one line that the data folder cannot be made (a file stands in its path)', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'file'), '');
    const { code, stderr } = await run({ SPOOR_DATA: join(parent, 'file', 'data') });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^spoor: The data folder .*data is not writable \(ENOTDIR\): set SPOOR_DATA[^\n]*\n$/,
    );
  });

  it('says in one line that SPOOR_APP_KEY is malformed', async () => {
    for (const key of ['base64:too-short', 'base64:!!!not base64!!!', 'eleven-char', '   ']) {
      const { code, stderr } = await run({ SPOOR_DATA: tempDir(), SPOOR_APP_KEY: key });
      expect(code, key).toBe(1);
      expect(stderr.trim().split('\n'), key).toHaveLength(1);
      expect(stderr, key).toMatch(/^spoor: SPOOR_APP_KEY /);
      if (key.trim()) expect(stderr, 'never echoes the key').not.toContain(key);
    }
  });

  it('reads SPOOR_RETENTION_DAYS (default 90, 0 keeps everything) and refuses a negative one', () => {
    const dir = tempDir();
    expect(loadConfig({ SPOOR_DATA: dir }).retentionDays).toBe(90);
    expect(loadConfig({ SPOOR_DATA: dir, SPOOR_RETENTION_DAYS: '0' }).retentionDays).toBe(0);
    expect(() => loadConfig({ SPOOR_DATA: dir, SPOOR_RETENTION_DAYS: '-1' })).toThrow(/SPOOR_RETENTION_DAYS/);
  });
});

describe('the running collector', () => {
  it('answers /healthz, logs JSON lines without its token, and exits 0 on SIGTERM', async () => {
    const collector = await startCollectorProcess({ dataDir: tempDir() });
    let stdout = '';
    collector.child.stdout?.on('data', (c) => {
      stdout += c;
    });
    const health = await fetch(`${collector.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    // An origin outside the list: refused, readable by the page, and logged once however often.
    for (let i = 0; i < 3; i++) {
      const refused = await fetch(`${collector.url}/api/services/analytics/v1/session`, {
        method: 'POST',
        headers: { Origin: 'https://stranger.test' },
        body: JSON.stringify({ project: collector.projectKey }),
      });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBe('https://stranger.test');
    }
    const exit = new Promise<number | null>((r) => collector.child.once('exit', (code) => r(code)));
    collector.child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toContain('stopped');
    expect(lines.filter((l) => l.origin === 'https://stranger.test')).toHaveLength(1);
    expect(stdout).not.toContain(collector.apiToken);
  });
});

describe('the production build', () => {
  it('builds to plain JavaScript that starts with node and no TypeScript loader', {
    timeout: 60_000,
  }, async () => {
    // Inside the repository, so that Node finds the installed packages above it; e2e/deploy.spec.ts
    // installs the runtime dependencies alone into a folder of their own.
    const out = join(ROOT, 'test-results', `collector-build-${process.pid}`);
    dirs.push(out);
    execFileSync(process.execPath, ['scripts/build-collector.mjs'], {
      cwd: ROOT,
      env: { ...process.env, SPOOR_COLLECTOR_OUT: out },
      stdio: 'pipe',
    });
    const child = spawn(process.execPath, [join(out, 'main.js')], {
      cwd: out,
      env: { ...process.env, PORT: '0', SPOOR_DATA: join(out, 'data'), NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((done, fail) => {
        let text = '';
        child.stdout.on('data', (c) => {
          text += c;
          const m = /listening on (http:\/\/localhost:\d+)/.exec(text);
          if (m?.[1]) done(m[1].replace('localhost', '127.0.0.1'));
        });
        child.once('exit', (code) => fail(new Error(`exited ${code}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/dist/spoor.min.js`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe("the collector's own package.json", () => {
  it('pins exactly the versions the repository is tested with, and its lock agrees', () => {
    const read = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
    const runtime = read('server/package.json').dependencies as Record<string, string>;
    const rootLock = read('package-lock.json').packages as Record<string, { version: string }>;
    const serverLock = read('server/package-lock.json').packages as Record<string, { version: string }>;
    expect(Object.keys(runtime).sort()).toEqual([
      'better-sqlite3',
      'ioredis',
      'pg',
      'pino',
      'piscina',
      'rate-limiter-flexible',
      'ua-parser-js',
    ]);
    for (const [name, version] of Object.entries(runtime)) {
      expect(rootLock[`node_modules/${name}`]?.version, name).toBe(version);
      expect(serverLock[`node_modules/${name}`]?.version, name).toBe(version);
    }
  });
});
