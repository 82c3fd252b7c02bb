// The Flameup direct mode as the tracker runs it (the `flameup` option); flameup.test.ts covers the
// mirror's own queue, retries and outbox. The page's timers and clock are Vitest's fake ones: "nothing
// was sent" is checked after moving the clock past every wait the page could have scheduled.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FlameupOption, type Options, readDataAttributes, resolveConfig } from '../../src/config';
import { LEASE_RECHECK_MS } from '../../src/deliver/outbox';
import { boot, type Environment } from '../../src/entry/bootstrap';
import { REQUEST_TIMEOUT_MS } from '../../src/flameup/flameup';
import { createBoundary } from '../../src/lib/boundary';
import { createDebug, type DebugEvent } from '../../src/lib/debug';
import { createTracker, type Loaders, type Tracker } from '../../src/tracker';
import { createFlameupApi, type FlameupApi, fetchOverApi, TRACK_PATH } from '../support/flameup-api';
import { allowAutomation, endpoint, fakePage, names } from './fake-page';

const KEY = 'fl_wired_9c2e';
// A fresh Flameup URL per test: a fresh outbox namespace for the mirror.
let hosts = 0;
const trackers: Tracker[] = [];

/** Longer than any wait the page schedules for Flameup here (the lock lease, a lazily loaded file, the
 *  5 s lock retry), shorter than its request timeout: whatever it would still send, it has sent once the
 *  clock has moved this far, and a stalled request is still out. */
const QUIET_MS = REQUEST_TIMEOUT_MS - 1_000;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});

afterEach(() => {
  for (const tracker of trackers.splice(0)) tracker.stop();
  vi.useRealTimers();
});

/** Moves the page's clock, running every timer, request and retry due meanwhile. */
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
/** A timer-driven wait, as a slow network makes a lazily loaded file take. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fake page whose fetch sends Flameup's URL to a Flameup model and everything else to the collector. */
function setup(page = fakePage()) {
  const api: FlameupApi = createFlameupApi({ apiKey: KEY });
  const flameupUrl = `https://f${++hosts}.flameup.test${TRACK_PATH}`;
  const toFlameup = fetchOverApi(api);
  const flameupInits: RequestInit[] = [];
  const fetch = ((input: RequestInfo | URL, init: RequestInit = {}) => {
    if (String(input) !== flameupUrl) return page.env.fetch(input, init);
    flameupInits.push(init);
    return toFlameup(input, init);
  }) as typeof globalThis.fetch;
  const env: Environment = { ...page.env, fetch };
  const errors: unknown[] = [];
  const debugEvents: DebugEvent[] = [];
  const start = (extra: { [K in keyof Options]?: Options[K] | undefined } = {}, loaders = page.loaders) => {
    const config = resolveConfig({
      endpoint,
      allowAutomation,
      project: 'pk',
      record: false,
      vitals: false,
      compress: false,
      flameup: { apiKey: KEY, url: flameupUrl },
      onError: (error) => errors.push(error),
      onDebug: (event) => debugEvents.push(event),
      ...extra,
    } as Options);
    const debug = createDebug(false, Date.now);
    if (config.onDebug) debug.subscribe(config.onDebug);
    const tracker = createTracker(config, {
      loaders,
      env,
      debug,
      boundary: createBoundary(config.onError, false),
    });
    trackers.push(tracker);
    return tracker;
  };
  const mirrored = () => api.accepted.map((a) => [a.body.external_id, a.body.event]);
  return { api, page, env, flameupUrl, flameupInits, errors, debugEvents, start, mirrored };
}

describe('the flameup option', () => {
  it('mirrors track() events to Flameup once identify() gives an external id, in order, with when they happened', async () => {
    const s = setup();
    const tracker = s.start();
    const before = new Date().toISOString();
    tracker.track('before', { a: 1 });
    await advance(QUIET_MS);
    expect(s.api.requests).toHaveLength(0);
    tracker.identify('user-1');
    const after = new Date().toISOString();
    tracker.track('after', { b: 'two' });
    await advance(QUIET_MS);
    // Each with the time track() ran, not when it was sent after identify().
    expect(s.api.accepted.map((a) => a.body)).toEqual([
      { external_id: 'user-1', event: 'before', parameters: { a: 1 }, timestamp: before },
      { external_id: 'user-1', event: 'after', parameters: { b: 'two' }, timestamp: after },
    ]);
    // The same events still go to /track.
    await tracker.flush();
    expect(s.page.net.tracks().flatMap(names)).toEqual(['visit', 'before', 'identify', 'after']);
  });

  it('sends the events waiting for an external id as soon as identify() is called', async () => {
    const s = setup();
    const tracker = s.start();
    tracker.track('waiting');
    await advance(QUIET_MS);
    expect(s.api.requests).toHaveLength(0);
    // Not on a timer: at once, within the lock's lease check.
    tracker.identify('user-1b');
    await advance(LEASE_RECHECK_MS);
    expect(s.mirrored()).toEqual([['user-1b', 'waiting']]);
  });

  it('delivers /track at once while Flameup stalls, and never spends the keepalive quota', async () => {
    const s = setup();
    s.api.fail({ kind: 'stall' });
    const tracker = s.start();
    tracker.identify('user-2');
    tracker.track('purchase', { total: 12 });
    await advance(LEASE_RECHECK_MS);
    expect(s.api.requests).toHaveLength(1);
    // The flush is answered with the clock standing still: it waits for nothing of Flameup's.
    const started = Date.now();
    await tracker.flush();
    expect(Date.now()).toBe(started);
    expect(s.page.net.tracks().flatMap(names)).toEqual(['visit', 'identify', 'purchase']);
    expect(s.api.accepted).toHaveLength(0);
    expect(s.flameupInits.every((init) => !init.keepalive)).toBe(true);
  });

  it('mirrors only the names listed in flameup.events', async () => {
    const s = setup();
    const tracker = s.start({ flameup: { apiKey: KEY, url: s.flameupUrl, events: ['signup'] } });
    tracker.identify('user-3');
    tracker.track('page-scrolled');
    tracker.track('signup', { plan: 'pro' });
    tracker.track('clicked');
    await advance(QUIET_MS);
    expect(s.mirrored()).toEqual([['user-3', 'signup']]);
  });

  it('mirrors with the external id kept with the session, so the next page need not identify() again', async () => {
    const s = setup();
    s.start().identify('user-4');
    for (const tracker of trackers.splice(0)) tracker.stop();
    const next = setup(fakePage({ local: s.env.local, tabStore: s.env.tabStore }));
    next.start({ flameup: { apiKey: KEY, url: next.flameupUrl } }).track('came-back');
    await advance(QUIET_MS);
    expect(next.mirrored()).toEqual([['user-4', 'came-back']]);
  });

  it('forgets the events waiting for identify() when consent is withdrawn', async () => {
    const s = setup();
    const tracker = s.start();
    tracker.track('secret');
    await advance(QUIET_MS);
    tracker.consent(false);
    await advance(QUIET_MS);
    // The next page of the same browser, with consent and an identified visitor: nothing is left to send.
    s.start().identify('user-5');
    await advance(QUIET_MS);
    expect(s.api.requests).toHaveLength(0);
  });

  it('reports a flameup option without an apiKey and sends nothing to Flameup', async () => {
    const s = setup();
    const tracker = s.start({ flameup: { url: s.flameupUrl } as unknown as FlameupOption });
    tracker.identify('user-6');
    tracker.track('signup');
    await tracker.flush();
    await advance(QUIET_MS);
    expect(s.api.requests).toHaveLength(0);
    expect(String(s.errors[0])).toMatch(/flameup option needs an apiKey/);
    expect(s.page.net.tracks().flatMap(names)).toEqual(['visit', 'identify', 'signup']);
  });

  it('loads nothing and sends nothing to Flameup without the option', async () => {
    const s = setup();
    const tracker = s.start({ flameup: undefined });
    tracker.identify('user-7');
    tracker.track('signup');
    await tracker.flush();
    await advance(QUIET_MS);
    expect(s.api.requests).toHaveLength(0);
    expect(s.page.flameupLoaded).not.toHaveBeenCalled();
  });

  it('mirrors the events tracked while the Flameup file is still loading, in order', async () => {
    const s = setup();
    const slow: Loaders = {
      ...s.page.loaders,
      flameup: () => sleep(150).then(() => s.page.loaders.flameup()),
    };
    const tracker = s.start({}, slow);
    tracker.identify('user-9');
    tracker.track('one');
    tracker.track('two');
    await advance(149);
    expect(s.page.flameupLoaded).not.toHaveBeenCalled();
    await advance(QUIET_MS);
    expect(s.mirrored()).toEqual([
      ['user-9', 'one'],
      ['user-9', 'two'],
    ]);
  });

  it('reports a Flameup file that failed to load and counts the events it held as dropped', async () => {
    const s = setup();
    const failing: Loaders = {
      ...s.page.loaders,
      flameup: () => sleep(20).then(() => Promise.reject(new Error('blocked by CSP'))),
    };
    const tracker = s.start({}, failing);
    tracker.track('one');
    tracker.track('two');
    await advance(20);
    tracker.track('three'); // after the failure: the mirror is gone, /track is not
    await tracker.flush();
    expect(String(s.errors[0])).toMatch(/blocked by CSP/);
    expect(s.debugEvents.filter((e) => e.kind === 'drop')).toEqual([
      expect.objectContaining({ reason: 'load-failed', count: 2 }),
    ]);
    expect(s.page.net.tracks().flatMap(names)).toEqual(['visit', 'one', 'two', 'three']);
  });

  it('works through the bootstrap: calls queued before the core loaded are mirrored too', async () => {
    const s = setup();
    const loaders: Loaders = s.page.loaders;
    const tracker = boot(
      {
        endpoint,
        allowAutomation,
        project: 'pk',
        record: false,
        vitals: false,
        flameup: { apiKey: KEY, url: s.flameupUrl },
      },
      async () => createTracker,
      loaders,
      s.env,
    );
    trackers.push(tracker);
    tracker.identify('user-8');
    tracker.track('queued');
    await advance(QUIET_MS);
    expect(s.mirrored()).toEqual([['user-8', 'queued']]);
  });
});

describe('data-flameup', () => {
  it('is read as JSON from the script tag', () => {
    const script = document.createElement('script');
    script.dataset.endpoint = endpoint;
    script.dataset.flameup = JSON.stringify({ apiKey: KEY, events: ['signup'] });
    expect(readDataAttributes(script).flameup).toEqual({ apiKey: KEY, events: ['signup'] });
  });
});
