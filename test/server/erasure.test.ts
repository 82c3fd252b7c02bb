// Erasure (POST .../sessions/erase) and retention (SPOOR_RETENTION_DAYS) over real HTTP on a real
// SQLite file, with the Flameup relay wired in: rows are counted in every table before and after.
import { afterEach, describe, expect, it } from 'vitest';
import { createFlameupRelay, type FlameupRelay } from '../../server/relay/relay.js';
import { createEraser, startRetention } from '../../server/store/retention.js';
import { type Answer, type Collector, custom, sqliteIt, startCollector, V1, visit } from './harness.js';

const DAY = 86_400_000;

interface Wired extends Collector {
  flameup: FlameupRelay;
  erase(body: unknown, token?: string): Promise<Answer>;
  /** Records one session: a visit, a conversion, a web vital, a named event, identified as `who`. */
  visitor(who: string): Promise<number>;
  /** Every table's row count, the relay's included. */
  counts(): Promise<Record<string, number>>;
}

let open: Wired | null = null;

async function wired(env: Record<string, string> = {}): Promise<Wired> {
  let flameup: FlameupRelay | undefined;
  const c = await startCollector(env, {
    // Configured but never started: the queued rows stay in the queue, where erasure must find them.
    flameup: (store, project) => {
      flameup = createFlameupRelay({ engine: store.engine, durable: () => store.durable() });
      flameup.configure(project.id, { apiKey: 'fl-key', url: 'http://127.0.0.1:9/track' });
      return flameup;
    },
  });
  const relay = flameup as FlameupRelay;
  const { store, project, clock, post } = c;
  const w: Wired = {
    ...c,
    get sqlite() {
      return c.sqlite;
    },
    flameup: relay,
    erase: (body, token = c.config.apiToken) =>
      post(`${V1}/sessions/erase`, body, { Authorization: `Bearer ${token}` }),
    async visitor(who) {
      const id = await c.session();
      const t = clock.now;
      const events = [
        visit(`https://shop.test/${who}`, t),
        custom('identify', { externalId: who }, t + 1),
        custom('conversion', { type: 'click', goal: 'buy', target: '#buy' }, t + 2),
        custom(
          'web-vital',
          { name: 'LCP', value: 1200, rating: 'good', delta: 1200, id: 'v1', navigationType: 'navigate' },
          t + 3,
        ),
        custom('event', { name: 'purchase', parameters: { total: 9 } }, t + 4),
      ];
      const tracked = await post(`${V1}/track`, { sessionIdentifier: id, timer: 3, events });
      expect(tracked.status).toBe(200);
      const listed = await store.sessionsByExternalId(project.id, who, 100);
      return listed[listed.length - 1] as number;
    },
    counts: async () => ({ ...(await store.counts()), ...(await relay.store.tableCounts()) }),
  };
  open = w;
  return w;
}

/** Each visitor() session holds one row in every table. */
const each = (n: number) => ({
  sessions: n,
  batches: n,
  batch_hashes: n,
  visits: n,
  conversions: n,
  vitals: n,
  named_events: n,
  flameup_events: n,
  flameup_identities: n,
});

afterEach(async () => {
  await open?.close();
  open = null;
});

describe('erasing a visitor', () => {
  it('erases every session of an external_id from every table, the Flameup queue included, and nothing of anyone else', async () => {
    const w = await wired();
    await w.visitor('alice@example.com');
    await w.visitor('alice@example.com');
    const bob = await w.visitor('bob@example.com');
    expect(await w.counts()).toEqual(each(3));

    const answer = await w.erase({ external_id: 'alice@example.com' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: true, erased: 2, remaining: false });
    expect(await w.counts()).toEqual(each(1));
    expect((await w.store.sessionById(bob))?.external_id).toBe('bob@example.com');
    expect((await w.flameup.store.rows()).map((r) => r.session_id)).toEqual([bob]);
  });

  it('erases sessions by id, and the erased session is then unknown to the read endpoints', async () => {
    const w = await wired();
    const one = await w.visitor('a');
    await w.visitor('b');
    expect((await w.erase({ session_ids: [one] })).body).toMatchObject({ status: true, erased: 1 });
    expect(await w.counts()).toEqual(each(1));
    const events = await w.post(
      `${V1}/sessions/get-events`,
      { session_id: one },
      { Authorization: `Bearer ${w.config.apiToken}` },
    );
    expect(events.status).toBe(422);
  });

  it("refuses without a token, with neither or both selectors, and another project's session, erasing nothing", async () => {
    const w = await wired();
    const id = await w.visitor('a');
    await w.store.ensureProject({
      publicKey: 'pk_other',
      apiToken: 'other-token',
      name: 'Other',
      allowedOrigins: null,
    });
    expect((await w.erase({ session_ids: [id] }, 'wrong-token')).status).toBe(401);
    const neither = await w.erase({});
    expect(neither.status).toBe(422);
    expect(neither.body.errors).toEqual({
      session_ids: ['Exactly one of the session_ids and external_id fields is required.'],
    });
    expect((await w.erase({ session_ids: [id], external_id: 'a' })).status).toBe(422);
    expect((await w.erase({ session_ids: ['x'] })).body.errors).toEqual({
      'session_ids.0': ['The session_ids.0 field must be an integer.'],
    });
    const foreign = await w.erase({ session_ids: [id] }, 'other-token');
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors).toEqual({ 'session_ids.0': ['The selected session_ids.0 is invalid.'] });
    expect(await w.counts()).toEqual(each(1));
  });

  sqliteIt('deletes a large session in many short pieces, each its own group commit', async () => {
    const w = await wired();
    const id = await w.visitor('a');
    const groupsBefore = w.sqlite.commitGroups;
    const eraser = createEraser({ store: w.store, forget: w.flameup.store.forgetProgram, rowsPerChunk: 2 });
    expect(await eraser.erase([id])).toBe(1);
    // 6 rows in the session's tables (its batch's hash goes with the batch), 2 a piece: at least 3
    // pieces, each committed on its own, before the session row itself.
    expect(w.sqlite.commitGroups - groupsBefore).toBeGreaterThanOrEqual(3);
    expect(await w.counts()).toEqual(each(0));
  });
});

describe('retention', () => {
  it('erases sessions older than SPOOR_RETENTION_DAYS with everything attached, and keeps newer ones', async () => {
    const w = await wired();
    const start = w.clock.now;
    w.clock.now = start - 91 * DAY;
    await w.visitor('old-1');
    await w.visitor('old-2');
    w.clock.now = start - 89 * DAY;
    const kept = await w.visitor('recent');
    w.clock.now = start;
    expect(await w.counts()).toEqual(each(3));

    const eraser = createEraser({ store: w.store, forget: w.flameup.store.forgetProgram });
    const retention = startRetention({
      store: w.store,
      eraser,
      days: 90,
      now: () => start,
      firstDelayMs: 3_600_000,
    });
    expect(await retention.sweep()).toBe(2);
    await retention.stop();
    expect(await w.counts()).toEqual(each(1));
    expect(await w.store.sessionById(kept)).toBeDefined();
  });

  it('keeps everything with SPOOR_RETENTION_DAYS=0', async () => {
    const w = await wired();
    w.clock.now -= 3650 * DAY;
    await w.visitor('ancient');
    const retention = startRetention({
      store: w.store,
      eraser: createEraser({ store: w.store }),
      days: 0,
      firstDelayMs: 3_600_000,
    });
    expect(await retention.sweep()).toBe(0);
    await retention.stop();
    expect(await w.counts()).toEqual(each(1));
  });
});
