// What the PostgreSQL engine must add to the contract the other server tests check on both engines:
// migrations applied once by instances starting together, a body stored once whichever instance
// receives it, the read endpoints' answers byte for byte SQLite's, recordings dropped a month at a
// time, and the Flameup relay sending each event once, in order, from several instances. Real servers
// only (test/support/postgres.ts); it runs in the server-pg project.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type CustomRow, customRow } from '../../server/ingest/check.js';
import { createFlameupRelay, type FlameupRelay } from '../../server/relay/relay.js';
import { MIGRATIONS } from '../../server/store/migrations/postgres.js';
import type { PostgresStore } from '../../server/store/postgres.js';
import { all, get, run } from '../../server/store/sql.js';
import type { NewBatch } from '../../server/store/store.js';
import { type FlameupStandin, startFlameupStandin } from '../support/flameup-standin.js';
import { type FreshDatabase, freshDatabase } from '../support/postgres.js';
import { type Collector, custom, ENGINE, startCollector, V1, visit } from './harness.js';

const onPostgres = describe.skipIf(ENGINE !== 'postgres');

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const done of cleanup.reverse()) await done();
  cleanup = [];
});

async function database(): Promise<FreshDatabase> {
  const db = await freshDatabase();
  cleanup.push(() => db.drop());
  return db;
}

async function opened(db: FreshDatabase): Promise<PostgresStore> {
  const store = await db.open();
  cleanup.push(() => store.close());
  return store;
}

function batchOf(sessionId: number, body: string, nowMs: number): NewBatch {
  const bytes = Buffer.from(body);
  return {
    hash: createHash('sha256').update(bytes).digest(),
    sessionId,
    tab: 1,
    body: gzipSync(bytes),
    nowMs,
    summary: {
      claims: { p: 1, s: sessionId, w: 1, iat: 0 },
      hash: new Uint8Array(32),
      firstTs: nowMs,
      lastTs: nowMs,
      eventCount: 1,
      timer: 1,
      interactionCount: 0,
      inputTimes: [],
      userAgent: null,
      custom: [],
      signals: { rage_clicks: 0, dead_clicks: 0, errors: 0, failed_requests: 0 },
    } as unknown as NewBatch['summary'],
  };
}

onPostgres('the PostgreSQL engine', () => {
  it('migrates once when several instances start together on an empty database', async () => {
    const db = await database();
    const stores = await Promise.all([1, 2, 3, 4].map(() => opened(db)));
    const rows = await (stores[0] as PostgresStore).engine.read(() =>
      all<{ component: string; version: number }>(
        'SELECT component, version FROM spoor_migrations ORDER BY component, version',
      ),
    );
    // Each version once, in order: four instances, one migration.
    expect(rows).toEqual(MIGRATIONS.map((_, i) => ({ component: 'store', version: i + 1 })));
    // Every instance sees the same schema and can write.
    const project = await (stores[3] as PostgresStore).ensureProject({
      publicKey: 'pk_a',
      apiToken: 't',
      name: 'A',
      allowedOrigins: null,
    });
    expect(await (stores[1] as PostgresStore).projectById(project.id)).toEqual(project);
  });

  it('stores a body once when two instances receive it at the same moment, and answers both', async () => {
    const db = await database();
    const [a, b] = [await opened(db), await opened(db)] as [PostgresStore, PostgresStore];
    const project = await a.ensureProject({
      publicKey: 'pk_a',
      apiToken: 't',
      name: 'A',
      allowedOrigins: null,
    });
    const now = Date.now();
    const session = await a.createSession({
      projectId: project.id,
      browser: null,
      device: null,
      platformOs: null,
      country: null,
      ipAddress: null,
      userAgent: null,
      entryUrl: null,
      referrer: null,
      nowMs: now,
    });
    const bodies = Array.from({ length: 20 }, (_, i) => `{"n":${i}}`);
    // Each body to both instances at once, all bodies concurrently.
    const outcomes = await Promise.all(
      bodies.flatMap((body) => [a, b].map((s) => s.storeBatch(batchOf(session.id, body, now)))),
    );
    expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(20);
    expect(outcomes.filter((o) => o.duplicate)).toHaveLength(20);
    expect(await b.counts()).toMatchObject({ batches: 20, batch_hashes: 20 });
  });

  it('refuses only the write that fails in a group commit, and commits its neighbours', async () => {
    const store = await opened(await database());
    const project = (key: string) =>
      run(
        "INSERT INTO projects (public_key, api_token_hash, name, created_at) VALUES (?, ?, ?, '2026-01-01 00:00:00')",
        key,
        `hash-${key}`,
        key,
      );
    // Queued in the same turn of the loop: one group.
    const outcomes = await Promise.allSettled([
      store.engine.group(() => project('a')),
      store.engine.group(function* () {
        yield* project('b');
        yield* project('a'); // public_key is UNIQUE: this write fails, and its 'b' goes with it
      }),
      store.engine.group(() => project('c')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const keys = await store.engine.read(() =>
      all<{ public_key: string }>('SELECT public_key FROM projects ORDER BY id'),
    );
    expect(keys.map((k) => k.public_key)).toEqual(['a', 'c']);
  });

  it('keeps recordings in monthly partitions and drops the months past retention whole', async () => {
    const db = await database();
    const store = await opened(db);
    const project = await store.ensureProject({
      publicKey: 'pk_a',
      apiToken: 't',
      name: 'A',
      allowedOrigins: null,
    });
    const old = Date.UTC(2026, 0, 20);
    await store.ensurePartitions(old);
    const session = await store.createSession({
      projectId: project.id,
      browser: null,
      device: null,
      platformOs: null,
      country: null,
      ipAddress: null,
      userAgent: null,
      entryUrl: null,
      referrer: null,
      nowMs: old,
    });
    await store.storeBatch(batchOf(session.id, '{"old":1}', old));
    await store.storeBatch(batchOf(session.id, '{"old":2}', old + 86_400_000));
    const where = await store.engine.read(() =>
      all<{ part: string }>('SELECT tableoid::regclass::text AS part FROM batches ORDER BY id'),
    );
    expect(where).toEqual([{ part: 'batches_y2026m01' }, { part: 'batches_y2026m01' }]);
    // A cutoff within February drops December (made ahead, empty) and January, not February.
    expect(await store.dropExpired(Date.UTC(2026, 1, 10))).toBe(2);
    expect(await store.counts()).toMatchObject({ batches: 0, batch_hashes: 0 });
    const left = await store.engine.read(() =>
      get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_class WHERE relname = 'batches_y2026m01'"),
    );
    expect(left?.n).toBe(0);
  });
});

/** The same visitor, request for request, against a collector: every read answer's text. */
async function readAnswers(c: Collector, t0: number): Promise<string[]> {
  const id = await c.session({ url: 'https://shop.test/a?x=1' });
  const events = [
    visit('https://shop.test/a?x=1', t0),
    { type: 2, data: { node: { id: 1 } }, timestamp: t0 + 1 },
    custom('conversion', { type: 'click', goal: 'Buy', target: 'button#buy' }, t0 + 2),
    custom(
      'web-vital',
      { name: 'LCP', value: 1234.5, rating: 'good', delta: 12.25, id: 'v1-1', navigationType: 'navigate' },
      t0 + 3,
    ),
    custom('event', { name: 'added', parameters: { sku: 'MUG', qty: 2 } }, t0 + 4),
    custom('identify', { externalId: 'user-9' }, t0 + 5),
    custom('rage_click', { selector: 'button#buy', clicks: 3, x: 10, y: 20 }, t0 + 6),
    custom('error', { message: 'boom', source: 'https://shop.test/app.js', line: 1, column: 2 }, t0 + 7),
  ];
  expect((await c.post(`${V1}/track`, { sessionIdentifier: id, timer: 2.5, events })).status).toBe(200);
  const later = [
    visit('https://shop.test/b', t0 + 10_000, 'navigate'),
    { type: 3, data: { source: 2 }, timestamp: t0 + 10_001 },
  ];
  expect((await c.post(`${V1}/track`, { sessionIdentifier: id, timer: 7.75, events: later })).status).toBe(
    200,
  );
  await c.session(
    { url: 'https://shop.test/other' },
    { 'User-Agent': 'Mozilla/5.0 (Macintosh) Firefox/120.0' },
  );
  const texts: string[] = [];
  const read = async (path: string, body: unknown) => {
    const res = await fetch(c.url + path, {
      method: 'POST',
      headers: { Authorization: `Bearer ${c.config.apiToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    // Page links name the collector's own origin, whose port differs between the two.
    texts.push(`${res.status} ${(await res.text()).replaceAll(c.url, 'ORIGIN')}`);
  };
  const range = { start_date: '2000-01-01', end_date: '2100-01-01' };
  for (const sortKey of ['id', 'browser', 'country', 'time_spend', 'created_at']) {
    for (const sortOrder of ['asc', 'desc']) {
      await read(`${V1}/project/sessions`, {
        ...range,
        sortKey,
        sortOrder,
        filters: {},
        check_irregular_traffic: true,
      });
    }
  }
  await read(`${V1}/project/sessions`, {
    ...range,
    sortKey: 'id',
    sortOrder: 'asc',
    filters: { url: 'SHOP.test/A', browser: ['firefox'] },
  });
  await read(`${V1}/project/sessions`, {
    ...range,
    sortKey: 'id',
    sortOrder: 'asc',
    filters: { has_conversions: true, min_time_spend: 1 },
  });
  await read(`${V1}/project/sessions`, {
    ...range,
    sortKey: 'id',
    sortOrder: 'asc',
    filters: { has_rage_clicks: true, has_errors: true, has_dead_clicks: false, browser: ['chr'] },
  });
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  await read(`${V1}/project/overview`, { start_date: day(t0 - 86_400_000), end_date: day(t0 + 86_400_000) });
  await read(`${V1}/sessions/get-visits`, { key: 'list', session_ids: [1, 2] });
  await read(`${V1}/sessions/get-conversions`, { key: 'list', session_ids: [1, 2] });
  await read(`${V1}/sessions/get-events`, { session_id: 1 });
  return texts;
}

onPostgres('the read endpoints on both engines', () => {
  it('answer the same visitor with the same bytes on SQLite and on PostgreSQL', async () => {
    const t0 = Date.now();
    const sqlite = await startCollector({}, { engine: 'sqlite', startAt: t0 });
    cleanup.push(() => sqlite.close());
    const postgres = await startCollector({}, { engine: 'postgres', startAt: t0 });
    cleanup.push(() => postgres.close());
    // Same keys on both, so the identifiers and answers can be compared whole.
    const [fromSqlite, fromPostgres] = [await readAnswers(sqlite, t0), await readAnswers(postgres, t0)];
    expect(fromSqlite.length).toBeGreaterThan(10);
    expect(fromPostgres).toEqual(fromSqlite);
  });
});

const KEY = 'fl_live_engines_0123456789abcdef';
const identify = (externalId: string, ts: number) =>
  customRow({ tag: 'identify', payload: { externalId } }, ts) as CustomRow;
const event = (name: string, parameters: unknown, ts: number) =>
  customRow({ tag: 'event', payload: { name, parameters } }, ts) as CustomRow;

onPostgres('the Flameup relay with several instances', () => {
  let standin: FlameupStandin;
  afterEach(async () => {
    await standin?.close();
  });

  it('sends each event once, in order per session, whichever instance queued it, while instances stop and start', async () => {
    standin = await startFlameupStandin({ apiKey: KEY });
    const db = await database();
    const relays: FlameupRelay[] = [];
    const instance = async () => {
      const store = await opened(db);
      const relay = createFlameupRelay({ engine: store.engine, minDelayMs: 20, maxDelayMs: 100, pollMs: 50 });
      await relay.ready;
      relays.push(relay);
      cleanup.push(() => relay.stop());
      return relay;
    };
    const [a, b, c] = [await instance(), await instance(), await instance()] as [
      FlameupRelay,
      FlameupRelay,
      FlameupRelay,
    ];
    await a.configure(1, { apiKey: KEY, url: standin.url });
    // Some Flameup trouble, so that retries and leases interleave across instances.
    standin.fail({ kind: 'status', status: 503 }, 5);
    a.start();
    b.start();
    const t = Date.UTC(2026, 0, 15);
    const sessions = [11, 12, 13, 14];
    for (let i = 0; i < 10; i++) {
      for (const s of sessions) {
        const queuer = [a, b, c][(i + s) % 3] as FlameupRelay;
        const rows =
          i === 0
            ? [identify(`user-${s}`, t), event('step', { i }, t + i + 1)]
            : [event('step', { i }, t + i + 1)];
        await queuer.ingest(1, s, rows, `src-${s}-${i}`);
      }
      if (i === 3) await a.stop();
      if (i === 5) c.start();
    }
    const accepted = await standin.waitForAccepted(40, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(standin.accepted).toHaveLength(40);
    for (const s of sessions) {
      const steps = standin.accepted
        .filter((x) => x.body.external_id === `user-${s}`)
        .map((x) => (x.body.parameters as { i: number }).i);
      expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    expect(accepted.length).toBe(40);
    expect(await b.store.counts()).toEqual({ held: 0, pending: 0, sent: 0, failed: 0 });
  });
});
