// The collector under hostile input: every probe of the attack write-up (and fast-check generated
// bodies) sent to the real collector process over real HTTP. Each probe must get its 4xx (or 200 where
// right), store nothing it should not, leave the process alive, and not hold up other visitors: while
// it is in flight, well-formed /session requests from another client address keep being answered in
// under a second. Limits are the documented defaults (README, collector section); only the request
// timeout is shortened so that the slow-body probe takes seconds, not half a minute.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseKey } from '../../server/crypto/encrypter.js';
import { readIdentifier } from '../../server/crypto/identifier.js';
import { type CollectorProcess, freePort, startCollectorProcess } from '../support/collector-process.js';
import {
  type Overlapped,
  type Ping,
  pingUntilStopped,
  type Sent,
  send,
  whileInFlight,
} from '../support/http-probe.js';

const V1 = '/api/services/analytics/v1';
const TRACK = `${V1}/track`;
const SESSION = `${V1}/session`;
const EVENTS = `${V1}/sessions/get-events`;
const VISITS = `${V1}/sessions/get-visits`;
const CONVERSIONS = `${V1}/sessions/get-conversions`;
const SESSIONS = `${V1}/project/sessions`;

// The documented defaults (README, collector section).
const MAX_BYTES = 8 * 1024 * 1024;
const MAX_EVENTS = 20_000;
const MAX_CUSTOM_EVENTS = 2_000;
const MAX_FIELD_ERRORS = 20;
const MAX_TIMER_S = 86_400;
const DAY_MS = 86_400_000;
const REQUEST_TIMEOUT_MS = 2_000;

/** The attacker's address, and another visitor's (all of 127.0.0.0/8 is loopback on Linux). */
const ATTACKER = '127.0.0.1';
const VISITOR = '127.0.0.2';
/** A hostile request that gets no answer in this long has stalled the collector. */
const HOSTILE_TIMEOUT_MS = 5_000;
/** Other visitors must be answered within this while a hostile request is in flight. */
const CALM_MS = 1_000;
const SHOP = 'https://shop.test';

const dataDir = mkdtempSync(join(tmpdir(), 'spoor-hostile-'));
const dbFile = join(dataDir, 'spoor.sqlite');
const mainEnv = {
  SPOOR_ALLOWED_ORIGINS: SHOP,
  SPOOR_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  SPOOR_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  // Paging through a large session takes more reads than the default 60 a minute.
  SPOOR_READ_LIMIT: '100000',
};
/** A second project, whose sessions the main project's token must not be able to tell from missing ones. */
const other = { key: `pk_${randomBytes(8).toString('hex')}`, token: randomBytes(32).toString('hex') };
/** Events in the batch the write-up stored before there were caps (20 MB of JSON). */
const LEGACY_EVENTS = 350_878;

let main: CollectorProcess;
let appKey: Buffer;
let legacy: { sessionId: number; events: string };
const started: CollectorProcess[] = [];

async function start(dir: string, env: Record<string, string>, port = 0): Promise<CollectorProcess> {
  const c = await startCollectorProcess({ dataDir: dir, env, port });
  started.push(c);
  return c;
}

// ---- bodies -------------------------------------------------------------------------------------

/** `{"sessionIdentifier":…,"events":[0,0,…]}` with `n` zeros, gzip-compressed as the write-up sent it. */
function zeros(sessionIdentifier: string, n: number): Buffer {
  return gzipSync(
    `{"sessionIdentifier":${JSON.stringify(sessionIdentifier)},"events":[${'0,'.repeat(n - 1)}0]}`,
  );
}

/** A small valid rrweb event (a mouse move) at `timestamp`. */
function move(timestamp: number, type = 3): Record<string, unknown> {
  return { type, data: { source: 1, positions: [{ x: 1, y: 2, id: 3, timeOffset: 0 }] }, timestamp };
}

/**
 * The JSON of `n` valid events (mouse moves) from `from` on, one ms apart, built as text: 57 bytes
 * each, so the write-up's 350,878 events make its 20 MB.
 */
function eventsJson(n: number, from: number): string {
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    parts[i] = `{"type":3,"data":{"source":1},"timestamp":${from + i}}`;
  }
  return `[${parts.join(',')}]`;
}

function batchJson(sessionIdentifier: string, events: string, timer = 1): string {
  return `{"sessionIdentifier":${JSON.stringify(sessionIdentifier)},"timer":${timer},"events":${events}}`;
}

function visit(url: string, timestamp: number) {
  return {
    type: 5,
    data: { tag: 'visit', payload: { url, referrer: '', title: 'Page', navigation: 'load' } },
    timestamp,
  };
}

// ---- requests -----------------------------------------------------------------------------------

function post(
  c: CollectorProcess,
  path: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
  extra: { timeoutMs?: number; keepBytes?: number; onSent?: () => void; localAddress?: string } = {},
): Promise<Sent> {
  return send(c.url, {
    path,
    body,
    localAddress: extra.localAddress ?? ATTACKER,
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...headers },
    timeoutMs: extra.timeoutMs ?? HOSTILE_TIMEOUT_MS,
    ...(extra.keepBytes ? { keepBytes: extra.keepBytes } : {}),
    ...(extra.onSent ? { onSent: extra.onSent } : {}),
  });
}

function read(c: CollectorProcess, path: string, body: unknown, token = c.apiToken, onSent?: () => void) {
  return post(
    c,
    path,
    JSON.stringify(body),
    { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    {
      keepBytes: 256 * 1024 * 1024,
      timeoutMs: 30_000,
      ...(onSent ? { onSent } : {}),
    },
  );
}

// biome-ignore lint/suspicious/noExplicitAny: assertions walk JSON answers of many shapes
function json(a: Sent): any {
  try {
    return JSON.parse(a.text);
  } catch {
    throw new Error(
      `not JSON (status ${a.status}, ${a.bytes} bytes${a.error ? `, ${a.error}` : ''}): ${a.text.slice(0, 300)}`,
    );
  }
}

/** A well-formed /session request from another visitor's address. */
async function ping(c: CollectorProcess = main): Promise<Ping> {
  const a = await post(
    c,
    SESSION,
    JSON.stringify({ project: c.projectKey, url: `${SHOP}/` }),
    {},
    {
      localAddress: VISITOR,
      timeoutMs: 3_000,
    },
  );
  return {
    status: a.status,
    ms: a.endedAt - a.startedAt,
    startedAt: a.startedAt,
    endedAt: a.endedAt,
    ...(a.error ? { error: a.error } : {}),
  };
}

async function mint(c: CollectorProcess = main, headers: Record<string, string> = {}): Promise<string> {
  const a = await post(c, SESSION, JSON.stringify({ project: c.projectKey, url: `${SHOP}/` }), headers);
  if (a.status !== 200) throw new Error(`/session answered ${a.status}: ${a.text}`);
  return json(a).sessionIdentifier as string;
}

function sessionIdOf(identifier: string): number {
  const claims = readIdentifier(identifier, appKey);
  if (!claims) throw new Error('an identifier the collector minted does not decrypt');
  return claims.s;
}

/** Sends a hostile request with pings from another visitor overlapping it. */
function probe(hostile: (onSent: () => void) => Promise<Sent>): Promise<Overlapped> {
  return whileInFlight(hostile, () => ping());
}

/** Other visitors were served, in under a second, while the hostile request was in flight; the process lives. */
function expectCalm(result: Overlapped, c: CollectorProcess = main): void {
  const { answer, pings } = result;
  // At least one ping overlapped the hostile request (it started before the hostile answer came).
  expect(pings.filter((p) => p.startedAt < answer.endedAt).length).toBeGreaterThan(0);
  const slow = pings.filter((p) => p.status !== 200 || p.ms >= CALM_MS);
  expect(
    slow.map((p) => `${p.status}${p.error ? ` ${p.error}` : ''} in ${Math.round(p.ms)} ms`),
    `well-formed /session requests slower than ${CALM_MS} ms or refused while the hostile request was in flight`,
  ).toEqual([]);
  expect(c.alive()).toBe(true);
}

function expectSmall(a: Sent, bytes = 4096): void {
  expect(a.error, `no answer: ${a.error}`).toBeUndefined();
  expect(a.bytes).toBeLessThanOrEqual(bytes);
}

/** Laravel's 422 with at most MAX_FIELD_ERRORS messages, its message counting the ones listed. */
// biome-ignore lint/suspicious/noExplicitAny: a JSON answer
function expect422(a: Sent): { message: string; errors: Record<string, string[]>; raw: any } {
  expect(a.status, a.text.slice(0, 300)).toBe(422);
  const body = json(a);
  expect(typeof body.message).toBe('string');
  const messages = Object.values(body.errors as Record<string, string[]>).flat();
  expect(messages.length).toBeGreaterThan(0);
  expect(messages.length).toBeLessThanOrEqual(MAX_FIELD_ERRORS);
  const rest = messages.length - 1;
  expect(body.message).toBe(
    rest > 0 ? `${messages[0]} (and ${rest} more ${rest === 1 ? 'error' : 'errors'})` : messages[0],
  );
  return { message: body.message, errors: body.errors, raw: body };
}

/** A /track body as the snippet sends it. */
function trackBody(sessionIdentifier: string, events: unknown[], timer = 1): string {
  return JSON.stringify({ sessionIdentifier, timer, events });
}

/**
 * Sends a hostile /track body while another visitor asks for sessions, and checks what every refused
 * body must get: a small answer with one of `statuses`, nothing stored, other visitors served.
 */
async function expectRefused(
  body: Buffer | string,
  statuses: number | number[],
  opts: { headers?: Record<string, string>; maxBytes?: number } = {},
): Promise<Sent> {
  const before = stored();
  const result = await probe((onSent) => post(main, TRACK, body, opts.headers ?? {}, { onSent }));
  const a = result.answer;
  expectSmall(a, opts.maxBytes);
  expect([statuses].flat(), a.text.slice(0, 300)).toContain(a.status);
  expect(stored()).toEqual(before);
  expectCalm(result);
  return a;
}

/** Sends a /track body while another visitor asks for sessions: it is stored (200), others are served. */
async function expectStored(body: Buffer | string): Promise<Sent> {
  const result = await probe((onSent) => post(main, TRACK, body, {}, { onSent }));
  expect(result.answer.status, result.answer.text.slice(0, 300)).toBe(200);
  expectCalm(result);
  return result.answer;
}

/**
 * Pages get-events through a whole session with `token`, each page read while another visitor is
 * served and answered 200; hands each page's data to `each`. Returns how many pages it took (50 at most).
 */
async function readEveryPage(
  sessionId: number,
  token: string,
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer
  each: (data: any, page: number, answer: Sent) => void,
): Promise<number> {
  let cursor: string | null = null;
  let pages = 0;
  do {
    const body: Record<string, unknown> = { session_id: sessionId, ...(cursor ? { cursor } : {}) };
    const result = await probe((onSent) => read(main, EVENTS, body, token, onSent));
    const a = result.answer;
    expect(a.status, a.text.slice(0, 300)).toBe(200);
    expectCalm(result);
    const data = json(a).data;
    each(data, pages, a);
    cursor = data.next_cursor;
    pages++;
  } while (cursor !== null && pages < 50);
  return pages;
}

// ---- what is stored -----------------------------------------------------------------------------

function inDb<T>(work: (db: Database.Database) => T): T {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return work(db);
  } finally {
    db.close();
  }
}

/** Every row /track writes, counted. */
function stored(): Record<string, number> {
  return inDb(
    (db) =>
      db
        .prepare(
          `SELECT (SELECT COUNT(*) FROM batches) AS batches, (SELECT COALESCE(SUM(event_count), 0) FROM batches) AS events,
             (SELECT COUNT(*) FROM visits) AS visits, (SELECT COUNT(*) FROM conversions) AS conversions,
             (SELECT COUNT(*) FROM vitals) AS vitals, (SELECT COUNT(*) FROM named_events) AS named_events`,
        )
        .get() as Record<string, number>,
  );
}

/** What a session's batches hold: count, timers and event time range, and its time spent. */
function sessionRows(sessionId: number) {
  return inDb((db) => ({
    batches: db
      .prepare(
        'SELECT timer, first_ts, last_ts, event_count, events FROM batches WHERE session_id = ? ORDER BY id',
      )
      .all(sessionId) as {
      timer: number | null;
      first_ts: number | null;
      last_ts: number | null;
      event_count: number;
      events: Buffer;
    }[],
    session: db.prepare('SELECT time_spend, created_ms FROM sessions WHERE id = ?').get(sessionId) as {
      time_spend: number;
      created_ms: number;
    },
  }));
}

/** The events of a stored batch as the collector keeps them (its gzip body, or the events alone). */
function storedEvents(blob: Buffer): { type: unknown; timestamp: unknown }[] {
  const parsed = JSON.parse(gunzipSync(blob).toString('utf8'));
  return Array.isArray(parsed) ? parsed : (parsed.events ?? []);
}

// ---- lifecycle ----------------------------------------------------------------------------------

beforeAll(async () => {
  // A database from before the caps: another project's session holding the write-up's batch of 350,878
  // events in one row, stored under limits raised far past the defaults.
  const before = await start(dataDir, {
    SPOOR_PROJECT_KEY: other.key,
    SPOOR_API_TOKEN: other.token,
    SPOOR_ALLOWED_ORIGINS: 'https://other.test',
    SPOOR_MAX_BODY_BYTES: String(256 * 1024 * 1024),
    SPOOR_MAX_DECOMPRESSED_BYTES: String(256 * 1024 * 1024),
    SPOOR_MAX_EVENTS: '1000000',
    SPOOR_MAX_CUSTOM_EVENTS: '1000000',
  });
  appKey = parseKey(
    (JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { appKey: string }).appKey,
  );
  const identifier = await mint(before);
  const events = eventsJson(LEGACY_EVENTS, Date.now() - 60_000);
  const stored = await post(
    before,
    TRACK,
    gzipSync(batchJson(identifier, events)),
    {},
    { timeoutMs: 120_000 },
  );
  if (stored.status !== 200)
    throw new Error(`the legacy batch was not stored: ${stored.status} ${stored.text}`);
  legacy = { sessionId: sessionIdOf(identifier), events };
  await before.stop();
  // The collector under test: the demo project (its own key and token) beside the other project.
  main = await start(dataDir, mainEnv);
}, 180_000);

afterEach(async () => {
  // A probe that stalled the collector must not stall the ones after it: start a fresh one.
  const p = main.alive() ? await ping() : null;
  if (p?.status !== 200 || p.ms > 2_000) {
    await main.kill();
    main = await start(dataDir, mainEnv);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(started.map((c) => c.kill()));
  rmSync(dataDir, { recursive: true, force: true });
});

// ---- the probes ---------------------------------------------------------------------------------

describe('/track bodies that cost per-element work', () => {
  it.each([
    ['1 KB', 500_000],
    ['4.9 KB', 2_500_000],
    ['20 KB', 10_400_000],
  ])(
    'refuses events:[0,0,…] with a made-up identifier (%s gzip) before walking the events',
    async (_size, n) => {
      // Too many events (or bytes) is a 413; a bad identifier is a 422 on the identifier alone. Either is a
      // cheap check; neither walks the elements.
      const a = await expectRefused(zeros('x', n), [413, 422]);
      if (a.status === 422) expect(Object.keys(expect422(a).errors)).toEqual(['sessionIdentifier']);
    },
    30_000,
  );

  it.each([
    ['events:[0,0,…] past the events cap, under a live identifier', async () => zeros(await mint(), 500_000)],
    [
      "the write-up's valid batch of 350,878 events (20 MB inflated)",
      async () => gzipSync(batchJson(await mint(), legacy.events)),
    ],
    [
      'a valid batch of 100,000 events (under the byte caps, over the events cap)',
      async () => gzipSync(batchJson(await mint(), eventsJson(100_000, Date.now()))),
    ],
    [
      'a batch of 2,001 custom events, storing none of them',
      async () => {
        const now = Date.now();
        const events = Array.from({ length: MAX_CUSTOM_EVENTS + 1 }, (_, i) => ({
          type: 5,
          data: { tag: 'event', payload: { name: `e${i}`, parameters: {} } },
          timestamp: now + i,
        }));
        return gzipSync(trackBody(await mint(), events));
      },
    ],
    [
      // The 413 must reach the uploader (the snippet splits a batch on it): a connection reset while the
      // body is still being sent (EPIPE, ECONNRESET) leaves it retrying the same batch.
      'an uncompressed body one byte over the wire cap',
      async () => {
        const head = `{"sessionIdentifier":${JSON.stringify(await mint())},"events":[`;
        const n = Math.ceil((MAX_BYTES + 1 - head.length - 2) / 2);
        const body = Buffer.from(`${head}${'0,'.repeat(n - 1)}0]}`);
        expect(body.length).toBeGreaterThan(MAX_BYTES);
        return body;
      },
    ],
    [
      'a gzip bomb (64 KB inflating to 64 MB)',
      async () => gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 }),
    ],
  ])(
    'refuses with 413 %s',
    async (_name, body) => {
      await expectRefused(await body(), 413);
    },
    30_000,
  );

  it('answers events:[0,0,…] under the events cap with a 422 listing only the first 20 field errors', async () => {
    const a = await expectRefused(zeros(await mint(), MAX_EVENTS - 1), 422, { maxBytes: 8192 });
    const { errors, message } = expect422(a);
    expect(Object.keys(errors)).toEqual(Array.from({ length: MAX_FIELD_ERRORS }, (_, i) => `events.${i}`));
    expect(message).toMatch(/ \(and 19 more errors\)$/);
  }, 30_000);

  it('stores a batch at the events cap (20,000 events) while other visitors stay served', async () => {
    const body = gzipSync(batchJson(await mint(), eventsJson(MAX_EVENTS, Date.now())));
    const before = stored();
    expect(json(await expectStored(body))).toEqual({ status: true });
    expect((stored().events ?? 0) - (before.events ?? 0)).toBe(MAX_EVENTS);
  }, 30_000);

  it('refuses JSON nested 100,000 deep with a 422 on body', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const body = gzipSync(
      `{"sessionIdentifier":${JSON.stringify(await mint())},"events":[{"type":3,"timestamp":${Date.now()},"data":${deep}}]}`,
    );
    expect(Object.keys(expect422(await expectRefused(body, 422)).errors)).toEqual(['body']);
  }, 30_000);
});

describe('what visitors can claim', () => {
  it.each([
    ['"1e400"', '"1e400"'],
    ['1e400 (a JSON number that parses to Infinity)', '1e400'],
    ['1e308', '1e308'],
    ['-1', '-1'],
    ['86401 (past the maximum session age)', '86401'],
    ['"NaN"', '"NaN"'],
  ])('refuses timer %s with a 422 on timer and stores nothing', async (_name, timer) => {
    const identifier = await mint();
    const body = `{"sessionIdentifier":${JSON.stringify(identifier)},"timer":${timer},"events":[]}`;
    const a = await expectRefused(body, 422, { headers: { 'Content-Type': 'application/json' } });
    expect(Object.keys(expect422(a).errors)).toEqual(['timer']);
    expect(Number.isFinite(sessionRows(sessionIdOf(identifier)).session.time_spend)).toBe(true);
  });

  it('accepts timer 86400 (the maximum session age) and every figure the read API returns is finite', async () => {
    const identifier = await mint();
    const opened = await post(main, TRACK, trackBody(identifier, [visit(`${SHOP}/`, Date.now())]));
    expect(opened.status).toBe(200);
    await expectStored(trackBody(identifier, [], MAX_TIMER_S));
    const rows = sessionRows(sessionIdOf(identifier));
    expect(rows.session.time_spend).toBe(MAX_TIMER_S);
    // Sorted by time spent, the first row is where an Infinity would have gone.
    const today = new Date().toISOString().slice(0, 10);
    const a = await read(main, SESSIONS, {
      start_date: '2000-01-01',
      end_date: today,
      sortKey: 'time_spend',
      sortOrder: 'desc',
      per_page: 100,
      filters: {},
    });
    expect(a.status, a.text.slice(0, 300)).toBe(200);
    const rowsRead = json(a).data.data as { time_spend: unknown }[];
    expect(rowsRead.length).toBeGreaterThan(0);
    for (const row of rowsRead) {
      // JSON has no Infinity: a figure that is not finite comes out as null.
      expect(typeof row.time_spend).toBe('number');
      // Every session here has one tab, whose timer is at most the maximum session age.
      expect(row.time_spend as number).toBeLessThanOrEqual(MAX_TIMER_S);
    }
    expect(
      inDb((db) =>
        db.prepare('SELECT COUNT(*) AS n FROM batches WHERE NOT (timer BETWEEN 0 AND 86400)').get(),
      ),
    ).toEqual({ n: 0 });
  });

  it.each([
    ['0', () => 0],
    ['year 3000', () => Date.UTC(3000, 0, 1)],
    ['-1e15', () => -1e15],
    ['8 days before the identifier was minted', () => Date.now() - 8 * DAY_MS],
    ['2 days ahead', () => Date.now() + 2 * DAY_MS],
  ])('refuses an event timestamp of %s with a 422 on that timestamp', async (_name, at) => {
    const a = await expectRefused(trackBody(await mint(), [move(at())]), 422);
    expect(expect422(a).errors).toEqual({
      'events.0.timestamp': ["The events.0.timestamp field must be within the session's lifetime."],
    });
  });

  it.each([
    ['6 days before (a batch kept offline in the outbox)', -6 * DAY_MS],
    ['12 hours ahead (a visitor clock running fast)', DAY_MS / 2],
  ])('stores an event timestamp %s as sent, not clamped', async (_name, offset) => {
    const identifier = await mint();
    const at = Date.now() + offset;
    await expectStored(trackBody(identifier, [move(at)]));
    const [batch] = sessionRows(sessionIdOf(identifier)).batches;
    expect([batch?.first_ts, batch?.last_ts]).toEqual([at, at]);
  });

  it.each([999, -1, 8])('refuses event type %s with a 422 on that type', async (type) => {
    const a = await expectRefused(trackBody(await mint(), [move(Date.now(), type)]), 422);
    expect(expect422(a).errors).toEqual({
      'events.0.type': ['The selected events.0.type is invalid.'],
    });
  });

  it('refuses a fractional event type with a 422 on that type', async () => {
    const a = await expectRefused(trackBody(await mint(), [move(Date.now(), 2.5)]), 422);
    expect(Object.keys(expect422(a).errors)).toEqual(['events.0.type']);
  });

  it('stores event type 7 (rrweb Asset)', async () => {
    await expectStored(trackBody(await mint(), [move(Date.now(), 7)]));
  });
});

describe('reads that scale with the session', () => {
  it('pages get-events through a 100,000-event session, each page bounded, without holding up others', async () => {
    const identifier = await mint();
    const t = Date.now();
    for (let b = 0; b < 5; b++) {
      const a = await post(
        main,
        TRACK,
        gzipSync(batchJson(identifier, eventsJson(MAX_EVENTS, t + b * MAX_EVENTS))),
        {},
        { timeoutMs: 30_000 },
      );
      expect(a.status, a.text.slice(0, 300)).toBe(200);
    }
    let total = 0;
    let last = -Infinity;
    const pages = await readEveryPage(sessionIdOf(identifier), main.apiToken, (data, page, a) => {
      // About 1 MiB of events per page, at least one whole stored batch (1.1 MB of JSON here).
      expect(a.bytes).toBeLessThan(3 * 1024 * 1024);
      if (page > 0) expect(data.named_events ?? []).toEqual([]);
      for (const tab of data.tabs as { tab: number; events: { timestamp: number }[] }[]) {
        for (const e of tab.events) {
          // In order across pages: each page carries on where the last one stopped.
          expect(e.timestamp).toBeGreaterThanOrEqual(last);
          last = e.timestamp;
        }
        total += tab.events.length;
      }
    });
    expect(total).toBe(5 * MAX_EVENTS);
    expect(pages).toBeGreaterThan(1);
  }, 120_000);

  it('reads a 350,878-event batch stored before the caps (was a 500 from spreading into push)', async () => {
    let total = 0;
    await readEveryPage(legacy.sessionId, other.token, (data) => {
      for (const tab of data.tabs as { events: unknown[] }[]) total += tab.events.length;
    });
    expect(total).toBe(LEGACY_EVENTS);
  }, 120_000);

  it("answers another project's session ids exactly like ids that do not exist", async () => {
    const missing = 2_000_000_000;
    const pairs: [string, Record<string, unknown>, Record<string, unknown>][] = [
      [EVENTS, { session_id: legacy.sessionId }, { session_id: missing }],
      [VISITS, { session_ids: [legacy.sessionId] }, { session_ids: [missing] }],
      [CONVERSIONS, { session_ids: [legacy.sessionId] }, { session_ids: [missing] }],
    ];
    for (const [path, theirs, none] of pairs) {
      const result = await probe((onSent) => read(main, path, theirs, main.apiToken, onSent));
      const absent = await read(main, path, none);
      expectCalm(result);
      expect([result.answer.status, json(result.answer)], path).toEqual([absent.status, json(absent)]);
      expect(result.answer.status).toBe(422);
      expectSmall(result.answer);
    }
    const mixed = await read(main, VISITS, { session_ids: [sessionIdOf(await mint()), legacy.sessionId] });
    expect(expect422(mixed).errors).toEqual({ 'session_ids.1': ['The selected session_ids.1 is invalid.'] });
  });
});

describe('HTTP hygiene', () => {
  it('ends a body sent a byte at a time within seconds of the request timeout', async () => {
    const body = Buffer.from(JSON.stringify({ sessionIdentifier: 'x', events: [] }));
    const pieces = [...body].map((b) => Buffer.from([b]));
    const result = await probe((onSent) =>
      send(main.url, {
        path: TRACK,
        localAddress: ATTACKER,
        headers: { 'Content-Type': 'text/plain' },
        trickle: { pieces, intervalMs: 3_000 },
        timeoutMs: REQUEST_TIMEOUT_MS + 8_000,
        onSent,
      }),
    );
    const a = result.answer;
    // Node answers 408 (or just closes) once the request timeout has passed.
    expect(a.error === 'timeout', 'the collector still held the slow body').toBe(false);
    expect(a.status === 408 || a.status === 0).toBe(true);
    expect(a.endedAt - a.startedAt).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    expectCalm(result);
  }, 30_000);

  it('holds at most 32 connections from one address while another address is still served', async () => {
    const sockets: Socket[] = [];
    const refused = new Set<Socket>();
    const port = main.port;
    try {
      const result = await probe(async () => {
        const startedAt = performance.now();
        for (let i = 0; i < 40; i++) {
          const s = connect({ host: '127.0.0.1', port, localAddress: ATTACKER });
          s.on('error', () => refused.add(s));
          s.on('close', () => refused.add(s));
          s.on('data', (d) => {
            if (d.toString('latin1').startsWith('HTTP/1.1 503')) refused.add(s);
          });
          // Headers that never end: each connection waits for the rest.
          s.write(`POST ${TRACK} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/plain\r\n`);
          sockets.push(s);
        }
        await new Promise((r) => setTimeout(r, 1_000));
        return { status: 0, headers: {}, text: '', bytes: 0, startedAt, endedAt: performance.now() };
      });
      expect(sockets.length - refused.size).toBeLessThanOrEqual(32);
      expect(refused.size).toBeGreaterThanOrEqual(8);
      expectCalm(result);
    } finally {
      for (const s of sockets) s.destroy();
    }
    // The cap counts open connections: once they are gone, the address is served again.
    await new Promise((r) => setTimeout(r, 200));
    expect((await post(main, SESSION, JSON.stringify({ project: main.projectKey }))).status).toBe(200);
  });

  it('never echoes a Host header unescaped into a page', async () => {
    const evil = 'evil.test"><script>alert(1)</script>';
    for (const path of ['/', '/dashboard/', '/esm.html', '/app/']) {
      const result = await probe((onSent) =>
        send(main.url, {
          method: 'GET',
          path,
          headers: { Host: evil },
          localAddress: ATTACKER,
          timeoutMs: HOSTILE_TIMEOUT_MS,
          onSent,
        }),
      );
      const a = result.answer;
      // Refused as not a host (400), or served with the origin escaped.
      expect([200, 400, 421], `${path}: ${a.status}`).toContain(a.status);
      expect(a.text).not.toContain('<script>alert(1)');
      expect(a.text).not.toContain('"><script>');
      expectCalm(result);
    }
  });

  it('answers 421 to a Host other than SPOOR_PUBLIC_URL, and serves its own', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'spoor-hostile-host-'));
    const c = await start(dir, { SPOOR_PUBLIC_URL: `http://127.0.0.1:${port}` }, port);
    try {
      for (const [method, path] of [
        ['GET', '/dashboard/'],
        ['POST', SESSION],
      ] as const) {
        const body = method === 'POST' ? JSON.stringify({ project: c.projectKey }) : undefined;
        const wrong = await whileInFlight(
          (onSent) =>
            send(c.url, {
              method,
              path,
              headers: { Host: 'evil.test', 'Content-Type': 'application/json' },
              ...(body ? { body } : {}),
              localAddress: ATTACKER,
              timeoutMs: HOSTILE_TIMEOUT_MS,
              onSent,
            }),
          () => ping(c),
        );
        expect(wrong.answer.status, `${method} ${path}`).toBe(421);
        expect(wrong.answer.text).not.toContain('evil.test');
        expectCalm(wrong, c);
        const right = await send(c.url, {
          method,
          path,
          headers: { 'Content-Type': 'application/json' },
          ...(body ? { body } : {}),
          timeoutMs: HOSTILE_TIMEOUT_MS,
        });
        expect(right.status, `${method} ${path}`).toBe(200);
      }
    } finally {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses /track from an Origin the project does not allow, like /session does', async () => {
    const identifier = await mint();
    const body = (n: number) => trackBody(identifier, [move(Date.now() + n)], n);
    const before = stored();
    const refused = await expectRefused(body(1), 403, { headers: { Origin: 'https://evil.test' } });
    expect(json(refused)).toEqual({
      error: true,
      message: 'This origin is not allowed for the project.',
    });
    const session = await post(main, SESSION, JSON.stringify({ project: main.projectKey }), {
      Origin: 'https://evil.test',
    });
    expect([session.status, json(session)]).toEqual([403, json(refused)]);
    // The allowed origin, and no Origin at all (a server sending for a visitor), are stored.
    expect((await post(main, TRACK, body(2), { Origin: SHOP })).status).toBe(200);
    expect((await post(main, TRACK, body(3))).status).toBe(200);
    expect(stored().batches).toBe((before.batches as number) + 2);
  });

  it('keeps the database, its WAL files and the secrets file readable by the owner only (0600)', () => {
    for (const file of ['spoor.sqlite', 'spoor.sqlite-wal', 'spoor.sqlite-shm', 'secrets.json']) {
      expect((statSync(join(dataDir, file)).mode & 0o777).toString(8), file).toBe('600');
    }
  });

  it('sends the dashboard with a CSP that lets no recording make the viewer call out', async () => {
    const a = await send(main.url, { method: 'GET', path: '/dashboard/', timeoutMs: HOSTILE_TIMEOUT_MS });
    expect(a.status).toBe(200);
    expect(a.headers['x-frame-options']).toBe('DENY');
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    expect(a.headers['referrer-policy']).toBe('no-referrer');
    const csp = String(a.headers['content-security-policy'] ?? '');
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((d) => d[0])
        .map(([name, ...sources]) => [name as string, sources]),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    // Network sources for what a replay loads: the collector itself and the recorded site, nothing else.
    for (const name of [
      'img-src',
      'style-src',
      'font-src',
      'media-src',
      'connect-src',
      'frame-src',
      'script-src',
    ]) {
      for (const source of directives.get(name) ?? []) {
        const keyword = source.startsWith("'") || source === 'data:' || source === 'blob:';
        expect(keyword || source === SHOP, `${name} ${source}`).toBe(true);
      }
    }
  });
});

describe('fast-check generated bodies', () => {
  it('answers every generated /track body with 200, 413 or 422, small, never storing a bad figure', async () => {
    const live = await mint();
    const sessionId = sessionIdOf(live);
    const now = Date.now();
    const hostileNumber = fc.constantFrom(
      0,
      -1,
      0.5,
      1e308,
      -1e15,
      Date.UTC(3000, 0, 1),
      2 ** 53 + 2,
      Number.MAX_SAFE_INTEGER,
    );
    const timestamp = fc.oneof(
      fc.integer({ min: now - 8 * DAY_MS, max: now + 2 * DAY_MS }),
      hostileNumber,
      fc.double(),
      fc.string({ maxLength: 8 }),
      fc.constant(null),
    );
    const type = fc.oneof(
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: -3, max: 1000 }),
      fc.double(),
      fc.string({ maxLength: 3 }),
      fc.constant(null),
    );
    const custom = fc.record({
      type: fc.constant(5),
      timestamp: fc.integer({ min: now - DAY_MS, max: now }),
      data: fc.record(
        {
          tag: fc.constantFrom('visit', 'conversion', 'web-vital', 'event', 'identify', 'other'),
          payload: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      ),
    });
    const event = fc.oneof(
      fc.record({ type, timestamp, data: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }),
      custom,
      fc.jsonValue({ maxDepth: 2 }),
    );
    const timer = fc.oneof(
      fc.double(),
      fc.integer({ min: -10, max: 200_000 }),
      fc.constantFrom('1e400', '1e308', 'NaN', 'Infinity', '-0', '86400', '86401', '', ' 5 '),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const track = fc.record(
      {
        sessionIdentifier: fc.oneof(
          fc.constant(live),
          fc.constant(live),
          fc.constant('x'),
          fc.string({ maxLength: 40 }),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        timer,
        events: fc.oneof(fc.array(event, { maxLength: 30 }), fc.jsonValue({ maxDepth: 2 })),
        userAgent: fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    );
    // Close to what the snippet sends, with a hostile element now and then: the bodies that get stored.
    const sound = fc.record({
      type: fc.constantFrom(0, 1, 2, 3, 4, 6, 7),
      data: fc.record({ source: fc.integer({ min: 0, max: 15 }) }),
      timestamp: fc.integer({ min: now - 6 * DAY_MS, max: now + DAY_MS / 2 }),
    });
    const nearlySound = fc.record({
      sessionIdentifier: fc.constant(live),
      timer: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: MAX_TIMER_S }) }, timer),
      events: fc.array(fc.oneof({ weight: 12, arbitrary: sound }, custom, event), { maxLength: 20 }),
    });
    const text = fc.oneof(
      { weight: 4, arbitrary: track.map((t) => JSON.stringify(t)) },
      { weight: 4, arbitrary: nearlySound.map((t) => JSON.stringify(t)) },
      // A timer written as a JSON number too large for a double.
      {
        weight: 1,
        arbitrary: track.map((t) =>
          JSON.stringify({ ...t, sessionIdentifier: live, timer: 'INF' }).replace(
            '"timer":"INF"',
            '"timer":1e400',
          ),
        ),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    );
    const body = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({ text, gzip: fc.boolean(), cut: fc.boolean() }).map(({ text, gzip, cut }) => {
          if (!gzip) return Buffer.from(text);
          const z = gzipSync(text);
          return cut ? z.subarray(0, Math.max(2, z.length >> 1)) : z;
        }),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
    );

    const before = sessionRows(sessionId).batches.length;
    // Bodies answered 200, by the hash of their decompressed bytes: fast-check may generate the same
    // body twice (plain and gzipped, or two empty batches), and the contract stores it once.
    const accepted = new Set<string>();
    const pinger = pingUntilStopped(() => ping());
    try {
      await fc.assert(
        fc.asyncProperty(body, async (bytes) => {
          const a = await post(main, TRACK, bytes);
          expect(a.error, `no answer: ${a.error}`).toBeUndefined();
          expect([200, 413, 422], a.text.slice(0, 300)).toContain(a.status);
          expect(a.bytes).toBeLessThanOrEqual(8192);
          if (a.status === 422) {
            const { errors } = expect422(a);
            const claimed = (() => {
              try {
                return JSON.parse((bytes[0] === 0x1f ? gunzipSync(bytes) : bytes).toString('utf8'))
                  ?.sessionIdentifier;
              } catch {
                return undefined;
              }
            })();
            // The identifier is checked before the events are walked.
            if (claimed !== live && !('body' in errors)) {
              expect(Object.keys(errors).filter((k) => k.startsWith('events.'))).toEqual([]);
            }
          }
          if (a.status === 200) {
            accepted.add(
              createHash('sha256')
                .update(bytes[0] === 0x1f ? gunzipSync(bytes) : bytes)
                .digest('hex'),
            );
          }
          expect(main.alive()).toBe(true);
        }),
        { numRuns: 200 },
      );
    } finally {
      const pings = await pinger.stop();
      const slow = pings
        .filter((p) => p.status !== 200 || p.ms >= CALM_MS)
        .map((p) => `${p.status} in ${Math.round(p.ms)} ms`);
      expect(slow, 'well-formed /session requests slow or refused during the generated bodies').toEqual([]);
    }

    // Nothing bad stored: whatever was accepted holds only known types, timestamps within the session's
    // lifetime and finite timers within the maximum age.
    const { batches, session } = sessionRows(sessionId);
    expect(batches.length - before).toBe(accepted.size);
    expect(Number.isFinite(session.time_spend)).toBe(true);
    for (const b of batches) {
      if (b.timer !== null) expect(b.timer >= 0 && b.timer <= MAX_TIMER_S, `timer ${b.timer}`).toBe(true);
      for (const e of storedEvents(b.events)) {
        expect(
          Number.isInteger(e.type) && (e.type as number) >= 0 && (e.type as number) <= 7,
          `type ${e.type}`,
        ).toBe(true);
        expect(
          Number.isInteger(e.timestamp) &&
            (e.timestamp as number) >= session.created_ms - 7 * DAY_MS &&
            (e.timestamp as number) <= Date.now() + DAY_MS,
          `timestamp ${e.timestamp}`,
        ).toBe(true);
      }
    }
  }, 120_000);
});
