import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimit } from '../../src/deliver/budget';
import { createDelivery, makeBatch, SHARED_CHECK_MS } from '../../src/deliver/delivery';
import { type _Backend, _createOutboxOn, _localStorageBackend } from '../../src/deliver/outbox';
import { buildBody } from '../../src/deliver/queue';
import { createTransport } from '../../src/deliver/transport';
import { createDebug } from '../../src/lib/debug';
import { fakeFetch, fakeOutbox, type Reply } from './fake-network';

// Delivery under the faults of the e2e fault tests, with a fake clock: what must never be lost.

const url = 'https://c.example/api/services/analytics/v1/track';

function setup(reply: (index: number) => Reply, remint: (rejected: string) => Promise<string>) {
  const net = fakeFetch((_, i) => reply(i));
  const outbox = fakeOutbox();
  const delivery = createDelivery({
    transport: createTransport({ url, contentType: 'text/plain', compress: false, fetch: net.fetch }),
    outbox,
    rate: createRateLimit(),
    debug: createDebug(false),
    report: () => {},
    remint,
    onDropped: () => {},
    // The longest wait full jitter allows: the backoff grows as fast as it can.
    random: () => 0.999,
  });
  return { net, outbox, delivery };
}

const batchOf = (name: string, sid = 'sid-1') =>
  makeBatch(
    buildBody(
      sid,
      1,
      [JSON.stringify({ type: 5, data: { tag: 'event', payload: { name } }, timestamp: 1 })],
      'UA',
    ),
    1,
    Date.now(),
  );

describe('delivery under faults', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tries the outbox again at the next flush instead of waiting out a long backoff', async () => {
    // Six 5xx answers (at 0, 1, 3, 7, 15 and 31 s) grow the next wait to 32 s; the collector is back after them.
    let failing = 6;
    const { net, delivery, outbox } = setup(
      () => (failing-- > 0 ? { status: 500 } : { status: 200 }),
      async () => 'sid-new',
    );
    const a = batchOf('a');
    await delivery.send(a);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(net.requests).toHaveLength(6);
    // The collector is back; the next flush brings a new batch, and both go at once, in order.
    const b = batchOf('b');
    await delivery.send(b);
    expect(net.requests.slice(6).map((r) => r.text)).toEqual([a.body, b.body]);
    expect(outbox.batches.size).toBe(0);
  });

  it('keeps a batch whose identifier was rejected when minting a new one fails, and sends it later', async () => {
    const rejected = { status: 422, body: '{"message":"bad","errors":{"sessionIdentifier":["expired"]}}' };
    let mints = 0;
    const { net, delivery, outbox } = setup(
      (i) => (net.requests[i]?.text.includes('sid-old') ? rejected : { status: 200 }),
      async () => {
        mints++;
        if (mints === 1) throw new Error('spoor: /session answered 429');
        return 'sid-new';
      },
    );
    const a = batchOf('a', 'sid-old');
    const b = batchOf('b', 'sid-old');
    await delivery.send(a);
    void delivery.send(b);
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.batches.size).toBe(2);
    await vi.advanceTimersByTimeAsync(5_000);
    const accepted = net
      .tracks()
      .filter((t: { sessionIdentifier: string }) => t.sessionIdentifier === 'sid-new')
      .map((t: { events: { data: { payload: { name: string } } }[] }) => t.events[0]?.data.payload.name);
    expect(accepted).toEqual(['a', 'b']);
    expect(outbox.batches.size).toBe(0);
  });
});

describe('delivery across tabs', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the batches a tab left in the shared outbox during a Retry-After from a tab whose own sends succeed', async () => {
    // One client IP: the window ends 30 s after the first tab's 429, whichever tab asks.
    const windowEnds = Date.now() + 30_000;
    const net = fakeFetch(() =>
      Date.now() < windowEnds ? { status: 429, headers: { 'Retry-After': '30' } } : { status: 200 },
    );
    const outbox = fakeOutbox();
    const tab = () =>
      createDelivery({
        transport: createTransport({ url, contentType: 'text/plain', compress: false, fetch: net.fetch }),
        outbox,
        rate: createRateLimit(),
        debug: createDebug(false),
        report: () => {},
        remint: async () => 'sid-new',
        onDropped: () => {},
      });
    const leaving = tab();
    const staying = tab();
    const a = batchOf('a', 'sid-leaving');
    await leaving.send(a);
    // The tab leaves while its pause runs: its batch stays in the outbox, unsent.
    leaving.hide([]);
    leaving.stop();
    expect([...outbox.batches.keys()]).toEqual([a.id]);
    await vi.advanceTimersByTimeAsync(31_000);
    // The other tab never met a 429; its flushes are answered 200. It reads the shared outbox after a
    // delivered batch at most once a minute, not after every one (an IndexedDB transaction each).
    const b = batchOf('b', 'sid-staying');
    await staying.send(b);
    expect(net.requests.slice(1).map((r) => r.text)).toEqual([b.body]);
    await vi.advanceTimersByTimeAsync(SHARED_CHECK_MS - 31_000);
    const c = batchOf('c', 'sid-staying');
    await staying.send(c);
    expect(net.requests.slice(1).map((r) => r.text)).toEqual([b.body, c.body, a.body]);
    expect(outbox.batches.size).toBe(0);
  });
});

describe('outbox at page hide', () => {
  it('keeps a batch in localStorage within the same task, before any asynchronous write could run', async () => {
    // IndexedDB that never completes, as when the page is torn down before the transaction runs.
    const stuck: _Backend = {
      kind: 'indexeddb',
      readAll: async () => [],
      write: () => new Promise<void>(() => {}),
      delete: async () => {},
    };
    const namespace = `hide-${Math.random()}`;
    const box = _createOutboxOn([stuck, _localStorageBackend(localStorage, namespace)], localStorage, {
      namespace,
      maxBytes: 1_000_000,
      onDrop: () => {},
    });
    const before = localStorage.length;
    box.keepNow({ id: 'b1', body: '{"x":1}', createdAt: 1, bytes: 7 });
    expect(localStorage.length).toBe(before + 1);
    expect((await _localStorageBackend(localStorage, namespace).readAll()).map((b) => b.id)).toEqual(['b1']);
  });
});
