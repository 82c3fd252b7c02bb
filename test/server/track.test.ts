import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptString, generateKey, parseKey } from '../../server/crypto/encrypter.js';
import { mintIdentifier } from '../../server/crypto/identifier.js';
import { type Collector, custom, startCollector, V1, visit } from './harness.js';

const TRACK = `${V1}/track`;
let c: Collector;

// The API document's example body carries timestamp 1706000000000; events must fall within their
// session's lifetime, so the collector's clock starts there.
const T0 = 1_706_000_000_000;

beforeEach(async () => {
  c = await startCollector({}, { startAt: T0 });
});
afterEach(async () => {
  await c.close();
});

describe('POST /track', () => {
  it("accepts the API document's example body once the identifier is real", async () => {
    const sessionIdentifier = await c.session();
    const a = await c.post(
      TRACK,
      {
        sessionIdentifier,
        timer: 5.2,
        events: [{ type: 3, data: { source: 1 }, timestamp: 1706000000000 }],
        userAgent: 'string',
      },
      // The document's sample sends a bearer token even though /track is public: it is ignored.
      { Authorization: 'Bearer YOUR_API_TOKEN', Accept: 'application/json' },
    );
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: true });
    expect(a.headers.get('x-ratelimit-limit')).toBe('3600');
    expect(a.headers.get('x-ratelimit-remaining')).toBe('3599');
    expect(a.headers.get('cache-control')).toBeNull();
    expect((await c.store.counts()).batches).toBe(1);
  });

  it('stores gzip bodies recognised by Content-Encoding or by the magic bytes alone', async () => {
    const sessionIdentifier = await c.session();
    const body = (n: number) =>
      gzipSync(JSON.stringify({ sessionIdentifier, events: [visit(`https://shop.test/${n}`, T0 + n)] }));
    const byHeader = await c.post(TRACK, body(1), {
      'Content-Type': 'text/plain',
      'Content-Encoding': 'gzip',
    });
    const byMagic = await c.post(TRACK, body(2), { 'Content-Type': 'text/plain' });
    expect([byHeader.status, byMagic.status]).toEqual([200, 200]);
    expect(await c.store.counts()).toMatchObject({ batches: 2, visits: 2 });
  });

  it('stores a duplicate body once and answers 200 both times, compressed or not', async () => {
    const sessionIdentifier = await c.session();
    const json = JSON.stringify({ sessionIdentifier, timer: 1, events: [visit('https://shop.test/', T0)] });
    const first = await c.post(TRACK, json);
    const again = await c.post(TRACK, json);
    const gzipped = await c.post(TRACK, gzipSync(json), { 'Content-Type': 'text/plain' });
    expect([first.status, again.status, gzipped.status]).toEqual([200, 200, 200]);
    expect(await c.store.counts()).toMatchObject({ batches: 1, visits: 1 });
  });

  it('answers 422 on sessionIdentifier for a tampered identifier and stores nothing', async () => {
    const id = await c.session();
    const env = JSON.parse(Buffer.from(id, 'base64').toString());
    env.mac = env.mac.replace(/^./, (ch: string) => (ch === 'a' ? 'b' : 'a'));
    const a = await c.post(TRACK, {
      sessionIdentifier: Buffer.from(JSON.stringify(env)).toString('base64'),
      timer: 1,
    });
    expect(a.status).toBe(422);
    expect(a.body).toEqual({
      message: 'The session identifier is invalid or has expired.',
      errors: { sessionIdentifier: ['The session identifier is invalid or has expired.'] },
    });
    expect((await c.store.counts()).batches).toBe(0);
  });

  it("answers 422 for another collector's identifier and for one naming another project", async () => {
    await c.session();
    const otherKey = mintIdentifier({ p: c.project.id, s: 1, w: 1, iat: 0 }, parseKey(generateKey()));
    const other = await c.store.ensureProject({
      publicKey: 'pk_other',
      apiToken: 'other-token',
      name: 'Other',
      allowedOrigins: null,
    });
    const otherProject = mintIdentifier({ p: other.id, s: 1, w: 1, iat: 0 }, c.config.key);
    const plainString = encryptString('not json', c.config.key);
    for (const sessionIdentifier of [otherKey, otherProject, plainString, 'garbage']) {
      const a = await c.post(TRACK, { sessionIdentifier, events: [visit('https://x.test/', 1)] });
      expect(a.status).toBe(422);
      expect(Object.keys(a.body.errors)).toEqual(['sessionIdentifier']);
    }
    expect(await c.store.counts()).toMatchObject({ batches: 0, visits: 0 });
  });

  it('answers 422 once the session has been idle over 35 minutes or is over 24 hours old', async () => {
    const start = c.clock.now;
    const idle = await c.session();
    c.clock.now = start + 34 * 60_000;
    expect((await c.post(TRACK, { sessionIdentifier: idle, timer: 1 })).status).toBe(200);
    c.clock.now += 36 * 60_000;
    expect((await c.post(TRACK, { sessionIdentifier: idle, timer: 2 })).status).toBe(422);

    const old = await c.session();
    const born = c.clock.now;
    // active every 20 minutes, still expired after 24 hours
    for (let t = born + 20 * 60_000; t < born + 24 * 3600_000; t += 20 * 60_000) {
      c.clock.now = t;
      expect((await c.post(TRACK, { sessionIdentifier: old, timer: t % 1000 })).status).toBe(200);
    }
    const stored = (await c.store.counts()).batches;
    c.clock.now = born + 24 * 3600_000 + 60_000;
    expect((await c.post(TRACK, { sessionIdentifier: old, timer: 1 })).status).toBe(422);
    expect((await c.store.counts()).batches).toBe(stored);
  });

  it('answers 422 with Laravel-style messages for malformed JSON and invalid fields', async () => {
    const broken = await c.post(TRACK, '{"sessionIdentifier": ');
    expect(broken.status).toBe(422);
    expect(broken.body.errors).toHaveProperty('body');

    const invalid = await c.post(TRACK, { timer: -1, events: 'x', userAgent: 5 });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toEqual({
      message: 'The sessionIdentifier field is required. (and 3 more errors)',
      errors: {
        sessionIdentifier: ['The sessionIdentifier field is required.'],
        timer: ['The timer field must be at least 0.'],
        events: ['The events field must be an array.'],
        userAgent: ['The userAgent field must be a string.'],
      },
    });
    const one = await c.post(TRACK, {
      sessionIdentifier: await c.session(),
      events: [{ type: 3, data: {} }],
    });
    expect(one.body.message).toBe('The events.0.timestamp field is required.');
    expect((await c.store.counts()).batches).toBe(0);
  });

  it('answers 413 to a gzip bomb and to an oversized body, 422 to 1000-deep JSON, storing nothing', async () => {
    const sessionIdentifier = await c.session();
    // 64 MiB of spaces compresses to about 64 KiB: small on the wire, over the 8 MiB inflate limit.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(c.config.limits.maxBytes);
    const a = await c.post(TRACK, bomb, { 'Content-Type': 'text/plain' });
    expect(a.status).toBe(413);
    expect(a.body).toEqual({ error: true, message: 'The request body is too large.' });

    const big = JSON.stringify({
      sessionIdentifier,
      events: [custom('event', { name: 'x'.repeat(9 * 1024 * 1024) }, T0)],
    });
    expect((await c.post(TRACK, big)).status).toBe(413);

    const deep = `{"sessionIdentifier": ${JSON.stringify(sessionIdentifier)}, "events": [${'['.repeat(1000)}${']'.repeat(1000)}]}`;
    const d = await c.post(TRACK, deep);
    expect(d.status).toBe(422);
    expect(d.body.errors.body[0]).toMatch(/nested/);
    expect((await c.store.counts()).batches).toBe(0);
    expect(c.errors).toEqual([]);
  });

  it('attributes batches to visits per tab and sums the largest timer of each visit', async () => {
    const id = await c.session();
    const t = T0;
    const send = (body: object) => c.post(TRACK, { sessionIdentifier: id, ...body });
    expect(
      (
        await send({
          timer: 1,
          events: [visit('https://shop.test/a', t), { type: 3, data: { source: 2 }, timestamp: t + 5 }],
        })
      ).status,
    ).toBe(200);
    await send({ timer: 4.5, events: [{ type: 3, data: { source: 5 }, timestamp: t + 4000 }] });
    await send({ timer: 6 }); // a timer update with no events goes to the tab's latest visit
    await send({
      timer: 2,
      events: [
        visit('https://shop.test/b', t + 9000, 'push'),
        custom('conversion', { type: 'url', goal: 'b', target: '/b' }, t + 9001),
      ],
    });
    // a late retry of the first visit's batch still lands on the first visit, not the latest
    await send({ timer: 3, events: [{ type: 3, data: { source: 1 }, timestamp: t + 3000 }] });

    const visits = await c.read(`${V1}/sessions/get-visits`, { session_ids: [1] });
    expect(visits.body.data.map((v: { url: string; time_spend: number }) => [v.url, v.time_spend])).toEqual([
      ['https://shop.test/a', 6],
      ['https://shop.test/b', 2],
    ]);
    const sessions = await c.read(`${V1}/project/sessions`, {
      start_date: '2000-01-01 00:00:00',
      end_date: '2100-01-01 00:00:00',
      sortKey: 'id',
      sortOrder: 'asc',
      filters: {},
    });
    expect(sessions.body.data.data[0]).toMatchObject({
      time_spend: 8,
      visits_count: 2,
      conversions_count: 1,
    });
    const conv = await c.read(`${V1}/sessions/get-conversions`, { session_ids: [1] });
    expect(conv.body.data[0]).toMatchObject({
      type: 'url',
      goal: 'b',
      target: '/b',
      visit_id: visits.body.data[1].id,
    });
  });

  it('lets a visit that arrives after its later batches claim them back', async () => {
    const id = await c.session();
    const t = T0;
    await c.post(TRACK, {
      sessionIdentifier: id,
      timer: 9,
      events: [{ type: 3, data: { source: 2 }, timestamp: t + 500 }],
    });
    await c.post(TRACK, { sessionIdentifier: id, timer: 1, events: [visit('https://shop.test/', t)] });
    const visits = await c.read(`${V1}/sessions/get-visits`, { session_ids: [1] });
    expect(visits.body.data).toHaveLength(1);
    expect(visits.body.data[0].time_spend).toBe(9);
  });

  it('answers CORS preflights for allowed origins with a one-day max age and exposes the rate headers', async () => {
    await c.close();
    c = await startCollector({ SPOOR_ALLOWED_ORIGINS: 'https://shop.test' });
    const pre = await fetch(c.url + TRACK, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.test',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.test');
    expect(pre.headers.get('access-control-max-age')).toBe('86400');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Content-Encoding/);
    const a = await c.post(
      TRACK,
      { sessionIdentifier: await c.session({}, { Origin: 'https://shop.test' }), timer: 1 },
      { Origin: 'https://shop.test' },
    );
    expect(a.status).toBe(200);
    expect(a.headers.get('access-control-allow-origin')).toBe('https://shop.test');
    expect(a.headers.get('access-control-expose-headers')).toBe(
      'Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
    );
    expect(a.headers.get('vary')).toBe('Origin');
    const evil = await c.post(TRACK, { timer: 1 }, { Origin: 'https://evil.test' });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the 3601st request in a minute with 429, Retry-After and X-RateLimit-Reset', async () => {
    let next = 0;
    const statuses: number[] = [];
    const worker = async () => {
      while (next < 3600) {
        next++;
        const res = await fetch(c.url + TRACK, { method: 'POST', body: '{}' });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(statuses.filter((s) => s === 422)).toHaveLength(3600);
    const a = await c.post(TRACK, {});
    expect(a.status).toBe(429);
    expect(a.body).toEqual({ error: true, message: 'Too Many Attempts.' });
    expect(a.headers.get('x-ratelimit-limit')).toBe('3600');
    expect(a.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(a.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(Number(a.headers.get('x-ratelimit-reset'))).toBe(Math.ceil((c.clock.now + 60_000) / 1000));
    // a new window opens a minute later
    c.clock.now += 60_000;
    expect((await c.post(TRACK, {})).status).toBe(422);
  });
});
