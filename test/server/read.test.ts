import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readIdentifier } from '../../server/crypto/identifier.js';
import { type Collector, custom, startCollector, V1, visit } from './harness.js';

const SESSIONS = `${V1}/project/sessions`;
const VISITS = `${V1}/sessions/get-visits`;
const CONVERSIONS = `${V1}/sessions/get-conversions`;
const EVENTS = `${V1}/sessions/get-events`;
const JAN_2026 = Date.UTC(2026, 0, 10, 12, 0, 0);
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36';

const seedsQuery = {
  start_date: '2026-01-01 00:00:00',
  end_date: '2026-01-31 23:59:59',
  sortKey: 'created_at',
  sortOrder: 'desc',
  read_status: 'unread',
  filters: {},
};

let c: Collector;

/** Three sessions in January 2026: 1 Chrome with a conversion, 2 Firefox, 3 headless with regular clicks. */
async function seed(): Promise<void> {
  const track = (id: string, body: object) => c.post(`${V1}/track`, { sessionIdentifier: id, ...body });
  const t = JAN_2026;
  const one = await c.session({ url: 'https://shop.test/products', userAgent: CHROME });
  await track(one, {
    timer: 12,
    events: [
      visit('https://shop.test/products', t),
      { type: 3, data: { source: 2, type: 2 }, timestamp: t + 1200 },
      custom('conversion', { type: 'click', goal: 'buy', target: '#buy' }, t + 1300),
      custom(
        'web-vital',
        { name: 'LCP', value: 1200, rating: 'good', delta: 1200, id: 'v1', navigationType: 'navigate' },
        t + 1400,
      ),
      custom('event', { name: 'added', parameters: { sku: 1 } }, t + 1500),
    ],
  });
  c.clock.now += 60_000;
  const two = await c.session({ url: 'https://shop.test/blog', userAgent: FIREFOX });
  await track(two, {
    timer: 3,
    events: [
      visit('https://shop.test/blog', t + 60_000),
      { type: 3, data: { source: 3 }, timestamp: t + 61_000 },
    ],
  });
  c.clock.now += 60_000;
  const three = await c.session({ url: 'https://shop.test/', userAgent: HEADLESS });
  const clicks = Array.from({ length: 12 }, (_, i) => ({
    type: 3,
    data: { source: 2, type: 2 },
    timestamp: t + 120_000 + i * 100,
  }));
  await track(three, { timer: 1, events: [visit('https://shop.test/', t + 120_000), ...clicks] });
}

beforeEach(async () => {
  c = await startCollector({}, { startAt: JAN_2026 });
  await seed();
});
afterEach(async () => {
  expect(c.errors).toEqual([]);
  await c.close();
});

describe('POST /project/sessions', () => {
  it("answers the API document's example query with Laravel's paginator", async () => {
    const a = await c.read(SESSIONS, seedsQuery);
    expect(a.status).toBe(200);
    expect(a.headers.get('x-ratelimit-limit')).toBe('60');
    expect(a.headers.get('x-ratelimit-remaining')).toBe('59');
    expect(Object.keys(a.body)).toEqual(['error', 'data', 'message']);
    expect(Object.keys(a.body.data).sort()).toEqual(
      [
        'current_page',
        'data',
        'first_page_url',
        'from',
        'last_page',
        'last_page_url',
        'links',
        'next_page_url',
        'path',
        'per_page',
        'prev_page_url',
        'to',
        'total',
      ].sort(),
    );
    expect(a.body.data.data.map((s: { id: number }) => s.id)).toEqual([3, 2, 1]);
    expect(a.body.data).toMatchObject({
      current_page: 1,
      from: 1,
      to: 3,
      total: 3,
      last_page: 1,
      per_page: 15,
      next_page_url: null,
      prev_page_url: null,
    });
    const row = a.body.data.data[2];
    expect(row).toMatchObject({
      id: 1,
      browser: 'Chrome',
      device: 'desktop',
      platform_os: 'Windows',
      country: null,
      time_spend: 12,
      read_status: 'unread',
      visits_count: 1,
      conversions_count: 1,
      entry_url: 'https://shop.test/products',
      created_at: '2026-01-10 12:00:00',
    });
    expect(row).not.toHaveProperty('ip_address');
    expect(row).not.toHaveProperty('irregular_traffic');
  });

  it('pages with working page links labelled as Laravel labels them', async () => {
    const first = await c.read(SESSIONS, { ...seedsQuery, sortOrder: 'asc', per_page: '2' });
    expect(first.body.data).toMatchObject({ total: 3, last_page: 2, from: 1, to: 2, per_page: 2 });
    expect(first.body.data.path).toBe(`${c.url}${SESSIONS}`);
    expect(first.body.data.links).toEqual([
      { url: null, label: '&laquo; Previous', page: null, active: false },
      { url: `${c.url}${SESSIONS}?page=1`, label: '1', page: 1, active: true },
      { url: `${c.url}${SESSIONS}?page=2`, label: '2', page: 2, active: false },
      { url: `${c.url}${SESSIONS}?page=2`, label: 'Next &raquo;', page: 2, active: false },
    ]);
    const nextUrl = new URL(first.body.data.next_page_url);
    const second = await c.read(nextUrl.pathname + nextUrl.search, {
      ...seedsQuery,
      sortOrder: 'asc',
      per_page: '2',
    });
    expect(second.body.data).toMatchObject({ current_page: 2, from: 3, to: 3 });
    expect(second.body.data.data.map((s: { id: number }) => s.id)).toEqual([3]);
  });

  it('sorts on every allowed key and filters on each supported field', async () => {
    for (const sortKey of ['id', 'browser', 'device', 'platform_os', 'country', 'time_spend', 'created_at']) {
      const a = await c.read(SESSIONS, { ...seedsQuery, sortKey, sortOrder: 'asc' });
      expect(a.status).toBe(200);
    }
    c.clock.now += 60_000; // a new rate window: 60 reads per minute
    const ids = async (filters: object, extra: object = {}) =>
      (
        await c.read(SESSIONS, { ...seedsQuery, sortKey: 'time_spend', sortOrder: 'desc', filters, ...extra })
      ).body.data.data.map((s: { id: number }) => s.id);
    expect(await ids({})).toEqual([1, 2, 3]);
    expect(await ids({ browser: 'firefox' })).toEqual([2]);
    // A prefix, ignoring case: "Chrome" finds "Chrome Headless" too.
    expect(await ids({ browser: ['Chrome', 'Firefox'] })).toEqual([1, 2, 3]);
    expect(await ids({ browser: ['Chrome ', 'Firefox'] })).toEqual([2, 3]);
    expect(await ids({ device: 'desktop', platform_os: 'Linux' })).toEqual([2, 3]);
    expect(await ids({ url: 'blog' })).toEqual([2]);
    expect(await ids({ url: '%' })).toEqual([]);
    expect(await ids({ min_time_spend: 3 })).toEqual([1, 2]);
    expect(await ids({ has_conversions: true })).toEqual([1]);
    expect(await ids({ has_conversions: '0' })).toEqual([2, 3]);
    expect(await ids({ country: 'NL' })).toEqual([]);
    expect(await ids({}, { start_date: '2026-01-10 12:00:30', end_date: '2026-01-10 12:01:30' })).toEqual([
      2,
    ]);
  });

  it('shows IP addresses and the irregular-traffic verdict with reasons only when asked', async () => {
    const a = await c.read(SESSIONS, {
      ...seedsQuery,
      sortOrder: 'asc',
      include_ip_addresses: '1',
      check_irregular_traffic: 'true',
    });
    const rows = a.body.data.data;
    expect(rows[0].ip_address).toBe('127.0.0.1');
    expect(rows[0].irregular_traffic).toEqual({ is_irregular: false, reasons: [] });
    expect(rows[2].irregular_traffic).toEqual({
      is_irregular: true,
      reasons: ['automation-user-agent', 'regular-input-timing'],
    });
  });

  it('filters on read status, and get-events marks a session read', async () => {
    const events = await c.read(EVENTS, { session_id: 1 });
    expect(events.status).toBe(200);
    expect(events.body.data.session).toMatchObject({ id: 1, read_status: 'read' });
    const unread = await c.read(SESSIONS, seedsQuery);
    expect(unread.body.data.data.map((s: { id: number }) => s.id)).toEqual([3, 2]);
    const read = await c.read(SESSIONS, { ...seedsQuery, read_status: 'read' });
    expect(read.body.data.data.map((s: { id: number }) => s.id)).toEqual([1]);
  });

  it('answers 422 for missing fields, SQL in the sort key and unknown or hostile filters, touching nothing', async () => {
    const empty = await c.read(SESSIONS, {});
    expect(empty.status).toBe(422);
    expect(empty.body.message).toBe('The start_date field is required. (and 4 more errors)');
    expect(Object.keys(empty.body.errors)).toEqual([
      'start_date',
      'end_date',
      'sortKey',
      'sortOrder',
      'filters',
    ]);

    const sql = await c.read(SESSIONS, {
      ...seedsQuery,
      sortKey: 'id; DROP TABLE sessions; --',
      sortOrder: 'asc, (SELECT 1)',
    });
    expect(sql.status).toBe(422);
    expect(sql.body.errors).toEqual({
      sortKey: ['The selected sortKey is invalid.'],
      sortOrder: ['The selected sortOrder is invalid.'],
    });

    const filters = await c.read(SESSIONS, {
      ...seedsQuery,
      filters: { "browser = 'x' OR 1=1 --": 'x', device: 'toaster' },
    });
    expect(filters.status).toBe(422);
    expect(filters.body.message).toBe(
      "The filters.browser = 'x' OR 1=1 -- filter is not supported. (and 1 more error)",
    );
    const injected = await c.read(SESSIONS, {
      ...seedsQuery,
      filters: { browser: "x' OR '1'='1", url: "%' OR 1=1 --" },
    });
    expect(injected.body.data.data).toEqual([]);

    const dates = await c.read(SESSIONS, {
      ...seedsQuery,
      start_date: '2026-02-30',
      end_date: '2025-01-01',
      per_page: '500',
    });
    expect(dates.body.errors).toEqual({
      start_date: ['The start_date field must be a valid date.'],
      per_page: ['The per_page field must not be greater than 100.'],
    });
    expect((await c.store.counts()).sessions).toBe(3);
  });

  it('answers 401 without a token or with a wrong one', async () => {
    const none = await c.post(SESSIONS, seedsQuery);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: true, message: 'Unauthenticated.' });
    expect(none.headers.get('x-ratelimit-limit')).toBe('60');
    const wrong = await c.read(SESSIONS, seedsQuery, 'not-the-token');
    expect(wrong.status).toBe(401);
  });

  it('answers the 61st read in a minute with 429 and its headers', async () => {
    for (let i = 0; i < 60; i++) expect((await c.read(SESSIONS, seedsQuery)).status).toBe(200);
    const a = await c.read(SESSIONS, seedsQuery);
    expect(a.status).toBe(429);
    expect(a.body).toEqual({ error: true, message: 'Too Many Attempts.' });
    expect(a.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(a.headers.get('retry-after')).toBe('60');
    expect(a.headers.get('x-ratelimit-reset')).toBe(String(Math.ceil((c.clock.now + 60_000) / 1000)));
  });

  it("shows only the token's own project", async () => {
    await c.store.ensureProject({
      publicKey: 'pk_other',
      apiToken: 'other-token',
      name: 'Other',
      allowedOrigins: null,
    });
    const a = await c.read(SESSIONS, seedsQuery, 'other-token');
    expect(a.body.data.total).toBe(0);
  });
});

describe('POST /sessions/get-visits and /sessions/get-conversions', () => {
  it("answer the API documents' example bodies", async () => {
    const visits = await c.read(VISITS, {
      key: 'list',
      start_date: '2026-01-01 00:00:00',
      end_date: '2026-01-31 23:59:59',
      session_ids: [1, 2, 3],
      visit_ids: [10, 20],
    });
    expect(visits.status).toBe(200);
    expect(visits.body).toEqual({ error: false, data: [] }); // no visits 10 or 20
    const all = await c.read(VISITS, {
      key: 'list',
      start_date: '2026-01-01 00:00:00',
      end_date: '2026-01-31 23:59:59',
      session_ids: [1, 2, 3],
    });
    expect(all.body.data).toHaveLength(3);
    expect(all.body.data[0]).toEqual({
      id: 1,
      session_id: 1,
      tab: 1,
      url: 'https://shop.test/products',
      title: 'Page',
      referrer: '',
      navigation: 'load',
      time_spend: 12,
      started_at: JAN_2026,
      created_at: '2026-01-10 12:00:00',
      rage_clicks: 0,
      dead_clicks: 0,
      errors: 0,
      failed_requests: 0,
      vitals: [
        {
          name: 'LCP',
          value: 1200,
          rating: 'good',
          delta: 1200,
          id: 'v1',
          navigation_type: 'navigate',
          created_at: '2026-01-10 12:00:00',
        },
      ],
    });
    const conversions = await c.read(CONVERSIONS, {
      key: 'list',
      start_date: '2026-01-01 00:00:00',
      end_date: '2026-01-31 23:59:59',
      session_ids: [1, 2, 3],
      conversion_types: ['click', 'url'],
    });
    expect(conversions.status).toBe(200);
    expect(conversions.body.data).toEqual([
      {
        id: 1,
        session_id: 1,
        visit_id: 1,
        type: 'click',
        goal: 'buy',
        target: '#buy',
        created_at: '2026-01-10 12:00:00',
      },
    ]);
  });

  it('answer counts for key count and honour visit ids, types and dates', async () => {
    expect((await c.read(VISITS, { key: 'count', session_ids: ['1', '2', '3'] })).body).toEqual({
      error: false,
      data: 3,
    });
    expect((await c.read(VISITS, { key: 'count', session_ids: [1, 2, 3], visit_ids: [2] })).body.data).toBe(
      1,
    );
    expect(
      (await c.read(CONVERSIONS, { key: 'count', session_ids: [1], conversion_types: ['url'] })).body.data,
    ).toBe(0);
    expect(
      (await c.read(CONVERSIONS, { key: 'count', session_ids: [1], start_date: '2026-02-01' })).body.data,
    ).toBe(0);
  });

  it('answer 422 for missing or invalid session ids, and the same 422 for a session of another project', async () => {
    const missing = await c.read(VISITS, {});
    expect(missing.body).toEqual({
      message: 'The session_ids field is required.',
      errors: { session_ids: ['The session_ids field is required.'] },
    });
    const bad = await c.read(CONVERSIONS, { session_ids: [1, 'x', 99], key: 'all' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual({
      key: ['The selected key is invalid.'],
      'session_ids.1': ['The session_ids.1 field must be an integer.'],
    });
    const unknown = await c.read(VISITS, { session_ids: [99] });
    expect(unknown.body.errors).toEqual({ 'session_ids.0': ['The selected session_ids.0 is invalid.'] });

    await c.store.ensureProject({
      publicKey: 'pk_other',
      apiToken: 'other-token',
      name: 'Other',
      allowedOrigins: null,
    });
    // Another project's session answers exactly as an id that does not exist: ids cannot be enumerated.
    const foreign = await c.read(VISITS, { session_ids: [1] }, 'other-token');
    const nowhere = await c.read(VISITS, { session_ids: [99] }, 'other-token');
    expect(foreign.status).toBe(422);
    expect(foreign.body).toEqual(nowhere.body);
    expect(foreign.body).toEqual({
      message: 'The selected session_ids.0 is invalid.',
      errors: { 'session_ids.0': ['The selected session_ids.0 is invalid.'] },
    });
    const foreignEvents = await c.read(EVENTS, { session_id: 1 }, 'other-token');
    expect(foreignEvents.status).toBe(422);
    expect(foreignEvents.body).toEqual((await c.read(EVENTS, { session_id: 99 }, 'other-token')).body);
    expect((await c.store.sessionById(1))?.read_status).toBe('unread');
  });
});

describe('POST /sessions/get-events', () => {
  it("returns each tab's events in timestamp order", async () => {
    const first = await c.session({ userAgent: CHROME });
    const tab2 = (await c.post(`${V1}/session`, { project: c.project.public_key, sessionIdentifier: first }))
      .body.sessionIdentifier;
    const id = readIdentifier(first, c.config.key)?.s;
    const t = JAN_2026 + 300_000;
    await c.post(`${V1}/track`, {
      sessionIdentifier: first,
      events: [{ type: 3, data: { source: 1 }, timestamp: t + 20 }],
    });
    await c.post(`${V1}/track`, {
      sessionIdentifier: first,
      events: [visit('https://shop.test/', t), { type: 2, data: {}, timestamp: t + 1 }],
    });
    await c.post(`${V1}/track`, { sessionIdentifier: tab2, events: [visit('https://shop.test/2', t + 5)] });
    const a = await c.read(EVENTS, { session_id: id });
    expect(
      a.body.data.tabs.map((tab: { tab: number; events: { timestamp: number }[] }) => [
        tab.tab,
        tab.events.map((e) => e.timestamp - t),
      ]),
    ).toEqual([
      [1, [0, 1, 20]],
      [2, [5]],
    ]);
    expect((await c.read(EVENTS, {})).body.errors).toEqual({
      session_id: ['The session_id field is required.'],
    });
  });
});
