// HTTP hygiene of the collector, over real HTTP and raw sockets: timeouts, the per-address connection
// cap, the Host check and escaping, /track's Origin check, file modes and the pages' security headers.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { policyOrigins, replayPolicy } from '../../server/http/headers.js';
import { addressKey, createCollectorServer } from '../../server/http/server.js';
import { escapeHtml, fillTemplate } from '../../server/http/template.js';
import { openStore } from '../../server/store/sqlite.js';
import { type Collector, sqliteIt, startCollector, V1 } from './harness.js';

const SESSION = `${V1}/session`;
const TRACK = `${V1}/track`;
const NOT_ALLOWED = { error: true, message: 'This origin is not allowed for the project.' };

let c: Collector | null = null;
const dirs: string[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (c) {
    // Nothing that happened here is a server error.
    expect(c.errors).toEqual([]);
    await c.close();
    c = null;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spoor-hygiene-'));
  dirs.push(dir);
  return dir;
}

interface Raw {
  socket: Socket;
  /** Everything received so far. */
  text(): string;
  /** Resolves when the server has closed the connection; with the ms from `since`. */
  closed: Promise<number>;
  /** Waits until what was received matches. */
  until(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** A raw TCP connection to the collector, optionally from another loopback address. */
function raw(url: string, localAddress?: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    sockets.push(socket);
    let received = '';
    const began = performance.now();
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      received += d;
    });
    socket.on('error', () => {});
    const closed = new Promise<number>((done) => socket.on('close', () => done(performance.now() - began)));
    socket.once('connect', () =>
      resolve({
        socket,
        text: () => received,
        closed,
        async until(pattern, timeoutMs = 3000) {
          const deadline = performance.now() + timeoutMs;
          while (!pattern.test(received)) {
            if (performance.now() > deadline || socket.destroyed) {
              throw new Error(`no ${pattern} within ${timeoutMs} ms; received: ${JSON.stringify(received)}`);
            }
            await new Promise((r) => setTimeout(r, 10));
          }
          return received;
        },
      }),
    );
    socket.once('error', reject);
  });
}

function requestText(method: string, path: string, host: string, body = '', extra = ''): string {
  return (
    `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`
  );
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request through node:http, which (unlike fetch) lets the test choose the Host header. */
function send(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method: options.method ?? 'GET',
        headers: {
          ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A Content-Security-Policy as directive -> sources. */
function directives(csp: string | string[] | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of String(csp ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name] = sources;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('timeouts', () => {
  it('answers 408 and closes a body that trickles in past the request timeout, not minutes later', async () => {
    c = await startCollector({ SPOOR_HEADERS_TIMEOUT_MS: '500', SPOOR_REQUEST_TIMEOUT_MS: '1500' });
    const id = await c.session();
    const host = new URL(c.url).host;
    const conn = await raw(c.url);
    // Headers at once, then the body one byte every 100 ms: each byte resets no timer.
    conn.socket.write(
      `POST ${TRACK} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
    );
    const body = JSON.stringify({ sessionIdentifier: id, events: [] });
    let i = 0;
    const drip = setInterval(() => {
      if (!conn.socket.destroyed) conn.socket.write(body[i++ % body.length] as string);
    }, 100);
    try {
      const ms = await conn.closed;
      expect(conn.text()).toMatch(/^HTTP\/1\.1 408 /);
      // The limit, plus at most Node's checking interval (here a quarter of the shortest timeout).
      expect(ms).toBeGreaterThan(1400);
      expect(ms).toBeLessThan(3000);
    } finally {
      clearInterval(drip);
    }
    expect((await c.store.counts()).batches).toBe(0);
    // The collector is alive and answers others.
    expect((await c.post(SESSION, { project: c.project.public_key })).status).toBe(200);
  });

  it('answers 408 to headers that do not arrive within the header timeout', async () => {
    c = await startCollector({ SPOOR_HEADERS_TIMEOUT_MS: '500', SPOOR_REQUEST_TIMEOUT_MS: '5000' });
    const conn = await raw(c.url);
    conn.socket.write(`POST ${SESSION} HTTP/1.1\r\nHost: ${new URL(c.url).host}\r\n`);
    const drip = setInterval(() => {
      if (!conn.socket.destroyed) conn.socket.write('X-Slow: 1\r\n');
    }, 100);
    try {
      const ms = await conn.closed;
      expect(conn.text()).toMatch(/^HTTP\/1\.1 408 /);
      expect(ms).toBeLessThan(2000);
    } finally {
      clearInterval(drip);
    }
    expect((await c.store.counts()).sessions).toBe(0);
  });

  it('closes a kept-alive connection that sends no further request after the keep-alive timeout', async () => {
    c = await startCollector({ SPOOR_KEEP_ALIVE_TIMEOUT_MS: '300' });
    const conn = await raw(c.url);
    conn.socket.write(requestText('GET', '/api/nothing', new URL(c.url).host));
    await conn.until(/\r\n\r\n\{.*\}$/s);
    const answered = performance.now();
    await conn.closed;
    expect(performance.now() - answered).toBeLessThan(1500);
    expect(conn.text()).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('builds the server with 10 s for headers, 30 s for the whole request and 5 s keep-alive by default, each overridable', () => {
    const config = loadConfig({ SPOOR_DATA: tempDir() });
    expect(config.http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxConnectionsPerIp: 32,
    });
    const server = createCollectorServer(() => {}, config.http);
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([
      10_000, 30_000, 5_000,
    ]);
    const tuned = loadConfig({
      SPOOR_DATA: tempDir(),
      SPOOR_HEADERS_TIMEOUT_MS: '2000',
      SPOOR_REQUEST_TIMEOUT_MS: '45000',
      SPOOR_KEEP_ALIVE_TIMEOUT_MS: '1000',
      SPOOR_MAX_CONNECTIONS_PER_IP: '0',
    });
    expect(tuned.http).toEqual({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 45_000,
      keepAliveTimeoutMs: 1000,
      maxConnectionsPerIp: 0,
    });
    // Node reads 0 as "never": refused rather than silently reopening the stall.
    expect(() => loadConfig({ SPOOR_DATA: tempDir(), SPOOR_REQUEST_TIMEOUT_MS: '0' })).toThrow(/positive/);
    expect(() => loadConfig({ SPOOR_DATA: tempDir(), SPOOR_HEADERS_TIMEOUT_MS: '60000' })).toThrow(
      /must not exceed/,
    );
  });
});

describe('connections per client address', () => {
  it('answers a connection over the cap with 503 and Connection: close, without running it, while other addresses are served', async () => {
    c = await startCollector({ SPOOR_MAX_CONNECTIONS_PER_IP: '3' });
    const host = new URL(c.url).host;
    // Three kept-alive connections, each answered once: the server has surely counted them.
    const held: Raw[] = [];
    for (let i = 0; i < 3; i++) {
      const conn = await raw(c.url);
      conn.socket.write(requestText('GET', '/api/nothing', host));
      await conn.until(/^HTTP\/1\.1 404 /);
      held.push(conn);
    }
    const mint = requestText('POST', SESSION, host, JSON.stringify({ project: c.project.public_key }));

    const extra = await raw(c.url);
    extra.socket.write(mint);
    await extra.closed;
    expect(extra.text()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(extra.text()).toMatch(/\r\nConnection: close\r\n/i);
    expect(extra.text()).toMatch(/\r\nRetry-After: 1\r\n/i);
    expect((await c.store.counts()).sessions).toBe(0);

    // Another address is not affected.
    const other = await raw(c.url, '127.0.0.2');
    other.socket.write(mint);
    await other.until(/^HTTP\/1\.1 200 /);
    expect((await c.store.counts()).sessions).toBe(1);

    // A closed connection frees its place.
    held[0]?.socket.destroy();
    await held[0]?.closed;
    let status = '';
    for (let attempt = 0; attempt < 50 && status !== '200'; attempt++) {
      await sleep(20);
      const again = await raw(c.url);
      again.socket.write(mint);
      status = (await again.until(/^HTTP\/1\.1 \d{3}/)).slice(9, 12);
      again.socket.destroy();
    }
    expect(status).toBe('200');
    expect((await c.store.counts()).sessions).toBe(2);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as the IPv4 address', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0003::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('Host', () => {
  it('answers 421 to another host when SPOOR_PUBLIC_URL is set, and writes the public origin into pages and answers', async () => {
    c = await startCollector({ SPOOR_PUBLIC_URL: 'https://collector.example.com' });
    const mint = JSON.stringify({ project: c.project.public_key });

    const page = await send(c.url, '/dashboard', { headers: { Host: 'evil.test' } });
    expect(page.status).toBe(421);
    expect(page.body).not.toContain('evil.test');
    const api = await send(c.url, SESSION, { method: 'POST', headers: { Host: 'evil.test' }, body: mint });
    expect(api.status).toBe(421);
    expect(JSON.parse(api.body)).toEqual({ error: true, message: 'Misdirected Request.' });
    expect((await c.store.counts()).sessions).toBe(0);

    const served = await send(c.url, '/dashboard', { headers: { Host: 'Collector.Example.com:443' } });
    expect(served.status).toBe(200);
    expect(served.body).toContain('<meta name="spoor-endpoint" content="https://collector.example.com/api">');
    // The own-origin rule follows the public URL too.
    const own = await send(c.url, SESSION, {
      method: 'POST',
      headers: { Host: 'collector.example.com', Origin: 'https://collector.example.com' },
      body: mint,
    });
    expect(own.status).toBe(200);
  });

  it('refuses a Host header that is not a host name with 400, so it is never echoed', async () => {
    c = await startCollector();
    for (const path of ['/dashboard', '/index.html', '/api/nothing']) {
      const a = await send(c.url, path, { headers: { Host: 'x"><script>alert(1)</script>' } });
      expect(a.status).toBe(400);
      expect(a.body).not.toContain('<script>');
    }
    const fine = await send(c.url, '/dashboard', { headers: { Host: 'analytics.test:8080' } });
    expect(fine.body).toContain('<meta name="spoor-endpoint" content="http://analytics.test:8080/api">');
  });

  it('escapes the values the pages echo for the attribute they stand in', async () => {
    c = await startCollector({
      SPOOR_PROJECT_KEY: 'pk_"><script>alert(1)</script>',
      SPOOR_API_TOKEN: 'tok\'"><img src=x onerror=alert(2)>',
    });
    const shop = await send(c.url, '/index.html');
    expect(shop.body).toContain('data-project="pk_&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(shop.body).not.toContain('<script>alert(1)');
    // The dashboard carries no token at all (it signs in): neither escaped nor raw.
    const dashboard = await send(c.url, '/dashboard');
    expect(dashboard.body).not.toContain('onerror=alert(2)');
    expect(dashboard.body).not.toContain('spoor-api-token');
  });

  it('escapes a placeholder inside an inline script as the content of a string, and in attributes as HTML', () => {
    const hostile = `</script><script>alert(1)//"'\u2028<!--`;
    const html = fillTemplate(
      `<script src="/a.js" data-x="{{X}}"></script><script>window.x = "{{X}}"; window.y = '{{X}}';</script><p title="{{X}}">{{X}}</p>{{UNKNOWN}}`,
      { X: hostile },
    );
    const [, script = ''] = /<script>([\s\S]*?)<\/script>/.exec(html) ?? [];
    // The inline script holds no end tag and no comment opener, and its strings decode to the value.
    expect(script).not.toMatch(/<\/script|<!--/i);
    const win: { x?: string; y?: string } = {};
    new Function('window', script)(win);
    expect(win).toEqual({ x: hostile, y: hostile });
    expect(html).toContain(`data-x="${escapeHtml(hostile)}"`);
    expect(html).toContain(`<p title="${escapeHtml(hostile)}">${escapeHtml(hostile)}</p>`);
    expect(html).toContain('{{UNKNOWN}}');
    expect(escapeHtml(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });
});

describe('Origin on /track and /session', () => {
  it("refuses /track from an Origin the project does not allow with /session's 403, and stores nothing", async () => {
    c = await startCollector({ SPOOR_ALLOWED_ORIGINS: 'https://shop.test' });
    const id = await c.session();
    const batch = { sessionIdentifier: id, timer: 1, events: [{ type: 4, data: {}, timestamp: Date.now() }] };

    const session = await c.post(SESSION, { project: c.project.public_key }, { Origin: 'https://evil.test' });
    const track = await c.post(TRACK, batch, { Origin: 'https://evil.test' });
    expect(session.status).toBe(403);
    expect(track.status).toBe(403);
    expect(track.body).toEqual(NOT_ALLOWED);
    expect(track.body).toEqual(session.body);
    // The refusal is readable by the refused page, so the snippet's onError can say why; it carries
    // nothing but the message.
    expect(track.headers.get('access-control-allow-origin')).toBe('https://evil.test');
    expect(session.headers.get('access-control-allow-origin')).toBe('https://evil.test');
    expect((await c.store.counts()).batches).toBe(0);

    expect((await c.post(TRACK, batch, { Origin: 'https://shop.test' })).status).toBe(200);
    // Without Origin (a server sending for its visitors) the project's list does not apply.
    expect((await c.post(TRACK, { ...batch, timer: 2 })).status).toBe(200);
    expect((await c.store.counts()).batches).toBe(2);
  });
});

describe('file modes', () => {
  const mode = (file: string) => statSync(file).mode & 0o777;

  sqliteIt(
    'keeps the database, its -wal and -shm files and secrets.json readable by the owner only, whatever the umask',
    async () => {
      // The umask can only take bits away: 0 shows what each file is created with.
      const umask = process.umask(0);
      try {
        c = await startCollector();
      } finally {
        process.umask(umask);
      }
      await c.session();
      const db = c.config.dbFile;
      expect(mode(db)).toBe(0o600);
      expect(mode(`${db}-wal`)).toBe(0o600);
      expect(mode(`${db}-shm`)).toBe(0o600);
      expect(mode(join(c.config.dataDir, 'secrets.json'))).toBe(0o600);
    },
  );

  it('tightens a database, its WAL files and secrets.json that an older version left readable by all', async () => {
    const dir = tempDir();
    const config = loadConfig({ SPOOR_DATA: dir });
    const secrets = join(dir, 'secrets.json');
    chmodSync(secrets, 0o644);
    // A database SQLite created itself (0644) with its WAL open in another connection.
    const old = new Database(config.dbFile);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    chmodSync(config.dbFile, 0o644);
    chmodSync(`${config.dbFile}-wal`, 0o644);
    chmodSync(`${config.dbFile}-shm`, 0o644);

    loadConfig({ SPOOR_DATA: dir });
    const store = openStore(config.dbFile);
    try {
      expect(mode(secrets)).toBe(0o600);
      expect(mode(config.dbFile)).toBe(0o600);
      expect(mode(`${config.dbFile}-wal`)).toBe(0o600);
      expect(mode(`${config.dbFile}-shm`)).toBe(0o600);
    } finally {
      await store.close();
      old.close();
    }
  });
});

describe('security headers', () => {
  it("sends the replay pages a policy that limits a recording's assets to the collector and the project's origins", async () => {
    c = await startCollector({
      SPOOR_ALLOWED_ORIGINS: 'https://shop.test,*,https://bad.test/path,https://a.test; script-src *',
    });
    for (const path of ['/dashboard', '/dashboard/', '/replay-test.html']) {
      const page = await send(c.url, path);
      expect(page.status).toBe(200);
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      const csp = directives(page.headers['content-security-policy']);
      expect(csp).toMatchObject({
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'connect-src': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
        'object-src': ["'none'"],
        'img-src': ["'self'", 'https://shop.test', 'data:', 'blob:'],
        'font-src': ["'self'", 'https://shop.test', 'data:'],
        'media-src': ["'self'", 'https://shop.test', 'blob:'],
        'style-src': ["'self'", 'https://shop.test', "'unsafe-inline'"],
      });
    }
  });

  it("sends the shop's pages their policy with frame-ancestors, and nosniff on every answer", async () => {
    c = await startCollector();
    const shop = await send(c.url, '/index.html');
    expect(shop.headers['x-frame-options']).toBe('DENY');
    expect(shop.headers['x-content-type-options']).toBe('nosniff');
    const csp = directives(shop.headers['content-security-policy']);
    expect(csp).toMatchObject({
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
      'object-src': ["'none'"],
    });
    // The same policy as the page's own <meta>, so the header takes nothing away from the shop.
    const meta = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(shop.body)?.[1] ?? '';
    const { 'frame-ancestors': _, ...headerRest } = csp;
    expect(headerRest).toEqual(directives(meta));

    expect((await send(c.url, '/shop.css')).headers['x-content-type-options']).toBe('nosniff');
    expect((await send(c.url, '/api/nothing')).headers['x-content-type-options']).toBe('nosniff');
    expect((await send(c.url, '/nothing-here')).headers['x-content-type-options']).toBe('nosniff');
  });

  it('puts only canonical http(s) origins into a policy, never a wildcard or another directive', () => {
    expect(
      policyOrigins([
        'https://shop.test',
        'http://localhost:3000',
        '*',
        'https://a.test; script-src *',
        'https://b.test/path',
        'javascript:alert(1)',
        'data:',
        "'unsafe-eval'",
        'https://shop.test',
      ]),
    ).toEqual(['https://shop.test', 'http://localhost:3000']);
    expect(policyOrigins(null)).toEqual([]);
    expect(directives(replayPolicy([]))['img-src']).toEqual(["'self'", 'data:', 'blob:']);
  });
});
