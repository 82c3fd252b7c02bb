import { describe, expect, it } from 'vitest';
import { bodyBytes, buildBody, byteLength, createQueue, splitByBytes } from '../../src/deliver/queue';

const event = (text: string) => ({ type: 5, data: { tag: 'event', payload: { name: text } }, timestamp: 1 });

describe('queue', () => {
  it('measures UTF-8 bytes, not string length', () => {
    expect(byteLength('é')).toBe(2);
    expect(byteLength('😀')).toBe(4);
    expect('😀'.length).toBe(2);
  });

  it('counts the same bytes as TextEncoder, without encoding, for every kind of character', () => {
    const encoded = (text: string) => new TextEncoder().encode(text).length;
    const samples = [
      '',
      'plain ASCII {"a":1}',
      '\u007f\u0080\u07ff\u0800\uffff',
      'naïve café → 東京',
      '😀 at the end 😀',
      'a lone high \ud83d and a lone low \ude00 surrogate',
      '\ud83d',
      'ends with a high surrogate \ud83d',
      JSON.stringify({ text: 'ß😀'.repeat(100), n: 1 }),
    ];
    for (const text of samples) expect(byteLength(text), text).toBe(encoded(text));
  });

  it('says a batch of non-ASCII events is full at maxBatchBytes in UTF-8 bytes, not characters', () => {
    const wide = event('東京😀'.repeat(20));
    const json = JSON.stringify(wide);
    const one = new TextEncoder().encode(json).length;
    expect(one).toBeGreaterThan(json.length + 100);
    // The limit sits between the character count and the byte count of two events.
    const queue = createQueue(one * 2 + 1);
    expect(queue.add(wide)).toBe(false);
    expect(queue.size().bytes).toBe(one);
    expect(queue.add(wide)).toBe(true);
    const under = createQueue(one * 2 + 2);
    under.add(wide);
    expect(under.add(wide)).toBe(false);
  });

  it('gives the byte length of a built body from its events, with no need to measure the body', () => {
    const queue = createQueue(1e9);
    for (const text of ['a', 'é', '😀', '東京', 'x'.repeat(300)]) queue.add(event(text));
    const items = queue.take();
    const overhead = byteLength(buildBody('sid', 2.5, [], 'Agent/1 ü'));
    const body = buildBody(
      'sid',
      2.5,
      items.map((i) => i.json),
      'Agent/1 ü',
    );
    expect(bodyBytes(overhead, items)).toBe(new TextEncoder().encode(body).length);
    expect(bodyBytes(overhead, [])).toBe(overhead);
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
