// Rate limits shared through Redis (docs/contract.md, "Limits"; README, "Running on PostgreSQL and
// Redis"): two collector instances spend one budget, the headers stay exact, and with Redis down each
// instance falls back to its own budget instead of failing or letting everything through. A real Redis
// (test/support/postgres.ts); it runs in the server-pg project, each test under a key prefix of its own.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, createSharedRateLimiter, redisAnswers } from '../../server/http/rate-limit.js';
import { freePort } from '../support/ports.js';
import { TEST_REDIS_URL } from '../support/postgres.js';
import { type Collector, ENGINE, startCollector, V1 } from './harness.js';

const onRedis = describe.skipIf(ENGINE !== 'postgres');
const LIMIT = 5;

let open: { collectors: Collector[]; redis: Redis[]; prefix: string } = {
  collectors: [],
  redis: [],
  prefix: '',
};

afterEach(async () => {
  for (const c of open.collectors) await c.close();
  const [first] = open.redis;
  if (first && (await redisAnswers(first))) {
    const keys = await first.keys(`${open.prefix}:*`);
    if (keys.length > 0) await first.del(...keys);
  }
  for (const r of open.redis) r.disconnect();
  open = { collectors: [], redis: [], prefix: '' };
});

/** A collector whose limits live in the Redis at `url` under the test's prefix. */
async function instance(url: string): Promise<Collector> {
  const redis = connectRedis(url, () => undefined);
  open.redis.push(redis);
  const c = await startCollector(
    { SPOOR_TRACK_LIMIT: String(LIMIT) },
    {
      app: {
        limiter: (name, limit) => createSharedRateLimiter({ redis, prefix: open.prefix, name, limit }),
        redisHealthy: () => redisAnswers(redis),
      },
    },
  );
  open.collectors.push(c);
  return c;
}

const track = (c: Collector) => c.post(`${V1}/track`, { sessionIdentifier: 'x', events: [] });

onRedis('rate limits shared through Redis', () => {
  it('counts one budget across instances, with exact X-RateLimit-* and Retry-After headers', async () => {
    open.prefix = `spoor-test-${randomBytes(6).toString('hex')}`;
    const [a, b] = [await instance(TEST_REDIS_URL), await instance(TEST_REDIS_URL)] as [Collector, Collector];
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answers = [];
    for (let i = 0; i < LIMIT + 2; i++) answers.push(await track(i % 2 === 0 ? a : b));
    // Not 429 until the budget is spent, across both; then 429 from either.
    expect(answers.map((x) => x.status === 429)).toEqual([false, false, false, false, false, true, true]);
    expect(answers.map((x) => x.headers.get('x-ratelimit-remaining'))).toEqual([
      '4',
      '3',
      '2',
      '1',
      '0',
      '0',
      '0',
    ]);
    for (const x of answers) expect(x.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
    const refused = answers[5] as (typeof answers)[number];
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const reset = Number(refused.headers.get('x-ratelimit-reset'));
    expect(Math.abs(reset - (Math.floor(Date.now() / 1000) + retryAfter))).toBeLessThanOrEqual(2);
    expect(answers[0]?.headers.get('retry-after')).toBeNull();
    expect(refused.body).toEqual({ error: true, message: 'Too Many Attempts.' });
  });

  it('falls back to each instance’s own budget while Redis is down, and says so on /readyz', async () => {
    open.prefix = `spoor-test-${randomBytes(6).toString('hex')}`;
    // Nothing listens on this port: Redis is "down" from the start.
    const down = `redis://127.0.0.1:${await freePort()}`;
    const [a, b] = [await instance(down), await instance(down)] as [Collector, Collector];
    const fromA = [];
    for (let i = 0; i < LIMIT + 1; i++) fromA.push((await track(a)).status);
    // Served (422: the identifier is made up), never a 500, and limited by A's own window.
    expect(fromA).toEqual([422, 422, 422, 422, 422, 429]);
    expect((await track(b)).status).toBe(422);
    const ready = await fetch(`${a.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ok',
      database: 'ok',
      redis: 'unavailable',
      draining: false,
    });
    expect(a.errors).toEqual([]);
  });
});

describe('GET /readyz', () => {
  it('answers 200 with the database up and no Redis configured, and 503 while draining', async () => {
    let draining = false;
    const c = await startCollector({}, { app: { draining: () => draining } });
    open.collectors.push(c);
    const ok = await fetch(`${c.url}/readyz`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.json()).toEqual({ status: 'ok', database: 'ok', redis: 'none', draining: false });
    draining = true;
    const stopping = await fetch(`${c.url}/readyz`);
    expect(stopping.status).toBe(503);
    expect(await stopping.json()).toEqual({
      status: 'unavailable',
      database: 'ok',
      redis: 'none',
      draining: true,
    });
    await c.store.close();
    const down = await fetch(`${c.url}/healthz`);
    expect(down.status).toBe(503);
  });
});
