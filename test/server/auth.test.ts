// Dashboard sign-in over real HTTP: no secret in any page, the read API closed without a session or a
// token, sign-in and sign-out, CSRF refusals, rate limits per IP and per account, the demo's loopback
// sign-in, and projects made by the admin command kept apart.
import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join, relative, sep } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../server/admin.js';
import { loadConfig } from '../../server/config.js';
import { hashPassword } from '../../server/crypto/password.js';
import { openStore } from '../../server/store/sqlite.js';
import { tokenHash } from '../../server/store/store.js';
import { type Collector, custom, sqliteIt, startCollector, V1, visit } from './harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PASSWORD = 'correct horse battery staple';
const SECRETS = {
  SPOOR_APP_KEY: 'base64:YXV0aC10ZXN0LWFwcC1rZXktdGhpcnR5LXR3by1ieXQ=',
  SPOOR_API_TOKEN: 'auth-test-token-5f0c1e8a9b7d4c3e2f1a0b9c8d7e6f5a',
  SPOOR_FLAMEUP_API_KEY: 'fl_auth_test_secret_key_0123456789',
  SPOOR_ADMIN_PASSWORD: PASSWORD,
};
const SESSIONS = `${V1}/project/sessions`;
const QUERY = {
  start_date: '2000-01-01',
  end_date: '2100-01-01',
  sortKey: 'id',
  sortOrder: 'asc',
  filters: {},
};

let c: Collector;
afterEach(async () => {
  await c?.close();
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes
  body: any;
  text: string;
}

/** A request with any headers (Host and Cookie included), as a browser or an attacker would send. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${c.url}${path}`,
      {
        method,
        headers: { ...(payload ? { 'Content-Type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // a page or a file
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** POST from the dashboard's own origin. */
function fromDashboard(path: string, body: unknown, headers: Record<string, string> = {}) {
  return raw('POST', path, { Origin: c.url, ...headers }, body);
}

async function signIn(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const a = await fromDashboard('/api/auth/sign-in', body, headers);
  const setCookie = ([] as string[]).concat(a.headers['set-cookie'] ?? []);
  const cookie = setCookie[0]?.split(';')[0] ?? '';
  return { answer: a, setCookie: setCookie[0] ?? '', cookie, csrf: a.body?.data?.csrf_token as string };
}

function filesUnder(dir: string): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

describe('no secret in any page', () => {
  it('serves the dashboard and every file under demo/ and dist/ without the API token, app key, Flameup key or password', async () => {
    c = await startCollector(SECRETS, { rootDir: ROOT });
    const keyBytes = Buffer.from(SECRETS.SPOOR_APP_KEY.slice(7), 'base64');
    const secrets = [
      SECRETS.SPOOR_API_TOKEN,
      tokenHash(SECRETS.SPOOR_API_TOKEN),
      SECRETS.SPOOR_APP_KEY.slice(7),
      keyBytes.toString('hex'),
      SECRETS.SPOOR_FLAMEUP_API_KEY,
      PASSWORD,
    ];
    const paths = [
      '/dashboard',
      '/dashboard/',
      '/',
      ...[...filesUnder(join(ROOT, 'demo')), ...filesUnder(join(ROOT, 'dist'))].map((f) =>
        `/${relative(join(ROOT, 'demo'), f).split(sep).join('/')}`.replace(/^\/\.\.\/dist\//, '/dist/'),
      ),
    ];
    let served = 0;
    for (const path of paths) {
      const a = await raw('GET', path);
      if (a.status !== 200) continue;
      served++;
      for (const secret of secrets) expect(a.text, `${path} holds a secret`).not.toContain(secret);
    }
    // The walk really read the demo: its pages, scripts and styles.
    expect(served).toBeGreaterThan(20);
    const dashboard = await raw('GET', '/dashboard');
    expect(dashboard.text).not.toContain('spoor-api-token');
    expect(dashboard.text).toContain('<meta name="spoor-endpoint"');
  });

  sqliteIt('keeps API tokens and sign-ins in the database only as hashes', async () => {
    c = await startCollector(SECRETS);
    const { cookie } = await signIn({ secret: PASSWORD });
    // A second reader on the file, as anyone who copied it would read it.
    const db = new Database(c.config.dbFile, { readonly: true });
    const dump = JSON.stringify([
      db.prepare('SELECT * FROM projects').all(),
      db.prepare('SELECT * FROM dashboard_sessions').all(),
    ]);
    db.close();
    expect(dump).toContain(tokenHash(SECRETS.SPOOR_API_TOKEN));
    expect(dump).not.toContain(SECRETS.SPOOR_API_TOKEN);
    expect(dump).toContain(tokenHash(cookie.split('=')[1] as string));
    expect(dump).not.toContain(cookie.split('=')[1]);
  });

  it('hashes the plaintext tokens of a database made before tokens were hashed, and they still read', async () => {
    c = await startCollector(SECRETS);
    const file = join(c.config.dataDir, 'old.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE projects (id INTEGER PRIMARY KEY, public_key TEXT NOT NULL UNIQUE,
      api_token TEXT NOT NULL UNIQUE, name TEXT NOT NULL, allowed_origins TEXT, created_at TEXT NOT NULL);
      INSERT INTO projects VALUES (1, 'pk_old', 'old-plaintext-token', 'Old', NULL, '2024-01-01 00:00:00');
      CREATE TABLE sessions (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, external_id TEXT);
      CREATE TABLE batch_hashes (hash BLOB PRIMARY KEY, batch_id INTEGER) WITHOUT ROWID;
      CREATE TABLE batches (id INTEGER PRIMARY KEY);
      CREATE TABLE visits (id INTEGER PRIMARY KEY);
      PRAGMA user_version = 3;`);
    // (batches and visits: the tables later migrations alter, as a real version-3 database has them.)
    old.close();
    const store = openStore(file);
    expect((await store.projectByToken('old-plaintext-token'))?.public_key).toBe('pk_old');
    expect(await store.projectByToken(tokenHash('old-plaintext-token'))).toBeUndefined();
    await store.close();
  });
});

describe('the read API', () => {
  it('refuses every read endpoint without a session or a token, and with a made-up cookie', async () => {
    c = await startCollector(SECRETS);
    for (const path of [
      'project/sessions',
      'sessions/get-visits',
      'sessions/get-conversions',
      'sessions/get-events',
    ]) {
      const none = await fromDashboard(`${V1}/${path}`, {});
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ error: true, message: 'Unauthenticated.' });
      const forged = await fromDashboard(
        `${V1}/${path}`,
        {},
        { Cookie: 'spoor_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      );
      expect(forged.status).toBe(401);
    }
    expect((await c.read(SESSIONS, QUERY)).status).toBe(200);
  });
});

describe('sign-in', () => {
  it('signs in with the admin password into an HttpOnly SameSite=Strict cookie, reads with it, and signs out', async () => {
    c = await startCollector(SECRETS);
    const { answer, setCookie, cookie, csrf } = await signIn({ secret: PASSWORD });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({
      project: { public_key: c.project.public_key },
      via: 'password',
    });
    expect(setCookie).toMatch(
      /^spoor_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/,
    );
    expect(JSON.stringify(answer.body)).not.toContain(cookie.split('=')[1]);

    const read = await fromDashboard(SESSIONS, QUERY, { Cookie: cookie, 'X-CSRF-Token': csrf });
    expect(read.status).toBe(200);
    expect(read.body.data.total).toBe(0);
    const me = await fromDashboard('/api/auth/session', {}, { Cookie: cookie });
    expect(me.body.data.csrf_token).toBe(csrf);

    const out = await fromDashboard('/api/auth/sign-out', {}, { Cookie: cookie, 'X-CSRF-Token': csrf });
    expect(out.status).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(
      /^spoor_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/,
    );
    expect((await fromDashboard(SESSIONS, QUERY, { Cookie: cookie, 'X-CSRF-Token': csrf })).status).toBe(401);
    expect((await fromDashboard('/api/auth/session', {}, { Cookie: cookie })).body).toEqual({
      error: false,
      data: null,
      auto_sign_in: false,
    });
  });

  it("signs in with a project's API token, refuses a wrong secret with Laravel's 422, and ends at expiry", async () => {
    c = await startCollector(SECRETS);
    const wrong = await signIn({ secret: 'not the password at all' });
    expect(wrong.answer.status).toBe(422);
    expect(wrong.answer.body.errors).toEqual({ secret: ['These credentials do not match our records.'] });
    expect(wrong.setCookie).toBe('');

    const { answer, cookie, csrf } = await signIn({ secret: SECRETS.SPOOR_API_TOKEN });
    expect(answer.body.data.via).toBe('token');
    expect((await fromDashboard(SESSIONS, QUERY, { Cookie: cookie, 'X-CSRF-Token': csrf })).status).toBe(200);
    c.clock.now += 12 * 3_600_000 + 1;
    expect((await fromDashboard(SESSIONS, QUERY, { Cookie: cookie, 'X-CSRF-Token': csrf })).status).toBe(401);
  });

  it('sets the cookie Secure under the __Host- prefix when the collector is reached over https', async () => {
    c = await startCollector({ ...SECRETS, SPOOR_PUBLIC_URL: 'https://collector.test' });
    const a = await raw(
      'POST',
      '/api/auth/sign-in',
      { Host: 'collector.test', Origin: 'https://collector.test' },
      { secret: PASSWORD },
    );
    expect(a.status).toBe(200);
    expect(String(a.headers['set-cookie'])).toMatch(
      /^__Host-spoor_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/,
    );
  });
});

describe('the admin password', () => {
  it('signs in with SPOOR_ADMIN_PASSWORD_HASH, and a malformed hash or a short password stops the start', async () => {
    const { SPOOR_ADMIN_PASSWORD: _, ...rest } = SECRETS;
    c = await startCollector({
      ...rest,
      SPOOR_ADMIN_PASSWORD_HASH: await hashPassword('a hashed admin password'),
    });
    expect((await signIn({ secret: 'a hashed admin password' })).answer.status).toBe(200);
    expect((await signIn({ secret: 'a hashed admin passwore' })).answer.status).toBe(422);
    expect(() =>
      loadConfig({ SPOOR_DATA: c.config.dataDir, SPOOR_ADMIN_PASSWORD_HASH: 'scrypt$1$1$1$x$y' }),
    ).toThrow(/SPOOR_ADMIN_PASSWORD_HASH/);
    expect(() => loadConfig({ SPOOR_DATA: c.config.dataDir, SPOOR_ADMIN_PASSWORD: 'short' })).toThrow(
      /SPOOR_ADMIN_PASSWORD must be 12/,
    );
  });
});

describe('CSRF', () => {
  it('refuses a cookie-authenticated call without the CSRF token, with a wrong one, or from another origin', async () => {
    c = await startCollector(SECRETS);
    const { cookie, csrf } = await signIn({ secret: PASSWORD });
    const cases: Record<string, string>[] = [
      { Origin: c.url, Cookie: cookie },
      { Origin: c.url, Cookie: cookie, 'X-CSRF-Token': `${csrf.slice(0, -1)}x` },
      { Origin: 'https://evil.test', Cookie: cookie, 'X-CSRF-Token': csrf },
      { Cookie: cookie, 'X-CSRF-Token': csrf },
    ];
    for (const headers of cases) {
      const a = await raw('POST', SESSIONS, headers, QUERY);
      expect(a.status).toBe(403);
      expect(a.body).toEqual({ error: true, message: 'CSRF token mismatch.' });
      const out = await raw('POST', '/api/auth/sign-out', headers, {});
      expect(out.status).toBe(403);
    }
    // The sign-in survived every forged sign-out.
    expect((await fromDashboard(SESSIONS, QUERY, { Cookie: cookie, 'X-CSRF-Token': csrf })).status).toBe(200);
    // Signing a victim's browser in from another site is refused too.
    const login = await raw(
      'POST',
      '/api/auth/sign-in',
      { Origin: 'https://evil.test' },
      { secret: PASSWORD },
    );
    expect(login.status).toBe(403);
  });
});

describe('sign-in rate limits', () => {
  it('limits attempts per client IP, and per account across addresses, until the window ends', async () => {
    c = await startCollector({ ...SECRETS, SPOOR_SIGN_IN_LIMIT: '3', SPOOR_TRUST_PROXY: '1' });
    const from = (ip: string, secret: string) => signIn({ secret }, { 'X-Forwarded-For': ip });
    for (let i = 0; i < 3; i++)
      expect((await from('198.51.100.1', 'wrong password!')).answer.status).toBe(422);
    const limited = await from('198.51.100.1', PASSWORD);
    expect(limited.answer.status).toBe(429);
    expect(Number(limited.answer.headers['retry-after'])).toBeGreaterThan(0);

    // Other addresses: the admin account has had its 3 password checks this minute, wherever from.
    const spread = [];
    for (const ip of ['198.51.100.2', '198.51.100.3']) spread.push((await from(ip, PASSWORD)).answer.status);
    expect(spread).toEqual([429, 429]);
    // A token holder is not locked out by the admin account's limit.
    expect((await from('198.51.100.5', SECRETS.SPOOR_API_TOKEN)).answer.status).toBe(200);

    c.clock.now += 61_000;
    expect((await from('198.51.100.1', PASSWORD)).answer.status).toBe(200);
  });
});

describe("the demo's automatic sign-in", () => {
  it('signs in a viewer on loopback only when started for it, and never under a rebinding host name', async () => {
    c = await startCollector(SECRETS);
    const off = await fromDashboard('/api/auth/session', {});
    expect(off.body.auto_sign_in).toBe(false);
    expect((await fromDashboard('/api/auth/auto', {})).status).toBe(403);

    c.config.autoSignIn = true;
    expect((await fromDashboard('/api/auth/session', {})).body.auto_sign_in).toBe(true);
    const auto = await fromDashboard('/api/auth/auto', {});
    expect(auto.status).toBe(200);
    expect(auto.body.data.via).toBe('auto');

    // A page on evil.test whose name resolves to 127.0.0.1 reaches the port under its own Host.
    const port = new URL(c.url).port;
    const rebound = await raw(
      'POST',
      '/api/auth/auto',
      { Host: `evil.test:${port}`, Origin: `http://evil.test:${port}` },
      {},
    );
    expect(rebound.status).toBe(403);
    expect(rebound.headers['set-cookie']).toBeUndefined();
  });
});

describe('projects made by the admin command', () => {
  async function admin(...args: string[]): Promise<string[]> {
    const lines: string[] = [];
    await runAdmin(args, { ...SECRETS, SPOOR_DATA: c.config.dataDir }, (line) => lines.push(line));
    return lines;
  }

  async function record(projectKey: string, origin: string): Promise<number> {
    const s = await c.post(`${V1}/session`, { project: projectKey, url: `${origin}/` }, { Origin: origin });
    expect(s.status).toBe(200);
    const t0 = c.clock.now;
    const track = await c.post(
      `${V1}/track`,
      {
        sessionIdentifier: s.body.sessionIdentifier,
        timer: 1,
        events: [visit(`${origin}/`, t0), custom('event', { name: 'x', parameters: {} }, t0 + 1)],
      },
      { Origin: origin },
    );
    expect(track.status).toBe(200);
    return c.sqlite.db.prepare('SELECT MAX(id) FROM sessions').pluck().get() as number;
  }

  sqliteIt(
    'records a second project from its own origin, and neither token reads the other project',
    async () => {
      c = await startCollector({ ...SECRETS, SPOOR_ALLOWED_ORIGINS: 'https://demo-shop.test' });
      const added = await admin('project', 'add', '--name', 'Second shop', '--origin', 'https://second.test');
      const key = /^Public key: (pk_\w+)$/m.exec(added.join('\n'))?.[1] as string;
      const token = /^API token: (\w+)$/m.exec(added.join('\n'))?.[1] as string;
      expect(key).toMatch(/^pk_/);
      expect(token).toHaveLength(64);

      // Its own origin records; the demo's origin may not record into it.
      const refused = await c.post(`${V1}/session`, { project: key }, { Origin: 'https://demo-shop.test' });
      expect(refused.status).toBe(403);
      await record(c.project.public_key, 'https://demo-shop.test');
      const secondId = await record(key, 'https://second.test');

      const mine = await c.read(SESSIONS, QUERY, token);
      expect(mine.body.data.data.map((s: { id: number }) => s.id)).toEqual([secondId]);
      const demo = await c.read(SESSIONS, QUERY);
      expect(demo.body.data.data.map((s: { id: number }) => s.id)).not.toContain(secondId);
      const foreign = await c.read(`${V1}/sessions/get-events`, { session_id: 1 }, token);
      expect(foreign.status).toBe(422);
      // Signed in with its token, the dashboard sees the second project only.
      const { cookie, csrf } = await signIn({ secret: token });
      const viaCookie = await fromDashboard(SESSIONS, QUERY, { Cookie: cookie, 'X-CSRF-Token': csrf });
      expect(viaCookie.body.data.total).toBe(1);

      const listed = (await admin('project', 'list')).join('\n');
      expect(listed).toContain(key);
      expect(listed).toContain('Second shop');
      expect(listed).not.toContain(token);

      // A rotated token: the old one and the sign-ins made with it stop working.
      const rotated = /^API token: (\w+)$/m.exec(
        (await admin('project', 'rotate-token', key)).join('\n'),
      )?.[1];
      expect((await c.read(SESSIONS, QUERY, token)).status).toBe(401);
      expect((await c.read(SESSIONS, QUERY, rotated)).status).toBe(200);
      expect((await fromDashboard(SESSIONS, QUERY, { Cookie: cookie, 'X-CSRF-Token': csrf })).status).toBe(
        401,
      );

      await admin('project', 'set-origins', key, '--origin', 'https://third.test');
      expect(
        (await c.post(`${V1}/session`, { project: key }, { Origin: 'https://second.test' })).status,
      ).toBe(403);
      expect((await c.post(`${V1}/session`, { project: key }, { Origin: 'https://third.test' })).status).toBe(
        200,
      );

      const before = await c.store.counts();
      const deleted = (await admin('project', 'delete', key, '--yes')).join('\n');
      expect(deleted).toContain('sessions 2');
      const after = await c.store.counts();
      expect(before.sessions - after.sessions).toBe(2);
      expect(before.batches - after.batches).toBe(1);
      expect(before.visits - after.visits).toBe(1);
      expect(before.named_events - after.named_events).toBe(1);
      expect(after.sessions).toBe(1); // the demo project's session stays
      expect((await c.read(SESSIONS, QUERY, rotated)).status).toBe(401);
    },
  );

  sqliteIt(
    'refuses to rotate the demo project made from the environment, and an origin with a path',
    async () => {
      c = await startCollector(SECRETS);
      await expect(admin('project', 'rotate-token', c.project.public_key)).rejects.toThrow(/SPOOR_API_TOKEN/);
      await expect(admin('project', 'add', '--name', 'x', '--origin', 'https://x.test/path')).rejects.toThrow(
        /without a path/,
      );
    },
  );
});
