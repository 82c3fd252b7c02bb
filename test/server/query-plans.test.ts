// Every query the read endpoints and /track run, as SQLite plans it (EXPLAIN QUERY PLAN): each must
// reach its rows through an index. Plans without statistics (no ANALYZE) do not depend on the row
// count, so an empty database shows the plans of a million-session one.
import { afterEach, expect, it } from 'vitest';
import { overviewSql } from '../../server/store/overview.js';
import { sqliteDialect } from '../../server/store/sql.js';
import { SORT_KEYS } from '../../server/store/store.js';
import { type Collector, custom, sqliteDescribe, startCollector, V1, visit } from './harness.js';

let c: Collector | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

/** Runs /track and every read endpoint with every sort key and filter, so their statements exist. */
async function exercise(collector: Collector): Promise<void> {
  const id = await collector.session();
  const t = Date.now();
  const track = await collector.post(`${V1}/track`, {
    sessionIdentifier: id,
    timer: 3,
    events: [
      visit('https://shop.test/', t),
      custom('web-vital', { name: 'LCP', value: 1200, rating: 'good', delta: 1200, id: 'v1' }, t + 1),
      custom('conversion', { type: 'click', goal: 'buy', target: 'button' }, t + 2),
      custom('event', { name: 'n', parameters: {} }, t + 3),
      { type: 3, data: { source: 2 }, timestamp: t + 4 },
      custom('rage_click', { selector: 'a', x: 0, y: 0, clicks: 3 }, t + 5),
    ],
  });
  expect(track.status).toBe(200);
  const range = { start_date: '2000-01-01', end_date: '2100-01-01' };
  for (const sortKey of SORT_KEYS) {
    const a = await collector.read(`${V1}/project/sessions`, {
      ...range,
      sortKey,
      sortOrder: 'desc',
      read_status: 'unread',
      check_irregular_traffic: '1',
      filters: {
        browser: ['Chrome'],
        device: ['desktop'],
        platform_os: ['Linux'],
        country: ['DE'],
        url: 'shop',
        min_time_spend: 1,
        has_conversions: '1',
        has_rage_clicks: '1',
        has_dead_clicks: '0',
        has_errors: '1',
        has_failed_requests: '0',
      },
    });
    expect(a.status).toBe(200);
  }
  expect(
    (await collector.read(`${V1}/project/overview`, { start_date: '2000-01-01', end_date: '2000-12-31' }))
      .status,
  ).toBe(200);
  for (const key of ['list', 'count']) {
    expect(
      (await collector.read(`${V1}/sessions/get-visits`, { ...range, key, session_ids: [1] })).status,
    ).toBe(200);
    expect(
      (await collector.read(`${V1}/sessions/get-conversions`, { ...range, key, session_ids: [1] })).status,
    ).toBe(200);
  }
  expect((await collector.read(`${V1}/sessions/get-events`, { session_id: 1 })).status).toBe(200);
}

sqliteDescribe('query plans', () => {
  it("looks up get-visits' vitals through the visit_id index, never scanning the vitals table", async () => {
    c = await startCollector();
    await exercise(c);
    const vitals = c.sqlite.queryPlans().filter((q) => /FROM vitals WHERE visit_id IN/.test(q.sql));
    expect(vitals).toHaveLength(1);
    expect(vitals[0]?.plan.join('\n')).toMatch(/SEARCH vitals USING INDEX vitals_visit \(visit_id=\?\)/);
  });

  it('reaches the rows of every /track and read query through an index: no plan scans a whole table', async () => {
    c = await startCollector();
    await exercise(c);
    const plans = c.sqlite.queryPlans();
    expect(plans.length).toBeGreaterThan(20);
    const scans = plans.filter((q) => q.plan.some((step) => /^SCAN /.test(step)));
    expect(scans).toEqual([]);
  });

  it("reaches the overview's rows through indexes (its statements run in a worker, so they are planned here)", async () => {
    c = await startCollector();
    await exercise(c);
    for (const sql of Object.values(overviewSql(sqliteDialect))) {
      // A '?' inside a string literal is text, not a parameter.
      const params = new Array<null>((sql.replace(/'[^']*'/g, '').match(/\?/g) ?? []).length).fill(null);
      const plan = (
        c.sqlite.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]
      ).map((r) => r.detail);
      expect(
        plan.filter((step) => /^SCAN /.test(step)),
        sql,
      ).toEqual([]);
      expect(plan.join('\n'), sql).toMatch(
        /SEARCH s USING (COVERING )?INDEX sessions_project_created_filters/,
      );
    }
  });

  it("chooses the sessions list's page on the index alone, reading the table for the page's rows only", async () => {
    c = await startCollector();
    await exercise(c);
    const lists = c.sqlite.queryPlans().filter((q) => /WHERE s\.id IN \(/.test(q.sql));
    expect(lists.length).toBe(SORT_KEYS.length);
    for (const q of lists) {
      expect(q.plan.join('\n')).toMatch(/SEARCH s USING INTEGER PRIMARY KEY \(rowid=\?\)/);
      expect(q.plan.join('\n')).toMatch(/USING (COVERING )?INDEX sessions_project_created_filters/);
    }
  });
});
