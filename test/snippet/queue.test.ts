import { describe, expect, it } from 'vitest';
import { buildBody, byteLength, createQueue, splitByBytes } from '../../src/queue';

const event = (text: string) => ({ type: 5, data: { tag: 'event', payload: { name: text } }, timestamp: 1 });

describe('queue', () => {
  it('measures UTF-8 bytes, not string length', () => {
    expect(byteLength('é')).toBe(2);
    expect(byteLength('😀')).toBe(4);
    expect('😀'.length).toBe(2);
  });

  it('says the batch is full once its serialized bytes reach maxBatchBytes', () => {
    const one = byteLength(JSON.stringify(event('ééééé')));
    const queue = createQueue(one * 3 + 2);
    expect(queue.add(event('ééééé'))).toBe(false);
    expect(queue.add(event('ééééé'))).toBe(false);
    expect(queue.add(event('ééééé'))).toBe(true);
    expect(queue.size()).toEqual({ events: 3, bytes: one * 3 + 2 });
  });

  it('builds a body whose byte length is the overhead plus the events and commas', () => {
    const items = ['a', 'ü', '😀'].map((t) => JSON.stringify(event(t)));
    const body = buildBody('sid', 1.5, items, 'UA');
    const overhead = byteLength(buildBody('sid', 1.5, [], 'UA'));
    expect(byteLength(body)).toBe(overhead + items.reduce((s, i) => s + byteLength(i), 0) + 2);
    expect(JSON.parse(body)).toEqual({
      sessionIdentifier: 'sid',
      timer: 1.5,
      events: [event('a'), event('ü'), event('😀')],
      userAgent: 'UA',
    });
  });

  it('splits into bodies that never exceed the limit in bytes, keeping order', () => {
    const queue = createQueue(1e9);
    for (let i = 0; i < 200; i++) queue.add(event(`${i} ${'ß😀'.repeat(i % 17)}`));
    const items = queue.take();
    const overhead = byteLength(buildBody('sid', 0, [], 'UA'));
    const max = 2000;
    const runs = splitByBytes(items, max, overhead);
    expect(runs.length).toBeGreaterThan(1);
    const bodies = runs.map((run) =>
      buildBody(
        'sid',
        0,
        run.map((i) => i.json),
        'UA',
      ),
    );
    for (const body of bodies) expect(byteLength(body)).toBeLessThanOrEqual(max);
    // Greedy: adding the next run's first event would have crossed the limit.
    for (let i = 0; i + 1 < runs.length; i++) {
      const withNext = [...(runs[i] ?? []), (runs[i + 1] ?? [])[0]].map((x) => x?.json ?? '');
      expect(byteLength(buildBody('sid', 0, withNext, 'UA'))).toBeGreaterThan(max);
    }
    expect(runs.flat().map((i) => i.json)).toEqual(items.map((i) => i.json));
  });

  it('gives an event too big for any batch a batch of its own', () => {
    const small = { json: 'x', bytes: 10 };
    const huge = { json: 'y', bytes: 5000 };
    expect(splitByBytes([small, huge, small], 1000, 100)).toEqual([[small], [huge], [small]]);
  });

  it('puts events back at the front when a send could not start', () => {
    const queue = createQueue(1e9);
    queue.add(event('a'));
    const taken = queue.take();
    queue.add(event('b'));
    queue.restore(taken);
    expect(queue.take().map((i) => JSON.parse(i.json).data.payload.name)).toEqual(['a', 'b']);
  });
});
