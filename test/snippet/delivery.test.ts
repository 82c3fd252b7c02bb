import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimit } from '../../src/deliver/budget';
import { createDelivery, makeBatch } from '../../src/deliver/delivery';
import type { Outbox } from '../../src/deliver/outbox';
import { buildBody } from '../../src/deliver/queue';
import { type Answer, createTransport, type Transport } from '../../src/deliver/transport';
import { createDebug, type DebugEvent } from '../../src/lib/debug';
import { fakeFetch, fakeOutbox, type Reply } from './fake-network';

const url = 'https://c.example/api/services/analytics/v1/track';

function setup(reply: (index: number) => Reply, remint = vi.fn(async () => 'sid-new')) {
  const net = fakeFetch((_, i) => reply(i));
  const outbox = fakeOutbox();
  const debug = createDebug(false);
  const events: DebugEvent[] = [];
  debug.subscribe((e) => events.push(e));
  const onDropped = vi.fn();
  const report = vi.fn();
  const delivery = createDelivery({
    transport: createTransport({ url, contentType: 'text/plain', compress: false, fetch: net.fetch }),
    outbox,
    rate: createRateLimit(),
    debug,
    report,
    remint,
    onDropped,
    random: () => 0.5,
  });
  return { net, outbox, delivery, events, onDropped, report, remint };
}

/** A delivery that reports nothing and never needs a new identifier, on the given transport and outbox. */
const quietDelivery = (transport: Transport, outbox: Outbox = fakeOutbox()) =>
  createDelivery({
    transport,
    outbox,
    rate: createRateLimit(),
    debug: createDebug(false),
    report: () => {},
    remint: async () => 'x',
    onDropped: () => {},
  });

const batchOf = (names: string[], sid = 'sid-1') => {
  const events = names.map((name, i) =>
    JSON.stringify({ type: 5, data: { tag: 'event', payload: { name } }, timestamp: i }),
  );
  return makeBatch(buildBody(sid, 1, events, 'UA'), events.length, Date.now());
};

describe('delivery', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends batches one at a time, in order', async () => {
    const { net, delivery } = setup(() => ({ status: 200 }));
    const a = batchOf(['a']);
    const b = batchOf(['b']);
    await Promise.all([delivery.send(a), delivery.send(b)]);
    expect(net.requests.map((r) => r.text)).toEqual([a.body, b.body]);
  });

  it('keeps a batch that met a network error in the outbox and resends the same bytes later', async () => {
    const { net, delivery, outbox } = setup((i) => (i === 0 ? 'network-error' : { status: 200 }));
    const a = batchOf(['a']);
    await delivery.send(a);
    expect([...outbox.batches.keys()]).toEqual([a.id]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(net.requests).toHaveLength(2);
    expect(net.requests[1]?.text).toBe(a.body);
    expect(outbox.batches.size).toBe(0);
  });

  it('queues later batches behind one kept in the outbox so the order holds', async () => {
    const { net, delivery } = setup((i) => (i === 0 ? { status: 503 } : { status: 200 }));
    const a = batchOf(['a']);
    const b = batchOf(['b']);
    await delivery.send(a);
    await delivery.send(b);
    expect(net.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(net.requests.map((r) => r.text)).toEqual([a.body, a.body, b.body]);
  });

  it('resends what an earlier page left in the outbox', async () => {
    const { net, delivery, outbox } = setup(() => ({ status: 200 }));
    const left = batchOf(['left behind']);
    await outbox.put({ id: left.id, body: left.body, createdAt: left.createdAt, bytes: left.bytes });
    await delivery.drain();
    expect(net.requests.map((r) => r.text)).toEqual([left.body]);
    expect(outbox.batches.size).toBe(0);
  });

  it('does not drain while another tab holds the outbox lock', async () => {
    const { net, delivery, outbox } = setup(() => ({ status: 200 }));
    const left = batchOf(['x']);
    await outbox.put({ id: left.id, body: left.body, createdAt: left.createdAt, bytes: left.bytes });
    outbox.locked = true;
    await delivery.drain();
    expect(net.requests).toHaveLength(0);
    outbox.locked = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(net.requests).toHaveLength(1);
  });

  it('waits Retry-After seconds after a 429 and keeps the batch meanwhile', async () => {
    const { net, delivery, events } = setup((i) =>
      i === 0 ? { status: 429, headers: { 'Retry-After': '30' } } : { status: 200 },
    );
    const a = batchOf(['a']);
    await delivery.send(a);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(net.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(net.requests).toHaveLength(2);
    expect(net.requests[1]?.text).toBe(a.body);
    expect(events.find((e) => e.kind === 'batch' && e.status === 429)).toMatchObject({ retryAfter: 30_000 });
  });

  it('waits until the HTTP date of Retry-After after a 429', async () => {
    const later = new Date(Date.now() + 90_000).toUTCString();
    const { net, delivery } = setup((i) =>
      i === 0 ? { status: 429, headers: { 'Retry-After': later } } : { status: 200 },
    );
    await delivery.send(batchOf(['a']));
    // A second batch must not slip past the pause either.
    void delivery.send(batchOf(['b']));
    await vi.advanceTimersByTimeAsync(85_000);
    expect(net.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(net.requests).toHaveLength(3);
  });

  it('sends nothing at page hide while a 429 pause lasts, keeping the batch for later', async () => {
    const { net, delivery, outbox } = setup((i) =>
      i === 0 ? { status: 429, headers: { 'Retry-After': '60' } } : { status: 200 },
    );
    await delivery.send(batchOf(['a']));
    const b = batchOf(['b']);
    delivery.hide([b]);
    await vi.advanceTimersByTimeAsync(0);
    expect(net.requests).toHaveLength(1);
    expect(outbox.batches.has(b.id)).toBe(true);
  });

  it('mints a new identifier after a 422 on sessionIdentifier and resends once under it', async () => {
    const rejected = { status: 422, body: '{"message":"bad","errors":{"sessionIdentifier":["expired"]}}' };
    const { net, delivery, remint } = setup((i) => (i === 0 ? rejected : { status: 200 }));
    const a = batchOf(['a', 'b'], 'sid-old');
    await delivery.send(a);
    expect(remint).toHaveBeenCalledWith('sid-old');
    const resent = JSON.parse(net.requests[1]?.text ?? '{}');
    expect(resent.sessionIdentifier).toBe('sid-new');
    expect(resent.events).toEqual(JSON.parse(a.body).events);
  });

  it('drops a batch whose new identifier is rejected again, and asks for a full snapshot', async () => {
    const rejected = { status: 422, body: '{"message":"bad","errors":{"sessionIdentifier":["expired"]}}' };
    const { net, delivery, remint, onDropped, events } = setup(() => rejected);
    await delivery.send(batchOf(['a']));
    expect(remint).toHaveBeenCalledTimes(1);
    expect(net.requests).toHaveLength(2);
    expect(onDropped).toHaveBeenCalledTimes(1);
    expect(events.find((e) => e.kind === 'drop')).toMatchObject({ reason: 'rejected', count: 1 });
  });

  it('splits a batch in two after a 413 and drops a single event that is still too big', async () => {
    const { net, delivery, onDropped, events } = setup((i) => {
      const text = net.requests[i]?.text ?? '';
      return text.includes('huge') ? { status: 413 } : { status: 200 };
    });
    await delivery.send(batchOf(['a', 'b', 'huge', 'c']));
    const sent = net.requests.map((r) =>
      JSON.parse(r.text).events.map((e: { data: { payload: { name: string } } }) => e.data.payload.name),
    );
    expect(sent).toEqual([['a', 'b', 'huge', 'c'], ['a', 'b'], ['huge', 'c'], ['huge'], ['c']]);
    expect(onDropped).toHaveBeenCalledTimes(1);
    expect(events.find((e) => e.kind === 'drop')).toMatchObject({ reason: 'over-size', count: 1 });
  });

  it('drops a batch after another 4xx with a reason and reports it', async () => {
    const { delivery, report, outbox, onDropped } = setup(() => ({ status: 400 }));
    await delivery.send(batchOf(['a']));
    expect(report).toHaveBeenCalledWith(
      expect.objectContaining({ message: expect.stringMatching(/HTTP 400/) }),
    );
    expect(outbox.batches.size).toBe(0);
    expect(onDropped).toHaveBeenCalled();
  });

  it('at page hide sends at once with keepalive and keeps a copy until the answer', async () => {
    let answer: (() => void) | undefined;
    const outbox = fakeOutbox();
    const requests: RequestInit[] = [];
    const fetch = ((_: unknown, init: RequestInit) => {
      requests.push(init);
      return new Promise<Response>((resolve) => {
        answer = () => resolve(new Response('{"status":true}', { status: 200 }));
      });
    }) as typeof globalThis.fetch;
    const delivery = quietDelivery(
      createTransport({ url, contentType: 'text/plain', compress: true, fetch }),
      outbox,
    );
    const a = batchOf(['bye']);
    delivery.hide([a]);
    expect(requests).toHaveLength(1); // started synchronously
    expect(requests[0]?.keepalive).toBe(true);
    expect(requests[0]?.body).toBe(a.body); // no async compression while the page goes away
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.batches.has(a.id)).toBe(true);
    answer?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.batches.has(a.id)).toBe(false);
  });

  it('keeps every unsent batch in the outbox within hide() itself, so a page torn down before any asynchronous write lands loses none', async () => {
    const outbox = fakeOutbox();
    // The collector never answers: the page goes away with every request still open.
    const fetch = (() => new Promise<Response>(() => {})) as typeof globalThis.fetch;
    const delivery = quietDelivery(
      createTransport({ url, contentType: 'text/plain', compress: false, fetch }),
      outbox,
    );
    const inFlight = batchOf(['in flight']);
    const queued = batchOf(['queued behind it']);
    const leaving = batchOf(['flushed at hide']);
    void delivery.send(inFlight);
    void delivery.send(queued);
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.batches.size).toBe(0);

    delivery.hide([leaving]);
    outbox.unload();
    await vi.advanceTimersByTimeAsync(60_000);
    expect([...outbox.batches.keys()]).toEqual([inFlight.id, queued.id, leaving.id]);
    expect([...outbox.batches.values()].map((b) => b.body)).toEqual([
      inFlight.body,
      queued.body,
      leaving.body,
    ]);
  });

  it('sends at page hide a batch still being compressed as JSON, and the one in flight again as its request carried it', async () => {
    const sends: { payload: string | Uint8Array; hiding: boolean }[] = [];
    // The first send compresses "forever": the page goes away before its request starts.
    let compressing = true;
    const answer: Answer = {
      status: 200,
      retryAfter: null,
      transport: 'keepalive',
      sentBytes: 1,
      compressed: false,
    };
    const transport: Transport = {
      keepaliveInFlight: () => 0,
      ratio: () => 1,
      send: async (body, _bytes, started) => {
        if (compressing) return new Promise<Answer>(() => {});
        started?.(body);
        sends.push({ payload: body, hiding: false });
        return answer;
      },
      sendNow: async (payload) => {
        sends.push({ payload, hiding: true });
        return answer;
      },
    };
    const delivery = quietDelivery(transport);
    const a = batchOf(['clicked a goal that navigates']);
    void delivery.send(a);
    await vi.advanceTimersByTimeAsync(0);
    expect(sends).toHaveLength(0);
    delivery.hide([]);
    expect(sends).toEqual([{ payload: a.body, hiding: true }]);

    // A batch whose request has started goes again, with the same (compressed) payload: its plain
    // fetch dies with the page, and the collector stores a repeated body once.
    compressing = false;
    const b = batchOf(['sent before hide']);
    const gzipped = new Uint8Array([0x1f, 0x8b, 1, 2, 3]);
    const inFlight = new Promise<void>((resolve) => {
      transport.send = async (body, _bytes, started) => {
        started?.(gzipped);
        sends.push({ payload: body, hiding: false });
        resolve();
        return new Promise<Answer>(() => {});
      };
    });
    const other = quietDelivery(transport);
    void other.send(b);
    await inFlight;
    other.hide([]);
    expect(sends.slice(1)).toEqual([
      { payload: b.body, hiding: false },
      { payload: gzipped, hiding: true },
    ]);
  });
});
