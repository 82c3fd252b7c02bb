// Frustration and failure signals counted per batch, visit and session; the list's signal and prefix
// filters; the overview endpoint; rounded seconds (docs/contract.md, "Events", "List sessions",
// "Overview").
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Collector, custom, startCollector, V1, visit } from './harness.js';

const SESSIONS = `${V1}/project/sessions`;
const VISITS = `${V1}/sessions/get-visits`;
const OVERVIEW = `${V1}/project/overview`;
const DEC_2026 = Date.UTC(2026, 11, 1, 9, 0, 0);
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const range = { start_date: '2026-11-30', end_date: '2026-12-02' };
const list = { ...range, sortKey: 'id', sortOrder: 'asc', filters: {} };

let c: Collector;
const track = (id: string, body: object) => c.post(`${V1}/track`, { sessionIdentifier: id, ...body });

/** 1: Chrome, rage + dead + error, a buy conversion, two timers summing to 14.2 s; 2: headless, a failed
 *  request, entered from a search engine, next day; 3: an iPhone, nothing wrong. */
async function seed(): Promise<void> {
  const t = DEC_2026;
  const one = await c.session({ url: 'https://shop.test/products?utm=x', userAgent: CHROME });
  expect(
    (
      await track(one, {
        timer: 4.1,
        events: [
          visit('https://shop.test/products?utm=x', t),
          custom('rage_click', { selector: 'button#pay', x: 1, y: 2, clicks: 3 }, t + 100),
          custom('rage_click', { selector: 'button#pay', x: 1, y: 2, clicks: 3 }, t + 2100),
          custom('dead_click', { selector: 'a#dead' }, t + 200),
          custom(
            'error',
            { kind: 'error', message: 'x', source: '', line: 1, column: 1, stack: '' },
            t + 300,
          ),
          custom('conversion', { type: 'click', goal: 'buy', target: '#buy' }, t + 400),
        ],
      })
    ).status,
  ).toBe(200);
  await track(one, { timer: 10.1, events: [visit('https://other.test/cart#top', t + 1000)] });
  c.clock.now += 86_400_000;
  const two = await c.session({
    url: 'https://shop.test/',
    referrer: 'https://www.search.test/q?s=1',
    userAgent: HEADLESS,
  });
  await track(two, {
    timer: 2,
    events: [
      visit('https://shop.test/', t + 86_400_000),
      custom(
        'request_failed',
        { method: 'GET', url: 'https://shop.test/api', status: 503, duration: 9 },
        t + 86_400_100,
      ),
    ],
  });
  const three = await c.session({ url: 'https://shop.test/', userAgent: IPHONE });
  await track(three, { timer: 1, events: [visit('https://shop.test/', t + 86_400_200)] });
}

beforeEach(async () => {
  c = await startCollector({}, { startAt: DEC_2026 });
  await seed();
});
afterEach(async () => {
  expect(c.errors).toEqual([]);
  await c.close();
});

describe('signal counts', () => {
  it('counts each signal tag per session and per visit, and rounds seconds to 0.1', async () => {
    const rows = (await c.read(SESSIONS, list)).body.data.data;
    expect(
      rows.map((r: Record<string, number>) => [
        r.id,
        r.rage_clicks,
        r.dead_clicks,
        r.errors,
        r.failed_requests,
      ]),
    ).toEqual([
      [1, 2, 1, 1, 0],
      [2, 0, 0, 0, 1],
      [3, 0, 0, 0, 0],
    ]);
    // 4.1 + 10.1 is 14.2 to a person and 14.199999999999999 to a float.
    expect(rows[0].time_spend).toBe(14.2);
    const answer = await c.read(VISITS, { session_ids: [1] });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const visits = answer.body.data;
    expect(visits.map((v: Record<string, number>) => [v.rage_clicks, v.dead_clicks, v.errors])).toEqual([
      [2, 1, 1],
      [0, 0, 0],
    ]);
  });

  it('counts a batch stored twice once', async () => {
    const id = await c.session({ url: 'https://shop.test/x' });
    const body = {
      timer: 1,
      events: [
        visit('https://shop.test/x', c.clock.now),
        custom('dead_click', { selector: 'a' }, c.clock.now + 1),
      ],
    };
    expect((await track(id, body)).status).toBe(200);
    expect((await track(id, body)).status).toBe(200);
    const rows = (await c.read(SESSIONS, { ...list, filters: { has_dead_clicks: true } })).body.data.data;
    expect(rows.map((r: Record<string, number>) => [r.id, r.dead_clicks])).toEqual([
      [1, 1],
      [4, 1],
    ]);
  });

  it('a visit that arrives late takes over its batches with their signals', async () => {
    const id = await c.session({ url: 'https://shop.test/y' });
    const t = c.clock.now;
    await track(id, { timer: 1, events: [visit('https://shop.test/y', t)] });
    // This batch belongs to the second visit, whose own batch is retried later.
    await track(id, { timer: 1, events: [custom('error', { message: 'e' }, t + 5000)] });
    await track(id, { timer: 1, events: [visit('https://shop.test/z', t + 4000)] });
    const visits = (await c.read(VISITS, { session_ids: [4] })).body.data;
    expect(visits.map((v: Record<string, unknown>) => [v.url, v.errors])).toEqual([
      ['https://shop.test/y', 0],
      ['https://shop.test/z', 1],
    ]);
  });
});

describe('list filters', () => {
  const ids = async (filters: object) =>
    (await c.read(SESSIONS, { ...list, filters })).body.data.data.map((s: { id: number }) => s.id);

  it('filters by each signal, with or without', async () => {
    expect(await ids({ has_rage_clicks: true })).toEqual([1]);
    expect(await ids({ has_dead_clicks: '1' })).toEqual([1]);
    expect(await ids({ has_errors: 'true' })).toEqual([1]);
    expect(await ids({ has_failed_requests: 1 })).toEqual([2]);
    expect(await ids({ has_errors: false })).toEqual([2, 3]);
    expect(await ids({ has_rage_clicks: true, has_failed_requests: true })).toEqual([]);
  });

  it('refuses a signal filter that is neither truthy nor falsy', async () => {
    const a = await c.read(SESSIONS, { ...list, filters: { has_errors: 'maybe' } });
    expect(a.status).toBe(422);
    expect(Object.keys(a.body.errors)).toEqual(['filters.has_errors']);
  });

  it('matches browser, OS and country by a case-insensitive prefix, wildcards taken literally', async () => {
    expect(await ids({ browser: 'chrome' })).toEqual([1, 2]);
    expect(await ids({ browser: 'CHROME H' })).toEqual([2]);
    expect(await ids({ browser: ['mobile saf', 'nothing'] })).toEqual([3]);
    expect(await ids({ platform_os: 'win' })).toEqual([1]);
    expect(await ids({ browser: '%' })).toEqual([]);
    expect(await ids({ browser: '_hrome' })).toEqual([]);
  });
});

describe('POST /project/overview', () => {
  it('answers sessions per day, pages with their origin, referrers, devices, browsers, goals and frustration', async () => {
    const a = await c.read(OVERVIEW, range);
    expect(a.status).toBe(200);
    expect(a.headers.get('x-ratelimit-limit')).toBe('60');
    const d = a.body.data;
    expect(d.start_date).toBe('2026-11-30 00:00:00');
    expect(d.end_date).toBe('2026-12-02 23:59:59');
    expect(d.totals).toEqual({
      sessions: 3,
      visits: 4,
      avg_time_spend: 5.7,
      converted_sessions: 1,
      conversion_rate: 0.333,
    });
    expect(d.per_day).toEqual([
      { day: '2026-11-30', sessions: 0, frustrated: 0 },
      { day: '2026-12-01', sessions: 1, frustrated: 1 },
      { day: '2026-12-02', sessions: 2, frustrated: 1 },
    ]);
    expect(d.top_pages).toEqual([
      { url: 'https://shop.test/', visits: 2, sessions: 2 },
      { url: 'https://other.test/cart', visits: 1, sessions: 1 },
      { url: 'https://shop.test/products', visits: 1, sessions: 1 },
    ]);
    expect(d.entry_pages).toEqual([
      { url: 'https://shop.test/', sessions: 2 },
      { url: 'https://shop.test/products', sessions: 1 },
    ]);
    expect(d.referrers).toEqual([
      { origin: '', sessions: 2 },
      { origin: 'https://www.search.test', sessions: 1 },
    ]);
    expect(d.devices).toEqual([
      { device: 'desktop', sessions: 2 },
      { device: 'mobile', sessions: 1 },
    ]);
    expect(d.browsers.map((b: { sessions: number }) => b.sessions)).toEqual([1, 1, 1]);
    expect(d.goals).toEqual([{ goal: 'buy', sessions: 1, rate: 0.333 }]);
    expect(d.frustration).toEqual({
      sessions: 2,
      rate: 0.667,
      rage_clicks: 1,
      dead_clicks: 1,
      errors: 1,
      failed_requests: 1,
    });
  });

  it('bounds the top lists by limit, and sees only the range', async () => {
    const a = await c.read(OVERVIEW, { start_date: '2026-12-02', end_date: '2026-12-02', limit: 1 });
    expect(a.body.data.totals.sessions).toBe(2);
    expect(a.body.data.top_pages).toEqual([{ url: 'https://shop.test/', visits: 2, sessions: 2 }]);
    expect(a.body.data.per_day).toHaveLength(1);
  });

  it('answers 422 with field errors for missing, malformed, reversed and too long ranges and limits', async () => {
    const errors = async (body: object) => (await c.read(OVERVIEW, body)).body.errors;
    expect(Object.keys(await errors({}))).toEqual(['start_date', 'end_date']);
    expect(Object.keys(await errors({ start_date: 'soon', end_date: '2026-12-02' }))).toEqual(['start_date']);
    expect(Object.keys(await errors({ start_date: '2026-12-02', end_date: '2026-12-01' }))).toEqual([
      'end_date',
    ]);
    expect(await errors({ start_date: '2025-01-01', end_date: '2026-12-01' })).toEqual({
      end_date: ['The end_date field must be at most 366 days after start_date.'],
    });
    expect(Object.keys(await errors({ ...range, limit: 51 }))).toEqual(['limit']);
    expect(Object.keys(await errors({ ...range, limit: 'ten' }))).toEqual(['limit']);
  });

  it('needs a token or a sign-in like every read endpoint', async () => {
    const a = await c.post(OVERVIEW, range);
    expect(a.status).toBe(401);
  });
});

describe('what the dashboard reads besides', () => {
  it("get-events' first page carries the irregular-traffic verdict, later pages do not need to", async () => {
    const a = await c.read(`${V1}/sessions/get-events`, { session_id: 2 });
    expect(a.status).toBe(200);
    expect(a.body.data.session.irregular_traffic).toEqual({
      is_irregular: true,
      reasons: expect.arrayContaining(['automation-user-agent']),
    });
    expect(a.body.data.session).not.toHaveProperty('ip_address');
    expect(a.body.data.session.failed_requests).toBe(1);
  });

  it('the QA page’s failing request always answers 503, reading nothing', async () => {
    const res = await fetch(`${c.url}/qa/fail`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: true, message: 'QA: this request always fails.' });
  });
});
