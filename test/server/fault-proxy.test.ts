// The e2e fault proxy (e2e/fault-proxy.ts) in front of the real collector: it must forward what the
// snippet sends and what the collector answers unchanged, or the fault tests would prove delivery
// through something other than the collector; and its faults must do what they say.
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../e2e/fault-proxy.js';
import { all } from '../../server/store/sql.js';
import { answerOf, type Collector, startCollector, V1, visit } from './harness.js';

const TRACK = `${V1}/track`;
let c: Collector;
let proxy: FaultProxy;
// The proxy's clock, apart from the collector's: a fault's duration is the proxy's business.
const clock = { now: 0 };

async function start(env: Record<string, string> = {}): Promise<void> {
  c = await startCollector(env);
  clock.now = 1_000_000;
  proxy = await startFaultProxy(c.url, { now: () => clock.now });
}

beforeEach(() => start());
afterEach(async () => {
  await proxy.close();
  await c.close();
});

/** A gzip /track body of one visit, as the snippet sends it (text/plain, so no preflight). */
async function trackBody(n: number): Promise<Buffer> {
  const sessionIdentifier = await c.session();
  return gzipSync(
    JSON.stringify({ sessionIdentifier, timer: 1, events: [visit(`https://shop.test/${n}`, c.clock.now)] }),
  );
}

function postThroughProxy(path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return fetch(proxy.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

async function storedBlobs(): Promise<Buffer[]> {
  const rows = await c.store.engine.read(() =>
    all<{ events: Buffer }>('SELECT events FROM batches ORDER BY id'),
  );
  return rows.map((row) => Buffer.from(row.events));
}

describe('the e2e fault proxy', () => {
  it("forwards a gzip body byte for byte and the collector's answer with its CORS and rate headers", async () => {
    const body = await trackBody(1);
    const origin = proxy.url;
    const a = await answerOf(
      await postThroughProxy(TRACK, body, { 'Content-Encoding': 'gzip', Origin: origin }),
    );
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: true });
    // The collector saw the proxy's Host, so the page's origin is its own and CORS answers for it.
    expect(a.headers.get('access-control-allow-origin')).toBe(origin);
    expect(a.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(a.headers.get('x-ratelimit-limit')).toBe('3600');
    expect(a.headers.get('x-ratelimit-remaining')).toBe('3599');
    expect(a.headers.get('x-content-type-options')).toBe('nosniff');
    // An added Cache-Control: no-store would cost keepalive quota (docs/contract.md, "Keepalive quota").
    expect(a.headers.get('cache-control')).toBeNull();
    // The collector keeps a gzip body as it came: these are the bytes the page sent.
    expect(await storedBlobs()).toEqual([body]);
    expect(proxy.stats()).toEqual({ forwarded: 1, answered: 0, dropped: 0 });
    expect(proxy.bodies()).toEqual([body]);
  });

  it('forwards a preflight and its answer', async () => {
    const res = await fetch(proxy.url + TRACK, {
      method: 'OPTIONS',
      headers: {
        Origin: proxy.url,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type, content-encoding',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(proxy.url);
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toContain('Content-Encoding');
  });

  it("passes the collector's own 429 through with Retry-After and X-RateLimit-Reset", async () => {
    await proxy.close();
    await c.close();
    await start({ SPOOR_TRACK_LIMIT: '1' });
    expect((await postThroughProxy(TRACK, '{}')).status).toBe(422);
    const a = await answerOf(await postThroughProxy(TRACK, '{}'));
    expect(a.status).toBe(429);
    expect(a.body).toEqual({ error: true, message: 'Too Many Attempts.' });
    expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(a.headers.get('x-ratelimit-limit')).toBe('1');
    expect(a.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(a.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
  });

  it('answers the fault status to /track for its duration without the collector seeing the body, then forwards again', async () => {
    const body = await trackBody(2);
    proxy.fail({ kind: 'status', status: 500 }, 20_000);
    const failed = await answerOf(await postThroughProxy(TRACK, body));
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: true, message: 'Server Error' });
    expect((await c.store.counts()).batches).toBe(0);
    // Only /track is hit: a session can still start.
    expect(
      (await postThroughProxy(`${V1}/session`, JSON.stringify({ project: c.project.public_key }))).status,
    ).toBe(200);
    clock.now += 19_999;
    expect((await postThroughProxy(TRACK, body)).status).toBe(500);
    clock.now += 1;
    expect((await postThroughProxy(TRACK, body)).status).toBe(200);
    expect((await c.store.counts()).batches).toBe(1);
    expect(proxy.stats()).toMatchObject({ answered: 2 });
  });

  it('answers a 503 fault with the Retry-After it is given, and stops when cleared', async () => {
    const body = await trackBody(3);
    proxy.fail({ kind: 'status', status: 503, headers: { 'Retry-After': '7' } }, 60_000);
    const busy = await answerOf(await postThroughProxy(TRACK, body, { Origin: proxy.url }));
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('7');
    // A cross-origin page must be able to read the status and Retry-After, as from the collector.
    expect(busy.headers.get('access-control-allow-origin')).toBe(proxy.url);
    expect(busy.headers.get('access-control-expose-headers')).toContain('Retry-After');
    proxy.clear();
    expect((await postThroughProxy(TRACK, body)).status).toBe(200);
  });

  it('drops a request before the collector sees it: the client meets a network error, nothing is stored', async () => {
    const body = await trackBody(4);
    proxy.fail({ kind: 'drop-request' }, 1000);
    await expect(postThroughProxy(TRACK, body)).rejects.toThrow();
    expect((await c.store.counts()).batches).toBe(0);
    expect(proxy.stats()).toMatchObject({ dropped: 1, forwarded: 0 });
  });

  it('drops the answer of a stored batch: the client meets a network error, and its retry is stored once', async () => {
    const body = await trackBody(5);
    proxy.fail({ kind: 'drop-answer' }, 1000);
    await expect(postThroughProxy(TRACK, body)).rejects.toThrow();
    expect((await c.store.counts()).batches).toBe(1);
    clock.now += 1000;
    const retry = await answerOf(await postThroughProxy(TRACK, body));
    expect(retry.status).toBe(200);
    expect((await c.store.counts()).batches).toBe(1);
    expect(proxy.stats()).toEqual({ forwarded: 1, answered: 0, dropped: 1 });
  });
});
