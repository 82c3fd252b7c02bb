import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { onINP } from 'web-vitals';
import { startVitals } from '../../src/observe/vitals';
import type { DropReason, Stop, WireEvent } from '../../src/types';

type Name = 'LCP' | 'INP' | 'CLS' | 'FCP' | 'TTFB';
type Feed = (metric: Record<string, unknown>) => void;

// The callbacks startVitals handed to each mocked web-vitals function, so the tests can feed values.
const callbacks = vi.hoisted(() => new Map<string, (metric: unknown) => void>());

vi.mock('web-vitals', () => {
  const observer = (name: string) =>
    vi.fn((callback: (metric: unknown) => void) => {
      callbacks.set(name, callback);
    });
  return {
    onLCP: observer('LCP'),
    onINP: observer('INP'),
    onCLS: observer('CLS'),
    onFCP: observer('FCP'),
    onTTFB: observer('TTFB'),
  };
});

let events: WireEvent[];
let drops: [DropReason, string][];
let report: Mock<(error: unknown) => void>;
let stop: Stop | undefined;

function feed(name: Name, value: number, extra: Record<string, unknown> = {}): void {
  const callback = callbacks.get(name) as Feed | undefined;
  if (!callback) throw new Error(`web-vitals ${name} was not observed`);
  callback({
    name,
    value,
    delta: value,
    rating: 'good',
    id: `v5-${name}-1`,
    navigationType: 'navigate',
    entries: [],
    ...extra,
  });
}

const payloads = () => events.map((e) => (e.data as { tag: string; payload: unknown }).payload);

beforeEach(() => {
  callbacks.clear();
  vi.mocked(onINP).mockClear();
  events = [];
  drops = [];
  report = vi.fn<(error: unknown) => void>();
  stop = startVitals({
    enqueue: (event) => events.push(event),
    report,
    onDrop: (reason, detail) => drops.push([reason, detail]),
  });
});

afterEach(() => stop?.());

describe('startVitals', () => {
  it('reports each of LCP, INP, CLS, FCP and TTFB as a web-vital event with web-vitals fields', () => {
    dispatchEvent(new Event('pointerdown'));
    feed('LCP', 1234.5, { rating: 'needs-improvement' });
    feed('INP', 80);
    feed('CLS', 0.02, { navigationType: 'back-forward-cache' });
    feed('FCP', 900);
    feed('TTFB', 0, { navigationType: 'prerender' });
    expect(events.every((e) => e.type === 5 && (e.data as { tag: string }).tag === 'web-vital')).toBe(true);
    expect(payloads()).toEqual([
      {
        name: 'LCP',
        value: 1234.5,
        rating: 'needs-improvement',
        delta: 1234.5,
        id: 'v5-LCP-1',
        navigationType: 'navigate',
      },
      { name: 'INP', value: 80, rating: 'good', delta: 80, id: 'v5-INP-1', navigationType: 'navigate' },
      {
        name: 'CLS',
        value: 0.02,
        rating: 'good',
        delta: 0.02,
        id: 'v5-CLS-1',
        navigationType: 'back-forward-cache',
      },
      { name: 'FCP', value: 900, rating: 'good', delta: 900, id: 'v5-FCP-1', navigationType: 'navigate' },
      { name: 'TTFB', value: 0, rating: 'good', delta: 0, id: 'v5-TTFB-1', navigationType: 'prerender' },
    ]);
    expect(drops).toEqual([]);
  });

  it('reports a metric id with an unchanged value once, and again when its value or id changes', () => {
    feed('CLS', 0.1);
    feed('CLS', 0.1); // the page was hidden a second time with no new shift
    feed('CLS', 0.15, { delta: 0.05 });
    feed('CLS', 0.1, { id: 'v5-CLS-2' }); // a new page view after a bfcache restore
    expect(payloads().map((p) => [(p as { id: string }).id, (p as { value: number }).value])).toEqual([
      ['v5-CLS-1', 0.1],
      ['v5-CLS-1', 0.15],
      ['v5-CLS-2', 0.1],
    ]);
  });

  it('drops values that cannot be true with the reason implausible-value and a detail', () => {
    dispatchEvent(new Event('pointerdown'));
    feed('LCP', -1);
    feed('INP', Number.NaN);
    feed('FCP', Number.POSITIVE_INFINITY);
    feed('TTFB', 3_600_001);
    feed('CLS', 100.5);
    feed('INP', 50, { delta: Number.NaN, id: 'v5-INP-2' });
    expect(events).toEqual([]);
    expect(drops.map(([reason]) => reason)).toEqual(Array(6).fill('implausible-value'));
    expect(drops.map(([, detail]) => detail)).toEqual([
      'LCP value -1 is negative',
      'INP value NaN is not a finite number',
      'FCP value Infinity is not a finite number',
      'TTFB value 3600001 is over 3600000',
      'CLS value 100.5 is over 100',
      'INP delta NaN is not a finite number',
    ]);
  });

  it('keeps values at the limits: an hour for time metrics and 100 for CLS', () => {
    feed('LCP', 3_600_000);
    feed('CLS', 100);
    expect(payloads()).toHaveLength(2);
    expect(drops).toEqual([]);
  });

  it('observes INP only from the first interaction on, once, whichever event begins it', () => {
    // Hovering is not interacting: web-vitals' INP observers (and their work on every hover's
    // event-timing entries) wait for a pointerdown, keydown or click.
    dispatchEvent(new Event('pointerover'));
    dispatchEvent(new Event('mousemove'));
    expect([...callbacks.keys()].sort()).toEqual(['CLS', 'FCP', 'LCP', 'TTFB']);
    expect(onINP).not.toHaveBeenCalled();
    for (const type of ['keydown', 'pointerdown', 'click']) {
      stop?.();
      vi.mocked(onINP).mockClear();
      stop = startVitals({ enqueue: (event) => events.push(event), report, onDrop: () => {} });
      dispatchEvent(new Event(type));
      dispatchEvent(new Event('click'));
      dispatchEvent(new Event('keydown'));
      expect(onINP).toHaveBeenCalledTimes(1);
    }
    feed('INP', 120);
    expect(payloads()).toEqual([expect.objectContaining({ name: 'INP', value: 120 })]);
  });

  it('does not observe INP after stop, even when the visitor interacts then', () => {
    stop?.();
    vi.mocked(onINP).mockClear();
    dispatchEvent(new Event('pointerdown'));
    expect(onINP).not.toHaveBeenCalled();
  });

  it('reports nothing after stop, since web-vitals cannot unsubscribe', () => {
    stop?.();
    feed('LCP', 1000);
    feed('CLS', 0.3);
    expect(events).toEqual([]);
    expect(drops).toEqual([]);
  });

  it('reports an observer that throws at start and still observes the other metrics', () => {
    stop?.();
    callbacks.clear();
    vi.mocked(onINP).mockImplementationOnce(() => {
      throw new Error('no PerformanceObserver for event');
    });
    stop = startVitals({ enqueue: (event) => events.push(event), report, onDrop: () => {} });
    dispatchEvent(new Event('keydown'));
    expect(report).toHaveBeenCalledTimes(1);
    expect([...callbacks.keys()].sort()).toEqual(['CLS', 'FCP', 'LCP', 'TTFB']);
  });

  it('reports an error thrown by enqueue instead of throwing into web-vitals', () => {
    stop?.();
    stop = startVitals({
      enqueue: () => {
        throw new Error('queue failed');
      },
      report,
      onDrop: () => {},
    });
    expect(() => feed('FCP', 500)).not.toThrow();
    expect(report).toHaveBeenCalledTimes(1);
  });
});
