// When events leave as batches: the batcher alone, on fake timers, with a session, a timer and a
// delivery that only record what they are asked. tracker.test.ts and idle.test.ts cover it wired.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBatcher, MAX_RAW_BYTES, TIMER_ONLY_EVERY } from '../../src/deliver/batcher';
import type { Batch } from '../../src/deliver/delivery';
import { KEEPALIVE_BUDGET } from '../../src/deliver/transport';
import { createDebug, type DebugEvent } from '../../src/lib/debug';
import { customEvent } from '../../src/types';

interface Body {
  sessionIdentifier: string;
  timer: number;
  events: { data: { payload: { name: string } } }[];
  userAgent: string;
}

const INTERVAL = 5_000;
const bodyOf = (batch: Batch) => JSON.parse(batch.body) as Body;
const namesOf = (batch: Batch) => bodyOf(batch).events.map((event) => event.data.payload.name);
const event = (name: string, pad = '') => customEvent('event', { name, pad }, Date.now());

/** A deferred promise, to settle a send or a mint when the test says so. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(limits: { maxBatchBytes?: number; flushInterval?: number; ratio?: () => number } = {}) {
  // The session: `sid` is the identifier held now; `mint` settles a pending acquire().
  let sid: string | undefined = 'sid-1';
  let mint = deferred<string>();
  const acquire = vi.fn(() => (sid ? Promise.resolve(sid) : mint.promise));
  const session = { current: () => sid, acquire };
  // The visit's active seconds, set by the test: a value, or read from the clock.
  let seconds: number | (() => number) = 0;
  // What the delivery was handed: sent batches (each settles when the test says) and hidden ones.
  const sent: Batch[] = [];
  const settle = new Map<Batch, () => void>();
  const hidden: Batch[][] = [];
  const delivery = {
    send: (batch: Batch) => {
      sent.push(batch);
      const done = deferred();
      settle.set(batch, done.resolve);
      return done.promise;
    },
    hide: (batches: Batch[]) => void hidden.push(batches),
  };
  const debug = createDebug(false);
  const timers: number[] = [];
  debug.subscribe((e: DebugEvent) => {
    if (e.kind === 'timer') timers.push(e.seconds);
  });
  const report = vi.fn();
  const batcher = createBatcher(
    { maxBatchBytes: limits.maxBatchBytes ?? 50_000, flushInterval: limits.flushInterval ?? INTERVAL },
    {
      session,
      timer: { seconds: () => (typeof seconds === 'number' ? seconds : seconds()) },
      delivery,
      debug,
      report,
      now: Date.now,
      userAgent: 'UA',
      ...(limits.ratio ? { ratio: limits.ratio } : {}),
    },
  );
  return {
    batcher,
    sent,
    hidden,
    timers,
    report,
    acquire,
    /** Settles every send so far. */
    settleAll: () => {
      for (const resolve of settle.values()) resolve();
    },
    settle: (batch: Batch | undefined) => settle.get(batch as Batch)?.(),
    setSeconds: (value: number | (() => number)) => {
      seconds = value;
    },
    /** Drops the identifier: acquire() now waits for `mintDone` or fails with `mintFailed`. */
    noIdentifier: () => {
      sid = undefined;
      mint = deferred<string>();
    },
    mintDone: (value: string) => {
      sid = value;
      mint.resolve(value);
    },
    mintFailed: () => mint.reject(new Error('mint failed')),
  };
}

describe('batcher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the events queued since the last batch at each flush interval, with the visit timer', async () => {
    const s = setup();
    s.batcher.add(event('a'));
    s.batcher.add(event('b'));
    s.setSeconds(4.9);
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(s.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.sent.map(namesOf)).toEqual([['a', 'b']]);
    expect(bodyOf(s.sent[0] as Batch)).toMatchObject({
      sessionIdentifier: 'sid-1',
      timer: 4.9,
      userAgent: 'UA',
    });
    s.batcher.add(event('c'));
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(s.sent.map(namesOf)).toEqual([['a', 'b'], ['c']]);
    s.batcher.stop();
  });

  it('sends nothing at the interval while no event waits and the timer stands still (a hidden or unfocused page)', async () => {
    const s = setup();
    s.setSeconds(2);
    s.batcher.add(event('a'));
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(s.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10 * TIMER_ONLY_EVERY);
    expect(s.sent).toHaveLength(1);
    s.batcher.stop();
  });

  it('sends the timer alone at most once a minute while it moves and no event waits', async () => {
    const s = setup();
    // The timer moves with the clock, as on a visible, focused page.
    const started = Date.now();
    s.setSeconds(() => (Date.now() - started) / 1000);
    await vi.advanceTimersByTimeAsync(TIMER_ONLY_EVERY - 1);
    expect(s.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2 * TIMER_ONLY_EVERY);
    expect(s.sent).toHaveLength(3);
    expect(s.sent.map((batch) => bodyOf(batch).events)).toEqual([[], [], []]);
    expect(s.sent.map((batch) => bodyOf(batch).timer)).toEqual([60, 120, 180]);
    // An event goes at the next interval, not a minute later.
    s.batcher.add(event('late'));
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(s.sent.map(namesOf).at(-1)).toEqual(['late']);
    s.batcher.stop();
  });

  it('sends a full batch at once and keeps the events past the limit for the next batch', async () => {
    const s = setup({ maxBatchBytes: 1000, flushInterval: 60_000 });
    const sizeOf = (name: string) => JSON.stringify(event(name, 'x'.repeat(200))).length;
    let added = 0;
    let bytes = 0;
    // Add events until the queue has just reached the limit.
    while (bytes < 1000) {
      const name = `e${added++}`;
      bytes += sizeOf(name) + (added > 1 ? 1 : 0);
      s.batcher.add(event(name, 'x'.repeat(200)));
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(s.sent).toHaveLength(1);
    const first = s.sent[0] as Batch;
    expect(first.bytes).toBe(new TextEncoder().encode(first.body).length);
    expect(first.bytes).toBeLessThanOrEqual(1000);
    // The event that crossed the limit did not leave alone in a second, tiny request: it waits.
    expect(namesOf(first)).toEqual(Array.from({ length: added - 1 }, (_, i) => `e${i}`));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.sent.map(namesOf)[1]).toEqual([`e${added - 1}`]);
    s.batcher.stop();
  });

  it('sends an event too big for any batch at once, in a batch of its own', async () => {
    const s = setup({ maxBatchBytes: 1000, flushInterval: 60_000 });
    s.batcher.add(event('small'));
    s.batcher.add(event('huge', 'x'.repeat(2000)));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.sent.map(namesOf)).toEqual([['small'], ['huge']]);
    s.batcher.stop();
  });

  it('holds batches cut before an identifier arrives and sends them, in order, when told it has', async () => {
    const s = setup();
    s.noIdentifier();
    s.setSeconds(1);
    s.batcher.add(event('first visit'));
    await vi.advanceTimersByTimeAsync(INTERVAL);
    s.batcher.visit();
    s.setSeconds(0.5);
    s.batcher.add(event('second visit'));
    s.batcher.cut();
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(s.sent).toHaveLength(0);
    s.mintDone('sid-late');
    await vi.advanceTimersByTimeAsync(0);
    // The flushes waiting on the mint sent them (the tracker's send() on the mint's arrival would too).
    expect(s.sent.map(namesOf)).toEqual([['first visit'], ['second visit']]);
    expect(s.sent.map((batch) => bodyOf(batch).sessionIdentifier)).toEqual(['sid-late', 'sid-late']);
    expect(s.sent.map((batch) => bodyOf(batch).timer)).toEqual([1, 0.5]);
    s.batcher.stop();
  });

  it('sends what was cut once send() is called after an identifier arrived, and nothing before', () => {
    const s = setup();
    s.noIdentifier();
    s.batcher.add(event('a'));
    s.batcher.cut();
    expect(s.sent).toHaveLength(0);
    s.mintDone('sid-2');
    s.batcher.send();
    expect(s.sent.map(namesOf)).toEqual([['a']]);
    s.batcher.stop();
  });

  it('cuts at each visit boundary so that a batch never spans two visits', () => {
    const s = setup();
    s.batcher.add(event('one'));
    s.setSeconds(7);
    s.batcher.visit();
    s.setSeconds(0);
    s.batcher.add(event('two'));
    s.batcher.cut();
    expect(s.sent.map(namesOf)).toEqual([['one'], ['two']]);
    expect(s.sent.map((batch) => bodyOf(batch).timer)).toEqual([7, 0]);
    s.batcher.stop();
  });

  it("sends the next visit's timer at page hide even when it equals the last visit's", () => {
    const s = setup();
    s.setSeconds(3);
    s.batcher.visit();
    // The new visit counts from zero and reaches 3 s again, with no event.
    s.setSeconds(3);
    s.batcher.hide();
    const hidden = s.hidden.flat();
    expect(hidden).toHaveLength(1);
    expect(bodyOf(hidden[0] as Batch)).toMatchObject({ timer: 3, events: [] });
  });

  it('does not send an unchanged timer again when nothing happened since the last batch', () => {
    const s = setup();
    s.setSeconds(3);
    s.batcher.cut();
    s.batcher.cut();
    s.batcher.hide();
    expect(s.sent).toHaveLength(1);
    expect(s.hidden.flat()).toHaveLength(0);
    expect(s.timers).toEqual([3]);
  });

  it('hands everything to the delivery at page hide, in bodies within the keepalive budget', () => {
    const s = setup({ maxBatchBytes: 200_000 });
    for (let i = 0; i < 10; i++) s.batcher.add(event(`e${i}`, 'x'.repeat(10_000)));
    s.batcher.hide();
    expect(s.sent).toHaveLength(0);
    const batches = s.hidden.flat();
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.bytes).toBeLessThanOrEqual(KEEPALIVE_BUDGET);
    expect(batches.flatMap(namesOf)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
  });

  it('at page hide and at finish, marks batches made before any identifier for the next page load to fill in', async () => {
    const s = setup();
    s.noIdentifier();
    s.batcher.add(event('hidden'));
    s.batcher.hide();
    expect(s.hidden.flat().map((batch) => bodyOf(batch).sessionIdentifier)).toEqual(['']);
    s.batcher.add(event('stopping'));
    let finished = false;
    void s.batcher.finish().then(() => {
      finished = true;
    });
    expect(s.sent.map(namesOf)).toEqual([['stopping']]);
    expect(bodyOf(s.sent[0] as Batch).sessionIdentifier).toBe('');
    await vi.advanceTimersByTimeAsync(0);
    expect(finished).toBe(false);
    s.settleAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(finished).toBe(true);
    s.batcher.stop();
  });

  it('settles flush() only once every batch handed to the delivery before it has settled too', async () => {
    const s = setup();
    s.batcher.add(event('visit'));
    s.batcher.cut();
    s.batcher.add(event('pending'));
    let flushed = false;
    void s.batcher.flush().then(() => {
      flushed = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(s.sent.map(namesOf)).toEqual([['visit'], ['pending']]);
    s.settle(s.sent[1]);
    await vi.advanceTimersByTimeAsync(0);
    expect(flushed).toBe(false);
    s.settle(s.sent[0]);
    await vi.advanceTimersByTimeAsync(0);
    expect(flushed).toBe(true);
    s.batcher.stop();
  });

  it('settles flush() at once without sending when no identifier can be had, and keeps the events', async () => {
    const s = setup();
    s.noIdentifier();
    s.batcher.add(event('kept'));
    const flushed = s.batcher.flush();
    s.mintFailed();
    await expect(flushed).resolves.toBeUndefined();
    expect(s.sent).toHaveLength(0);
    s.mintDone('sid-3');
    s.batcher.send();
    expect(s.sent.map(namesOf)).toEqual([['kept']]);
    s.batcher.stop();
  });

  it('sends nothing after stop(): no interval, no flush, and no identifier asked for', async () => {
    const s = setup();
    s.batcher.stop();
    s.acquire.mockClear();
    s.batcher.add(event('after stop'));
    await s.batcher.flush();
    s.batcher.send();
    s.batcher.hide();
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);
    expect(s.sent).toHaveLength(0);
    expect(s.hidden.flat()).toHaveLength(0);
    expect(s.acquire).not.toHaveBeenCalled();
    expect(s.report).not.toHaveBeenCalled();
  });

  it('sizes batches by their bytes on the wire: at a gzip ratio of 1/8, 8 times the JSON of maxBatchBytes', async () => {
    let ratio = 1 / 8;
    const s = setup({ maxBatchBytes: 1000, flushInterval: 60_000, ratio: () => ratio });
    const pad = 'x'.repeat(200);
    const one = JSON.stringify(event('e0', pad)).length;
    let added = 0;
    while (s.sent.length === 0) {
      s.batcher.add(event(`e${added++}`, pad));
      await vi.advanceTimersByTimeAsync(0);
    }
    const first = s.sent[0] as Batch;
    expect(first.bytes).toBeLessThanOrEqual(8000);
    expect(first.bytes).toBeGreaterThan(8000 - 2 * one);
    // The ratio the last body came out at sizes the next: at 1/2, twice the JSON.
    ratio = 1 / 2;
    while (s.sent.length === 1) {
      s.batcher.add(event(`e${added++}`, pad));
      await vi.advanceTimersByTimeAsync(0);
    }
    expect((s.sent[1] as Batch).bytes).toBeLessThanOrEqual(2000);
    expect((s.sent[1] as Batch).bytes).toBeGreaterThan(2000 - 2 * one);
    s.batcher.stop();
  });

  it("never lets a batch's JSON pass MAX_RAW_BYTES, however well it compresses", async () => {
    const s = setup({ maxBatchBytes: 100_000, flushInterval: 60_000, ratio: () => 1 / 50 });
    for (let i = 0; i < 30; i++) s.batcher.add(event(`e${i}`, 'x'.repeat(100_000)));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.sent.length).toBeGreaterThan(1);
    for (const batch of s.sent) expect(batch.bytes).toBeLessThanOrEqual(MAX_RAW_BYTES);
    s.batcher.stop();
  });

  it('sends one request per flush interval while busy, plus one per full batch: the interval after a full batch waits', async () => {
    const s = setup({ maxBatchBytes: 5000, flushInterval: INTERVAL });
    const pad = 'x'.repeat(400);
    // A busy page: an event every 100 ms, about 4.5 KB a second, so a batch fills a little after 1 s.
    let n = 0;
    const busy = setInterval(() => s.batcher.add(event(`e${n++}`, pad)), 100);
    await vi.advanceTimersByTimeAsync(30_000);
    clearInterval(busy);
    s.settleAll();
    // 30 s at one full batch every ~1.1 s: every batch left because it was full, none for the interval.
    const full = s.sent.filter((batch) => batch.bytes > 4000).length;
    expect(full).toBe(s.sent.length);
    // A quieter page: the interval sends what there is, once per interval, and never twice in one.
    const quiet = setup({ maxBatchBytes: 50_000, flushInterval: INTERVAL });
    const slow = setInterval(() => quiet.batcher.add(event('tick')), 300);
    await vi.advanceTimersByTimeAsync(30_000);
    clearInterval(slow);
    expect(quiet.sent.length).toBe(30_000 / INTERVAL);
    s.batcher.stop();
    quiet.batcher.stop();
  });

  it("after a full batch, keeps the next interval's events for the interval after: no second request in one interval", async () => {
    const s = setup({ maxBatchBytes: 2000, flushInterval: INTERVAL });
    await vi.advanceTimersByTimeAsync(INTERVAL - 1000);
    for (let i = 0; i < 10; i++) s.batcher.add(event(`full${i}`, 'x'.repeat(200)));
    await vi.advanceTimersByTimeAsync(0);
    const afterFull = s.sent.length;
    expect(afterFull).toBeGreaterThan(0);
    s.batcher.add(event('small'));
    // The interval 1 s after the full batch sends nothing; the one after it sends the event.
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.sent.length).toBe(afterFull);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(s.sent.slice(afterFull).flatMap(namesOf)).toContain('small');
    s.batcher.stop();
  });
});
