// init() twice on one page: React's StrictMode runs effects twice, hot module replacement re-runs
// modules. Equal options get the same tracker; other options replace it; one core and one recorder
// run at a time, on one session identifier.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Options } from '../../src/config';
import { bootPage, type CreateTracker } from '../../src/entry/bootstrap';
import { onePerPage, optionsKey } from '../../src/entry/page';
import { init } from '../../src/index';
import type { DebugEvent } from '../../src/lib/debug';
import { createTracker } from '../../src/tracker';
import { allowAutomation, endpoint, fakePage, names } from './fake-page';

/** A core that loads when the test says so, counting the trackers it creates. */
function coreLoader(immediate = true) {
  let release: () => void = () => {};
  const gate = immediate ? Promise.resolve() : new Promise<void>((resolve) => (release = resolve));
  const created = vi.fn(createTracker);
  const load = vi.fn(async (): Promise<CreateTracker> => {
    await gate;
    return created;
  });
  return { load, created, release: () => release() };
}

/** init() as index.ts does it, on a fake page (one collector, storage and outbox for every call). */
function pageWithInit(immediate = true) {
  const page = fakePage();
  const core = coreLoader(immediate);
  const events: DebugEvent[] = [];
  const start = (options: Partial<Options>) =>
    onePerPage({ endpoint, project: 'pk', allowAutomation, compress: false, ...options } as Options, () =>
      bootPage(
        { endpoint, project: 'pk', allowAutomation, compress: false, ...options } as Options,
        core.load,
        page.loaders,
        page.env,
      ),
    );
  return { page, core, events, start };
}

const inits = (events: DebugEvent[]) =>
  events.filter((e): e is Extract<DebugEvent, { kind: 'init' }> => e.kind === 'init').map((e) => e.action);

describe('init() twice on one page', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
  });
  afterEach(() => {
    vi.useRealTimers();
    delete (window as unknown as Record<symbol, unknown>)[Symbol.for('spoor.tracker')];
  });

  it('returns the same tracker for equal options, with one core, one recorder, one mint and one visit', async () => {
    const { page, core, start } = pageWithInit();
    const events: DebugEvent[] = [];
    // As StrictMode's second effect run does: the same options, the callback created anew.
    const first = start({ onDebug: (e) => events.push(e) });
    const second = start({ onDebug: (e) => events.push(e) });
    expect(second).toBe(first);
    first.track('once');
    await first.flush();
    await vi.advanceTimersByTimeAsync(10);
    expect(core.created).toHaveBeenCalledTimes(1);
    expect(page.recorderStarted).toHaveBeenCalledTimes(1);
    expect(page.net.requests.filter((r) => r.url.endsWith('/session'))).toHaveLength(1);
    expect(page.net.tracks().flatMap(names)).toEqual(['visit', 'once']);
    expect(inits(events)).toEqual(['started', 'reused']);
    first.stop();
  });

  it('stops the first tracker and starts one in its place for other options, on the same session identifier', async () => {
    const { page, core, start } = pageWithInit();
    const before: DebugEvent[] = [];
    const after: DebugEvent[] = [];
    const first = start({ onDebug: (e) => before.push(e) });
    await first.flush();
    first.track('under the first');
    const second = start({ flushInterval: 10_000, onDebug: (e) => after.push(e) });
    expect(second).not.toBe(first);
    expect(page.recorderStopped).toHaveBeenCalledTimes(1);
    second.track('under the second');
    await second.flush();
    await vi.advanceTimersByTimeAsync(10);
    expect(core.created).toHaveBeenCalledTimes(2);
    expect(page.recorderStarted).toHaveBeenCalledTimes(2);
    expect(page.net.requests.filter((r) => r.url.endsWith('/session'))).toHaveLength(1);
    const bodies = page.net.tracks();
    expect(new Set(bodies.map((b) => b.sessionIdentifier)).size).toBe(1);
    expect(bodies.flatMap(names)).toEqual(['visit', 'under the first', 'visit', 'under the second']);
    expect(inits(before)).toEqual(['started', 'replaced']);
    expect(inits(after)).toEqual(['replaced']);
    // The first tracker is stopped for good: nothing it is given now is sent.
    first.track('too late');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(page.net.tracks().flatMap(names)).not.toContain('too late');
    second.stop();
  });

  it('never creates the first core when replaced while it loads, and hands its queued calls to the second', async () => {
    const { page, core, start } = pageWithInit(false);
    const first = start({});
    first.track('queued on the first');
    const settled = first.flush();
    const second = start({ flushInterval: 10_000 });
    second.track('on the second');
    core.release();
    await settled;
    await second.flush();
    await vi.advanceTimersByTimeAsync(10);
    expect(core.created).toHaveBeenCalledTimes(1);
    expect(page.recorderStarted).toHaveBeenCalledTimes(1);
    expect(page.net.tracks().flatMap(names)).toEqual(['visit', 'queued on the first', 'on the second']);
    second.stop();
  });

  it('frees the page on stop(), so that the next init() starts a new tracker', async () => {
    const { core, start } = pageWithInit();
    const first = start({});
    await first.flush();
    first.stop();
    const second = start({});
    expect(second).not.toBe(first);
    await second.flush();
    expect(core.created).toHaveBeenCalledTimes(2);
    second.stop();
  });

  it('returns the same tracker from the npm entry for equal options and another for other options', () => {
    // consent: 'pending' loads nothing, so the real entry can be called here without a network.
    const options = { endpoint, project: 'pk', allowAutomation, consent: 'pending' as const };
    const first = init({ ...options, goals: [{ type: 'url', name: 'paid', match: /^\/paid/ }] });
    expect(init({ goals: [{ match: /^\/paid/, name: 'paid', type: 'url' }], ...options })).toBe(first);
    const other = init({ ...options, project: 'pk-2' });
    expect(other).not.toBe(first);
    other.stop();
  });
});

describe('optionsKey', () => {
  it('is equal for equal options in any key order, ignoring undefined, comparing RegExps and functions by source', () => {
    const a = {
      endpoint: 'e',
      onError: (e: unknown) => console.log(e),
      goals: [{ match: /x/i }],
      mask: undefined,
    };
    const b = { goals: [{ match: /x/i }], onError: (e: unknown) => console.log(e), endpoint: 'e' };
    expect(optionsKey(a)).toBe(optionsKey(b));
    expect(optionsKey({ ...b, goals: [{ match: /x/ }] })).not.toBe(optionsKey(b));
    expect(optionsKey({ ...b, endpoint: 'f' })).not.toBe(optionsKey(b));
    expect(optionsKey({ ...b, onError: () => {} })).not.toBe(optionsKey(b));
  });

  it('makes options holding a cycle unequal to any other instead of throwing', () => {
    const cyclic: Record<string, unknown> = { endpoint: 'e' };
    cyclic.self = cyclic;
    expect(optionsKey(cyclic)).not.toBe(optionsKey(cyclic));
  });
});
