// The collector's Flameup relay. Its queue is a real SQLite file; Flameup is the published API's model
// (test/support/flameup-api.ts) behind an in-memory fetch, and the relay's clock, timers and that model's
// clock are Vitest's fake ones: "nothing more was sent" is checked after moving the clock past every
// retry the relay could have scheduled, never after a real sleep. The API key test at the end runs the
// relay against a real HTTP stand-in beside the real collector.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readIdentifier } from '../../server/crypto/identifier.js';
import { type CustomRow, customRow } from '../../server/ingest/check.js';
import { classify, createFlameupRelay, type FlameupRelay } from '../../server/relay/relay.js';
import { openStore, type SqliteStore } from '../../server/store/sqlite.js';
import { createFlameupApi, type FlameupApi, fetchOverApi, TRACK_PATH } from '../support/flameup-api.js';
import { type FlameupStandin, startFlameupStandin } from '../support/flameup-standin.js';
import { custom, startCollector, V1, visit } from './harness.js';

const KEY = 'fl_live_9f3c2a7be0d14c55a1e6b7c8d9e0f1a2';
const PROJECT = 1;
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const FLAMEUP_URL = `https://api.flameup.test${TRACK_PATH}`;
/** Longer than any wait the relay schedules with the test's backoff bounds (20 to 100 ms) or a 1 s
 *  Retry-After: whatever it would still send, it has sent once the clock has moved this far. */
const QUIET_MS = 60_000;

let dir: string;
let file: string;
let api: FlameupApi;
let open: { db: SqliteStore; relay: FlameupRelay }[] = [];
let logs: string[] = [];

/** A relay on the test's database file with short backoffs, as a collector process would make it. */
function relayOnFile(extra: Partial<Parameters<typeof createFlameupRelay>[0]> = {}) {
  const db = openStore(file);
  const relay = createFlameupRelay({
    engine: db.engine,
    fetch: fetchOverApi(api),
    random: () => 0.5,
    minDelayMs: 20,
    maxDelayMs: 100,
    log: (message) => logs.push(message),
    ...extra,
  });
  open.push({ db, relay });
  return relay;
}

/** Stops a relay and closes its database, as a collector shutting down does; the clock moves meanwhile
 *  so that stop() can give up on requests that never answer. */
async function shutDown(relay: FlameupRelay) {
  const entry = open.find((o) => o.relay === relay);
  const stopping = relay.stop();
  await vi.advanceTimersByTimeAsync(10_000);
  await stopping;
  await entry?.db.close();
  open = open.filter((o) => o !== entry);
}

/** The rows the ingest worker makes of an identify and a track event (server/ingest/check.ts). */
const identify = (externalId: string, timestamp: number) =>
  customRow({ tag: 'identify', payload: { externalId } }, timestamp) as CustomRow;
const event = (name: string, parameters: unknown, timestamp: number) =>
  customRow({ tag: 'event', payload: { name, parameters } }, timestamp) as CustomRow;

/** Moves the relay's clock, running every pass, request and retry due meanwhile. */
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spoor-flameup-'));
  file = join(dir, 'spoor.sqlite');
  logs = [];
});

afterEach(async () => {
  for (const { relay } of [...open]) await shutDown(relay);
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Flameup relay', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 + 60_000 });
    api = createFlameupApi({ apiKey: KEY });
  });

  it('forwards each event exactly once, in order, across a Flameup outage and a collector restart', async () => {
    api.fail({ kind: 'status', status: 503 });
    const first = relayOnFile();
    await first.configure(PROJECT, { apiKey: KEY, url: FLAMEUP_URL });
    first.start();
    const batch = [
      identify('user-42', T0),
      event('signup', { plan: 'pro' }, T0 + 1),
      event('add_to_cart', { sku: 'MUG-1', qty: 2 }, T0 + 2),
      event('checkout', {}, T0 + 3),
    ];
    await first.ingest(PROJECT, 7, batch, 'hash-a');
    // The same /track body again (a retry) must not queue anything twice.
    await first.ingest(PROJECT, 7, batch, 'hash-a');
    await advance(1_000);
    expect(api.requests.length).toBeGreaterThanOrEqual(3);
    api.fail({ kind: 'drop' });
    const seen = api.requests.length;
    await advance(1_000);
    expect(api.requests.length).toBeGreaterThanOrEqual(seen + 2);
    expect(api.accepted).toEqual([]);
    expect(await first.store.counts()).toEqual({ held: 0, pending: 3, sent: 0, failed: 0 });
    await shutDown(first);

    api.recover();
    const second = relayOnFile();
    second.start();
    await second.ingest(PROJECT, 7, batch, 'hash-a');
    await advance(QUIET_MS);
    expect(api.accepted.map((a) => a.body)).toEqual([
      {
        external_id: 'user-42',
        event: 'signup',
        parameters: { plan: 'pro' },
        timestamp: '2026-01-15T10:00:00.001Z',
      },
      {
        external_id: 'user-42',
        event: 'add_to_cart',
        parameters: { sku: 'MUG-1', qty: 2 },
        timestamp: '2026-01-15T10:00:00.002Z',
      },
      { external_id: 'user-42', event: 'checkout', parameters: {}, timestamp: '2026-01-15T10:00:00.003Z' },
    ]);
    expect(api.accepted[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(api.accepted[0]?.headers['content-type']).toBe('application/json');
    // Acknowledged rows are deleted: the events live at Flameup now.
    expect(await second.store.rows()).toEqual([]);
    expect(await second.store.counts()).toEqual({ held: 0, pending: 0, sent: 0, failed: 0 });
  });

  it("holds a session's events until its identify arrives, then forwards them in order under that id", async () => {
    const relay = relayOnFile();
    await relay.configure(PROJECT, { apiKey: KEY, url: FLAMEUP_URL });
    relay.start();
    await relay.ingest(
      PROJECT,
      1,
      [event('viewed', { page: 1 }, T0), event('viewed', { page: 2 }, T0 + 10)],
      'b1',
    );
    // Another, identified session is not held up by the first one.
    await relay.ingest(PROJECT, 2, [identify('other', T0), event('viewed', { page: 9 }, T0 + 5)], 'b2');
    await advance(QUIET_MS);
    expect(api.accepted.map((a) => a.body.external_id)).toEqual(['other']);
    expect((await relay.store.counts()).held).toBe(2);

    await relay.ingest(
      PROJECT,
      1,
      [event('viewed', { page: 3 }, T0 + 20), identify('user-7', T0 + 30)],
      'b3',
    );
    await relay.ingest(PROJECT, 1, [event('bought', {}, T0 + 40)], 'b4');
    await advance(QUIET_MS);
    const mine = api.accepted.filter((a) => a.body.external_id === 'user-7').map((a) => a.body);
    expect(mine.map((b) => [b.event, b.parameters])).toEqual([
      ['viewed', { page: 1 }],
      ['viewed', { page: 2 }],
      ['viewed', { page: 3 }],
      ['bought', {}],
    ]);
    // Acknowledged rows are deleted once Flameup has them.
    expect(await relay.store.counts()).toEqual({ held: 0, pending: 0, sent: 0, failed: 0 });
  });

  it('waits the Retry-After of a 429 before sending again, however short its own backoff is', async () => {
    api.fail({ kind: 'status', status: 429, retryAfter: '1' }, 1);
    const relay = relayOnFile();
    await relay.configure(PROJECT, { apiKey: KEY, url: FLAMEUP_URL });
    relay.start();
    await relay.ingest(PROJECT, 3, [identify('u', T0), event('a', {}, T0), event('b', {}, T0 + 1)], 'c1');
    await advance(0);
    expect((await relay.store.rows())[0]?.reason).toBe('retrying: HTTP 429');
    // Another session's event queued during the throttle waits for it too: the limit is the key's.
    await relay.ingest(PROJECT, 4, [identify('v', T0), event('c', {}, T0 + 2)], 'c2');
    await advance(999);
    expect(api.requests).toHaveLength(1);
    await advance(QUIET_MS);
    const [throttled, ...rest] = api.requests;
    expect(rest).toHaveLength(3);
    for (const r of rest) expect(r.at - (throttled?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect(api.accepted.map((a) => a.body.event).sort()).toEqual(['a', 'b', 'c']);
  });

  it('marks the event failed on a 401 and sends nothing more under the refused key', async () => {
    const relay = relayOnFile();
    await relay.configure(PROJECT, { apiKey: 'wrong-key', url: FLAMEUP_URL });
    relay.start();
    await relay.ingest(
      PROJECT,
      5,
      [identify('u', T0), ...[1, 2, 3, 4, 5].map((i) => event(`e${i}`, {}, T0 + i))],
      'd1',
    );
    await advance(QUIET_MS);
    expect(api.requests).toHaveLength(1);
    expect(api.accepted).toEqual([]);
    expect(await relay.store.counts()).toEqual({ held: 0, pending: 4, sent: 0, failed: 1 });
    const failed = (await relay.store.rows()).find((r) => r.state === 'failed');
    expect(failed?.event).toBe('e1');
    expect(failed?.reason).toMatch(/^rejected: HTTP 401/);
    expect(failed?.reason).not.toContain('wrong-key');
    expect(logs.join('\n')).not.toContain('wrong-key');

    // Fixing the key sends the events still queued; the failed one stays failed with its reason.
    await relay.configure(PROJECT, { apiKey: KEY, url: FLAMEUP_URL });
    await advance(QUIET_MS);
    expect(api.accepted.map((a) => a.body.event)).toEqual(['e2', 'e3', 'e4', 'e5']);
    // The forwarded rows were deleted once acknowledged; the failed one stays, with its reason.
    expect(await relay.store.counts()).toEqual({ held: 0, pending: 0, sent: 0, failed: 1 });
  });

  it('forwards only the configured event names, and nothing for a project without a setting', async () => {
    const relay = relayOnFile();
    await relay.configure(PROJECT, { apiKey: KEY, url: FLAMEUP_URL, events: ['purchase'] });
    relay.start();
    await relay.ingest(
      PROJECT,
      1,
      [identify('u', T0), event('viewed', {}, T0 + 1), event('purchase', { total: 9 }, T0 + 2)],
      'e1',
    );
    await relay.ingest(2, 2, [identify('w', T0), event('purchase', {}, T0)], 'e2');
    await advance(QUIET_MS);
    expect(api.accepted.map((a) => [a.body.external_id, a.body.event])).toEqual([['u', 'purchase']]);
    // The one forwarded row was deleted once acknowledged; the others were never queued.
    expect(await relay.store.rows()).toHaveLength(0);
  });

  it('keeps a malformed event as failed with its reason instead of sending it', async () => {
    const relay = relayOnFile();
    await relay.configure(PROJECT, { apiKey: KEY, url: FLAMEUP_URL });
    relay.start();
    await relay.ingest(
      PROJECT,
      1,
      [identify('u', T0), event('list', [1, 2], T0 + 1), event('ok', { a: 1 }, T0 + 2)],
      'f1',
    );
    await advance(QUIET_MS);
    expect(api.accepted.map((a) => a.body.event)).toEqual(['ok']);
    // 'ok' was deleted once Flameup acknowledged it; the failed one stays, with its reason.
    expect(await relay.store.rows()).toHaveLength(1);
    expect((await relay.store.rows()).map((r) => [r.event, r.state, r.reason])).toEqual([
      ['list', 'failed', 'parameters is not an object'],
    ]);
  });

  it('only writes rows in ingest, so a stalled Flameup holds up nothing, and stop() leaves the event queued', async () => {
    api.fail({ kind: 'stall' });
    const relay = relayOnFile({ stopTimeoutMs: 100 });
    await relay.configure(PROJECT, { apiKey: KEY, url: FLAMEUP_URL });
    relay.start();
    for (let i = 0; i < 50; i++)
      await relay.ingest(PROJECT, 1 + (i % 5), [identify('u', T0), event('x', { i }, T0 + i)], `g${i}`);
    // Every row is written by the time ingest returns, before any request has gone out.
    expect(api.requests).toHaveLength(0);
    expect((await relay.store.counts()).pending).toBe(50);
    await advance(10_000);
    // One request per session at most, and no more than the concurrency: no pile-up on a stalled API.
    expect(api.requests).toHaveLength(4);
    await shutDown(relay);
    const db = new Database(file);
    const counts = db.prepare('SELECT state, COUNT(*) AS n FROM flameup_events GROUP BY state').all();
    db.close();
    expect(counts).toEqual([{ state: 'pending', n: 50 }]);
  });

  it('classifies answers with the same rules as the snippet', () => {
    const fixed = { random: () => 0.5, now: T0 };
    expect(classify(200, 0, null, fixed)).toEqual({ kind: 'done' });
    expect(classify(undefined, 3, null, fixed)).toEqual({
      kind: 'retry',
      delayMs: 4000,
      countsAgainstBudget: true,
    });
    expect(classify(502, 0, null, fixed)).toEqual({
      kind: 'retry',
      delayMs: 1000,
      countsAgainstBudget: true,
    });
    expect(classify(503, 0, '30', fixed)).toEqual({
      kind: 'retry',
      delayMs: 30000,
      countsAgainstBudget: true,
    });
    expect(classify(429, 9, '7', fixed)).toEqual({
      kind: 'retry',
      delayMs: 7000,
      countsAgainstBudget: false,
    });
    expect(classify(429, 0, null, fixed)).toEqual({
      kind: 'retry',
      delayMs: 60000,
      countsAgainstBudget: false,
    });
    expect(classify(401, 0, null, fixed)).toEqual({ kind: 'fail', reason: 'rejected: HTTP 401' });
    expect(classify(422, 0, null, fixed)).toEqual({ kind: 'fail', reason: 'rejected: HTTP 422' });
  });
});

describe('the Flameup API key on the collector', () => {
  let standin: FlameupStandin;
  beforeEach(async () => {
    standin = await startFlameupStandin({ apiKey: KEY });
  });
  afterEach(async () => {
    await standin.close();
  });

  it('never appears in anything the collector sends to a browser', async () => {
    const c = await startCollector(
      { SPOOR_FLAMEUP_API_KEY: KEY, SPOOR_FLAMEUP_URL: standin.url },
      { startAt: Date.now() },
    );
    try {
      // The relay on the collector's database, as main.ts wires it for the demo project.
      const db = openStore(c.config.dbFile);
      const relay = createFlameupRelay({ engine: db.engine, minDelayMs: 20, log: (m) => logs.push(m) });
      open.push({ db, relay });
      await relay.configure(c.project.id, { apiKey: KEY, url: standin.url });
      relay.start();

      const seen: string[] = [];
      const keep = async (what: string, res: Response) => {
        const lines: string[] = [];
        res.headers.forEach((value, name) => {
          lines.push(`${name}: ${value}`);
        });
        const headers = lines.join('\n');
        seen.push(`${what} ${res.status}\n${headers}\n${await res.text()}`);
      };
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(c.url + path, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: c.url, ...headers },
          body: JSON.stringify(body),
        }).then((res) => keep(`POST ${path}`, res));

      // A visit that identifies and tracks, through the real /session and /track.
      const minted = await fetch(`${c.url}${V1}/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', Origin: c.url },
        body: JSON.stringify({ project: c.project.public_key, url: `${c.url}/` }),
      });
      const mintedText = await minted.text();
      seen.push(mintedText);
      const sessionIdentifier = (JSON.parse(mintedText) as { sessionIdentifier: string }).sessionIdentifier;
      const t = c.clock.now;
      const events = [
        visit(`${c.url}/`, t),
        custom('identify', { externalId: 'buyer-1' }, t + 1),
        custom('event', { name: 'purchase', parameters: { total: 12 } }, t + 2),
      ];
      await post(`${V1}/track`, { sessionIdentifier, timer: 1, events });
      await post(`${V1}/track`, { sessionIdentifier, events: 'not a list' });
      // Until the relay is wired into the /track route, the test hands it the stored batch itself.
      const sessionId = readIdentifier(sessionIdentifier, c.config.key)?.s ?? -1;
      await relay.ingest(
        c.project.id,
        sessionId,
        events.flatMap((e) => customRow(e.data as Record<string, unknown>, e.timestamp) ?? []),
        'key-test',
      );
      await standin.waitForAccepted(1);
      expect(standin.accepted[0]?.headers.authorization).toBe(`Bearer ${KEY}`);

      const token = { Authorization: `Bearer ${c.config.apiToken}` };
      const range = { start_date: '2000-01-01 00:00:00', end_date: '2100-01-01 00:00:00' };
      await post(`${V1}/project/sessions`, { ...range, sortKey: 'id', sortOrder: 'asc', filters: {} }, token);
      await post(`${V1}/sessions/get-visits`, { ...range, session_ids: [sessionId] }, token);
      await post(`${V1}/sessions/get-conversions`, { ...range, session_ids: [sessionId] }, token);
      await post(`${V1}/sessions/get-events`, { session_id: sessionId }, token);
      await post(`${V1}/project/sessions`, {}, { Authorization: 'Bearer wrong' });
      await fetch(`${c.url}${V1}/track`, { method: 'OPTIONS', headers: { Origin: c.url } }).then((r) =>
        keep('OPTIONS /track', r),
      );

      // Every static file the collector serves: the demo, the dashboard, the built snippet.
      const root = c.config.rootDir;
      const files = (folder: string): string[] => {
        try {
          return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
            .filter((d) => d.isFile())
            .map((d) => relative(join(root, folder), join(d.parentPath, d.name)).split(sep).join('/'));
        } catch {
          return [];
        }
      };
      const paths = [
        '/',
        '/dashboard',
        '/dashboard/',
        '/app/orders/42',
        '/no-such-page',
        ...files('demo').map((f) => `/${f}`),
        ...files('dist').map((f) => `/dist/${f}`),
      ];
      for (const path of paths) await fetch(c.url + path).then((res) => keep(`GET ${path}`, res));

      expect(paths.length).toBeGreaterThan(10);
      expect(seen.length).toBe(paths.length + 9);
      const leaks = seen.filter((text) => text.includes(KEY) || text.includes(KEY.slice(8, 24)));
      expect(leaks.map((text) => text.split('\n')[0])).toEqual([]);
    } finally {
      for (const { relay, db } of open.splice(0)) {
        await relay.stop();
        db.close();
      }
      await c.close();
    }
  });
});
