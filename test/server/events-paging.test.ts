// get-events pages: whole stored batches in (tab, time) order, about a mebibyte of events per page,
// followed by an opaque cursor; the real collector over real HTTP.
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readIdentifier } from '../../server/crypto/identifier.js';
import { PAGE_BYTES } from '../../server/routes/get-events.js';
import { type Collector, custom, sqliteIt, startCollector, V1, visit } from './harness.js';
import { EVENTS, readAllEvents } from './read-events.js';

const T0 = Date.UTC(2026, 1, 3, 9, 0, 0);
const PAD = 'x'.repeat(700);

let c: Collector;
beforeEach(async () => {
  c = await startCollector({}, { startAt: T0 });
});
afterEach(async () => {
  expect(c.errors).toEqual([]);
  await c.close();
});

/** A mouse-move event that says which tab and which place in its tab it is. */
function move(tab: number, seq: number, timestamp: number) {
  return { type: 3, data: { source: 1, tab, seq, pad: PAD }, timestamp };
}

async function track(identifier: string, events: unknown[]): Promise<void> {
  const a = await c.post(`${V1}/track`, { sessionIdentifier: identifier, timer: 1, events });
  expect(a.status).toBe(200);
}

/** A session with two tabs; each tab gets `batches` batches of 50 events, its events 10 ms apart. */
async function twoTabs(
  batches: number,
): Promise<{ id: number; one: string; two: string; expected: Map<number, number[]> }> {
  const one = await c.session();
  const two = (await c.post(`${V1}/session`, { project: c.project.public_key, sessionIdentifier: one })).body
    .sessionIdentifier as string;
  const id = readIdentifier(one, c.config.key)?.s as number;
  const expected = new Map<number, number[]>([
    [1, []],
    [2, []],
  ]);
  for (let b = 0; b < batches; b++) {
    for (const [tab, identifier] of [
      [1, one],
      [2, two],
    ] as const) {
      const seqs = Array.from({ length: 50 }, (_, i) => b * 50 + i);
      let events: unknown[] = seqs.map((seq) => move(tab, seq, T0 + seq * 10 + tab));
      // Every fifth batch arrives with its events in reverse: a page still answers them in time order.
      if (b % 5 === 4) events = events.reverse();
      await track(identifier, events);
      for (const seq of seqs) expected.get(tab)?.push(seq);
    }
  }
  return { id, one, two, expected };
}

function seqsOf(tabs: { tab: number; events: { data: { seq: number } }[] }[], tab: number): number[] {
  return tabs.find((t) => t.tab === tab)?.events.map((e) => e.data.seq) ?? [];
}

describe('get-events paging', () => {
  it('reads a session of many batches across two tabs page by page, every event once and in time order', async () => {
    const { id, expected } = await twoTabs(40);
    const { tabs, pages } = await readAllEvents(c, id);

    expect(seqsOf(tabs, 1)).toEqual(expected.get(1));
    expect(seqsOf(tabs, 2)).toEqual(expected.get(2));
    expect(tabs.map((t) => t.tab)).toEqual([1, 2]);
    // 80 batches of ~37 KB: several pages, each about PAGE_BYTES, none far past it.
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const page of pages) {
      const events = JSON.stringify(page.body.data.tabs).length;
      expect(events).toBeLessThan(PAGE_BYTES + 64 * 1024);
    }
    for (const page of pages.slice(0, -1)) {
      expect(JSON.stringify(page.body.data.tabs).length).toBeGreaterThan(PAGE_BYTES - 64 * 1024);
    }
    // Tab 1 comes whole before tab 2: pages follow (tab, time), and each holds a tab's events in order.
    const order = pages.flatMap((p) =>
      (p.body.data.tabs as { tab: number; events: { timestamp: number }[] }[]).flatMap((t) =>
        t.events.map((e) => [t.tab, e.timestamp]),
      ),
    );
    for (let i = 1; i < order.length; i++) {
      const [tabA = 0, tsA = 0] = order[i - 1] as number[];
      const [tabB = 0, tsB = 0] = order[i] as number[];
      expect(tabB > tabA || (tabB === tabA && tsB >= tsA)).toBe(true);
    }
    expect(pages.at(-1)?.body.data.next_cursor).toBeNull();
    // The answer's shape, in this order.
    expect(Object.keys(pages[0]?.body.data)).toEqual(['session', 'named_events', 'tabs', 'next_cursor']);
    expect(pages[0]?.body.data.session.id).toBe(id);
  });

  it('answers named events on the first page only, and in time order', async () => {
    const id = await c.session();
    const sid = readIdentifier(id, c.config.key)?.s as number;
    await track(id, [
      visit('https://shop.test/', T0),
      custom('event', { name: 'second', parameters: { n: 2 } }, T0 + 20),
      custom('event', { name: 'first', parameters: { n: 1 } }, T0 + 10),
    ]);
    for (let b = 0; b < 40; b++) {
      await track(
        id,
        Array.from({ length: 50 }, (_, i) => move(1, b * 50 + i, T0 + 100 + b * 50 + i)),
      );
    }
    const { pages } = await readAllEvents(c, sid);
    expect(pages.length).toBeGreaterThan(1);
    expect(
      pages[0]?.body.data.named_events.map((e: { name: string; parameters: unknown; timestamp: number }) => [
        e.name,
        e.parameters,
        e.timestamp - T0,
      ]),
    ).toEqual([
      ['first', { n: 1 }, 10],
      ['second', { n: 2 }, 20],
    ]);
    for (const page of pages.slice(1)) expect(page.body.data.named_events).toEqual([]);
  });

  sqliteIt(
    'answers a single batch of 400,000 events, stored before batches were limited, with 200 and every event',
    async () => {
      const id = await c.session();
      const sid = readIdentifier(id, c.config.key)?.s as number;
      const n = 400_000;
      const events = Array.from({ length: n }, (_, i) => ({ type: 3, data: {}, timestamp: T0 + i }));
      const insert = c.sqlite.db.prepare(
        `INSERT INTO batches (session_id, tab, first_ts, last_ts, event_count, events, interaction_count,
         input_times, created_at) VALUES (?, 1, ?, ?, ?, ?, 0, '[]', '2026-02-03 09:00:00')`,
      );
      insert.run(
        sid,
        T0,
        T0 + n - 1,
        n,
        gzipSync(JSON.stringify({ sessionIdentifier: id, timer: 1, events })),
      );
      // One more batch after it: the huge one fills a page alone and the next page goes on from it.
      await track(id, [move(1, 0, T0 + n + 5)]);

      const { tabs, pages } = await readAllEvents(c, sid);
      expect(pages.length).toBe(2);
      expect(pages[0]?.body.data.tabs[0].events).toHaveLength(n);
      const all = tabs[0]?.events ?? [];
      expect(all).toHaveLength(n + 1);
      expect(
        all.every((e: { timestamp: number }, i: number) => e.timestamp === T0 + (i < n ? i : n + 5)),
      ).toBe(true);
    },
  );

  it('answers 422 on cursor for a malformed, a tampered or another session’s cursor', async () => {
    const { id } = await twoTabs(30);
    const other = readIdentifier(await c.session(), c.config.key)?.s as number;
    const first = await c.read(EVENTS, { session_id: id });
    const cursor = first.body.data.next_cursor as string;
    expect(typeof cursor).toBe('string');

    const tampered = Buffer.from(JSON.stringify([id, 1, 'x', 1])).toString('base64url');
    const notJson = Buffer.from('{{{').toString('base64url');
    for (const bad of ['not a cursor!', notJson, tampered, cursor.slice(0, -3), 'A'.repeat(201)]) {
      const a = await c.read(EVENTS, { session_id: id, cursor: bad });
      expect(a.status, bad).toBe(422);
      expect(Object.keys(a.body.errors), bad).toEqual(['cursor']);
    }
    const foreign = await c.read(EVENTS, { session_id: other, cursor });
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors).toEqual({ cursor: ['The selected cursor is invalid.'] });
    expect((await c.read(EVENTS, { session_id: id, cursor: 12 })).body.errors).toEqual({
      cursor: ['The cursor field must be a string.'],
    });
  });

  it('filters on tab, named events and pages alike, and a cursor of the whole session goes on within the tab', async () => {
    const { id, one, two: tab2, expected } = await twoTabs(30);
    await track(one, [custom('event', { name: 'in one', parameters: {} }, T0 + 1)]);
    await track(tab2, [custom('event', { name: 'in two', parameters: {} }, T0 + 2)]);
    const two = await readAllEvents(c, id, 2);
    expect(two.pages[0]?.body.data.named_events.map((e: { name: string }) => e.name)).toEqual(['in two']);
    expect(two.tabs.map((t) => t.tab)).toEqual([2]);
    expect(seqsOf(two.tabs, 2).filter((seq) => seq !== undefined)).toEqual(expected.get(2));
    expect(two.pages.length).toBeGreaterThan(1);

    const none = await c.read(EVENTS, { session_id: id, tab: 3 });
    expect(none.status).toBe(200);
    expect(none.body.data.tabs).toEqual([]);
    expect(none.body.data.next_cursor).toBeNull();

    // The first page of the whole session ends inside tab 1: its cursor continues tab 1 alone.
    const first = await c.read(EVENTS, { session_id: id });
    expect(first.body.data.tabs.map((t: { tab: number }) => t.tab)).toEqual([1]);
    const rest = await c.read(EVENTS, { session_id: id, tab: 1, cursor: first.body.data.next_cursor });
    expect(rest.body.data.tabs.map((t: { tab: number }) => t.tab)).toEqual([1]);
    expect(rest.body.data.tabs[0].events[0].data.seq).toBe(
      (first.body.data.tabs[0].events.at(-1).data.seq as number) + 1,
    );

    for (const tab of ['x', 0, -1, 1.5]) {
      const a = await c.read(EVENTS, { session_id: id, tab });
      expect(a.status, String(tab)).toBe(422);
      expect(Object.keys(a.body.errors)).toEqual(['tab']);
    }
  });

  sqliteIt('reaches every page through an index: no paging statement scans the batches table', async () => {
    const { id } = await twoTabs(30);
    await readAllEvents(c, id);
    await readAllEvents(c, id, 2);
    const plans = c.sqlite
      .queryPlans()
      .filter((q) => /FROM (batches|named_events)\b/.test(q.sql) && !/^\s*(INSERT|UPDATE)/.test(q.sql));
    expect(plans.some((q) => /\(tab, first_ts, id\) >/.test(q.sql))).toBe(true);
    for (const q of plans)
      expect(
        q.plan.filter((step) => /^SCAN /.test(step)),
        q.sql,
      ).toEqual([]);
  });
});
