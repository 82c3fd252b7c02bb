import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Options, resolveConfig } from '../../src/config';
import { KEEPALIVE_BUDGET } from '../../src/deliver/transport';
import type { Environment } from '../../src/entry/bootstrap';
import { startFlameup } from '../../src/flameup/flameup';
import { createBoundary } from '../../src/lib/boundary';
import { createDebug, type DebugEvent } from '../../src/lib/debug';
import { createTracker, type Loaders } from '../../src/tracker';
import { allowAutomation, endpoint, fakePage, names, type PageOptions } from './fake-page';

/** The core as the bootstrap creates it once the page is tracked (bootstrap.test.ts covers the rest). */
function startCore(options: Options, loaders: Loaders, env: Environment) {
  const config = resolveConfig(options);
  const debug = createDebug(false, env.now);
  if (config.onDebug) debug.subscribe(config.onDebug);
  return createTracker(config, { loaders, env, debug, boundary: createBoundary(config.onError, false) });
}

/** The old helper's shape: answers to /track, and whether /session waits for the gate. */
const setup = (track?: PageOptions['track'], gated = 0) =>
  fakePage({ ...(track ? { track } : {}), gated: gated !== 0 });

describe('tracker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('mints a session, then sends the visit and tracked events at the flush interval', async () => {
    const { net, env, loaders } = setup();
    const tracker = startCore(
      { endpoint, allowAutomation, project: 'pk', flushInterval: 5000 },
      loaders,
      env,
    );
    tracker.track('signup', { plan: 'pro' });
    await vi.advanceTimersByTimeAsync(4000);
    expect(net.tracks()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1500);
    const [body] = net.tracks();
    expect(body.sessionIdentifier).toMatch(/^sid-/);
    expect(names(body)).toEqual(['visit', 'signup']);
    expect(body.userAgent).toBe(navigator.userAgent);
    expect(typeof body.timer).toBe('number');
    tracker.stop();
  });

  it('keeps events produced before the identifier arrives and sends them after', async () => {
    const { net, env, loaders, gate } = setup(undefined, 1);
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
    tracker.track('early');
    await vi.advanceTimersByTimeAsync(12_000);
    expect(net.tracks()).toHaveLength(0);
    gate.release();
    await vi.advanceTimersByTimeAsync(10);
    expect(net.tracks().flatMap(names)).toEqual(['visit', 'early']);
    tracker.stop();
  });

  it('sends at once when the batch reaches maxBatchBytes', async () => {
    // compress: false because CompressionStream's streams do not advance under fake timers; transport.test.ts covers gzip.
    const { net, env, loaders } = setup();
    const tracker = startCore(
      {
        endpoint,
        allowAutomation,
        project: 'pk',
        maxBatchBytes: 2000,
        flushInterval: 60_000,
        compress: false,
      },
      loaders,
      env,
    );
    await vi.advanceTimersByTimeAsync(10);
    for (let i = 0; i < 30; i++) tracker.track(`event ${i}`, { pad: 'x'.repeat(50) });
    await vi.advanceTimersByTimeAsync(10);
    expect(net.tracks().length).toBeGreaterThanOrEqual(1);
    for (const r of net.requests.filter((q) => q.url.endsWith('/track'))) {
      expect(new TextEncoder().encode(r.text).length).toBeLessThanOrEqual(2000 + 200);
    }
    tracker.stop();
  });

  it('sends a full batch as one request and keeps the events past the limit for the next, sized in exact UTF-8 bytes', async () => {
    const sent: Extract<DebugEvent, { kind: 'batch' }>[] = [];
    const { net, env, loaders } = setup();
    const tracker = startCore(
      {
        endpoint,
        allowAutomation,
        project: 'pk',
        maxBatchBytes: 2000,
        flushInterval: 60_000,
        compress: false,
        onDebug: (event) => {
          if (event.kind === 'batch' && event.phase === 'sent') sent.push(event);
        },
      },
      loaders,
      env,
    );
    await vi.advanceTimersByTimeAsync(10);
    // Non-ASCII padding: 90 characters, 150 bytes; a limit counted in characters would overshoot.
    for (let i = 0; i < 40; i++) tracker.track(`event ${i}`, { pad: 'é→'.repeat(30) });
    await vi.advanceTimersByTimeAsync(10);
    await tracker.flush();
    await vi.advanceTimersByTimeAsync(10);
    const bodies = net.requests.filter((q) => q.url.endsWith('/track')).map((q) => q.text);
    const bytes = bodies.map((body) => new TextEncoder().encode(body).length);
    const eventBytes = Math.max(
      ...net
        .tracks()
        .flatMap((body) =>
          body.events.map((e: unknown) => new TextEncoder().encode(JSON.stringify(e)).length),
        ),
    );
    expect(net.tracks().flatMap(names)).toEqual([
      'visit',
      ...Array.from({ length: 40 }, (_, i) => `event ${i}`),
    ]);
    for (const size of bytes) expect(size).toBeLessThanOrEqual(2000);
    // Every batch sent for its size is full: no request carries just the event that crossed the limit.
    for (const size of bytes.slice(0, -1)) expect(size).toBeGreaterThan(2000 - eventBytes - 1);
    expect(bodies.length).toBe(Math.ceil(bytes.reduce((a, b) => a + b, 0) / 2000));
    // The size each batch reports is counted from its events, and is the body's exact size.
    expect(sent.map((event) => event.rawBytes)).toEqual(bytes);
    tracker.stop();
  });

  it('flushes at each visit boundary so a batch never spans two visits', async () => {
    const { net, env, loaders } = setup();
    const tracker = startCore(
      { endpoint, allowAutomation, project: 'pk', flushInterval: 60_000 },
      loaders,
      env,
    );
    await vi.advanceTimersByTimeAsync(10);
    tracker.track('on first page');
    history.pushState({}, '', '/second');
    await vi.advanceTimersByTimeAsync(10);
    tracker.track('on second page');
    await tracker.flush();
    const batches = net.tracks().map(names);
    expect(batches).toEqual([
      ['visit', 'on first page'],
      ['visit', 'on second page'],
    ]);
    tracker.stop();
    history.pushState({}, '', '/');
  });

  it('sends what is pending when the page is hidden, with keepalive', async () => {
    const { net, env, loaders } = setup();
    const tracker = startCore(
      { endpoint, allowAutomation, project: 'pk', flushInterval: 60_000 },
      loaders,
      env,
    );
    await vi.advanceTimersByTimeAsync(10);
    tracker.track('before hide');
    window.dispatchEvent(new Event('pagehide'));
    await vi.advanceTimersByTimeAsync(10);
    const hidden = net.requests.filter((r) => r.url.endsWith('/track'));
    expect(hidden.at(-1)?.init.keepalive).toBe(true);
    expect(names(JSON.parse(hidden.at(-1)?.text ?? '{}'))).toContain('before hide');
    tracker.stop();
  });

  it('never sends a keepalive body over 60 KB at page hide, however much is pending, and plain fetch before it', async () => {
    const { net, env, loaders } = setup();
    const tracker = startCore(
      // The default maxBatchBytes: up to 1 MB of JSON may be pending when the page goes away.
      { endpoint, allowAutomation, project: 'pk', flushInterval: 60_000, compress: false },
      loaders,
      env,
    );
    await vi.advanceTimersByTimeAsync(10);
    tracker.track('before');
    await tracker.flush();
    // 60 events of 7,500 bytes of UTF-8 each (2,500 characters), 450 KB in all.
    for (let i = 0; i < 60; i++) tracker.track(`e${i}`, { pad: '東'.repeat(2500) });
    window.dispatchEvent(new Event('pagehide'));
    await vi.advanceTimersByTimeAsync(10);
    const tracks = net.requests.filter((r) => r.url.endsWith('/track'));
    const keepalive = tracks.filter((r) => r.init.keepalive === true);
    expect(tracks[0]?.init.keepalive).toBe(false);
    expect(keepalive.length).toBeGreaterThan(0);
    for (const request of keepalive) {
      expect(new TextEncoder().encode(request.text).length).toBeLessThanOrEqual(KEEPALIVE_BUDGET);
    }
    // Every event left the page in some request (the rest by beacon or plain fetch, copies kept).
    const sent = tracks.flatMap((r) => names(JSON.parse(r.text)));
    for (let i = 0; i < 60; i++) expect(sent).toContain(`e${i}`);
    tracker.stop();
  });

  it('stops everything on consent(false), sends nothing after, and starts again on consent(true)', async () => {
    const { net, env, loaders, recorderStarted } = setup();
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
    await vi.advanceTimersByTimeAsync(5_100);
    const sent = net.requests.length;
    tracker.consent(false);
    tracker.track('after withdrawal');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(net.requests).toHaveLength(sent);
    tracker.consent(true);
    tracker.track('after consent');
    await vi.advanceTimersByTimeAsync(5_100);
    expect(recorderStarted).toHaveBeenCalledTimes(2);
    expect(net.tracks().flatMap(names)).not.toContain('after withdrawal');
    expect(net.tracks().flatMap(names)).toContain('after consent');
    tracker.stop();
  });

  it('stores the sampling decision with the session and sends nothing when sampled out', async () => {
    const { net, env, loaders, recorderStarted } = setup();
    const events: DebugEvent[] = [];
    startCore(
      { endpoint, allowAutomation, project: 'pk', sampleRate: 0.2, onDebug: (e) => events.push(e) },
      loaders,
      env,
    );
    await vi.advanceTimersByTimeAsync(20_000);
    expect(net.requests).toHaveLength(0);
    expect(recorderStarted).not.toHaveBeenCalled();
    expect(JSON.parse(env.local.get('spoor.session') ?? '{}').sampled).toBe(false);
    expect(events.at(-1)).toMatchObject({ kind: 'state', tracking: false, reason: 'sampled-out' });
  });

  it('takes a new full snapshot after a batch is dropped for good', async () => {
    const { env, loaders, snapshot } = setup(() => ({ status: 400 }));
    const onError = vi.fn();
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk', onError }, loaders, env);
    await vi.advanceTimersByTimeAsync(5_100);
    expect(snapshot).toHaveBeenCalled();
    expect(onError).toHaveBeenCalled();
    tracker.stop();
  });

  it('never throws into the page, whatever it is called with', async () => {
    const { env, loaders } = setup();
    const onError = vi.fn();
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk', onError }, loaders, env);
    expect(() =>
      tracker.track(undefined as unknown as string, 5 as unknown as Record<string, unknown>),
    ).not.toThrow();
    expect(() => tracker.identify({} as unknown as string)).not.toThrow();
    expect(onError).toHaveBeenCalledTimes(2);
    tracker.stop();
  });

  it('replays debug history to a listener added late', async () => {
    const { env, loaders } = setup();
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
    await vi.advanceTimersByTimeAsync(5_100);
    const kinds: string[] = [];
    tracker.onDebug((e) => kinds.push(e.kind));
    expect(kinds).toEqual(expect.arrayContaining(['state', 'session', 'batch']));
    tracker.stop();
  });
  it('settles flush() only once what was pending is answered, even when the mint sent it first', async () => {
    const { net, env, loaders } = setup();
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
    tracker.track('right away');
    await tracker.flush();
    expect(net.tracks().flatMap(names)).toEqual(['visit', 'right away']);
    expect(net.bodiesRead()).toBe(net.requests.length);
    tracker.stop();
  });

  it('starts a new session after 30 idle minutes: a new identifier, a new visit first, and a full snapshot', async () => {
    const { net, env, loaders, snapshot } = setup();
    const tracker = startCore(
      { endpoint, allowAutomation, project: 'pk', flushInterval: 3_600_000 },
      loaders,
      env,
    );
    tracker.track('before idle');
    await tracker.flush();
    const [first] = net.tracks();
    expect(names(first)).toEqual(['visit', 'before idle']);
    const snapshotsBefore = snapshot.mock.calls.length;

    await vi.advanceTimersByTimeAsync(31 * 60_000);
    tracker.track('after idle');
    await vi.advanceTimersByTimeAsync(10);
    await tracker.flush();

    const later = net.tracks().filter((body) => body.sessionIdentifier !== first.sessionIdentifier);
    expect(later.length).toBeGreaterThan(0);
    expect(later.flatMap(names)).toEqual(['visit', 'after idle']);
    expect(later[0].events[0].data.payload).toMatchObject({ navigation: 'load' });
    expect(snapshot.mock.calls.length).toBe(snapshotsBefore + 1);
    tracker.stop();
  });

  it('mints at once when the browser comes back online instead of waiting out the backoff', async () => {
    const { net, env, loaders } = fakePage({ session: (i) => (i === 0 ? 'network-error' : undefined) });
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
    await vi.advanceTimersByTimeAsync(10);
    const mints = () => net.requests.filter((r) => r.url.endsWith('/session')).length;
    expect(mints()).toBe(1);
    // The retry after a failed mint waits at least a second (backoff.ts).
    window.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(50);
    expect(mints()).toBe(2);
    tracker.track('after online');
    await tracker.flush();
    expect(net.tracks().flatMap(names)).toEqual(['visit', 'after online']);
    tracker.stop();
  });

  it('resends a batch kept after a network error as soon as the browser comes back online', async () => {
    const { net, env, loaders } = setup((i) => (i === 0 ? 'network-error' : { status: 200 }));
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
    await tracker.flush();
    const tracks = () => net.requests.filter((r) => r.url.endsWith('/track'));
    expect(tracks()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(tracks()).toHaveLength(1); // waiting out its backoff (at least a second)
    window.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(50);
    expect(tracks()).toHaveLength(2);
    expect(tracks()[1]?.text).toBe(tracks()[0]?.text);
    tracker.stop();
  });

  it('keeps events pending at page hide before any identifier arrived, and sends them first at the next load under its identifier', async () => {
    const first = setup(undefined, 1);
    const page1 = startCore({ endpoint, allowAutomation, project: 'pk' }, first.loaders, first.env);
    page1.track('before any identifier');
    await vi.advanceTimersByTimeAsync(10);
    window.dispatchEvent(new Event('pagehide'));
    await vi.advanceTimersByTimeAsync(10);
    page1.stop();
    expect(first.net.tracks()).toHaveLength(0);
    const kept = await first.env.outbox?.list();
    expect(kept).toHaveLength(1);
    expect(JSON.parse(kept?.[0]?.body ?? '{}').sessionIdentifier).toBe('');

    // The next page load of the same browser; its first /track attempt fails, the retry must match it.
    const next = fakePage({
      track: (i) => (i === 0 ? { status: 503 } : { status: 200 }),
      local: first.env.local,
      tabStore: first.env.tabStore,
      ...(first.env.outbox ? { outbox: first.env.outbox } : {}),
    });
    const page2 = startCore({ endpoint, allowAutomation, project: 'pk' }, next.loaders, next.env);
    await vi.advanceTimersByTimeAsync(60_000);
    await page2.flush();
    const sent = next.net.requests.filter((r) => r.url.endsWith('/track'));
    const bodies = next.net.tracks();
    expect(names(bodies[0])).toEqual(['visit', 'before any identifier']);
    expect(bodies[0].sessionIdentifier).toMatch(/^sid-/);
    expect(sent[1]?.text).toBe(sent[0]?.text);
    // Page 1's batch twice (failed, then retried), then page 2's own visit: order holds across loads.
    expect(bodies.flatMap(names)).toEqual([
      'visit',
      'before any identifier',
      'visit',
      'before any identifier',
      'visit',
    ]);
    expect(await next.env.outbox?.list()).toHaveLength(0);
    page2.stop();
  });

  it('sends a batch cut at a route change while the identifier was pending as soon as it arrives', async () => {
    const { net, env, loaders, gate } = setup(undefined, 1);
    const tracker = startCore(
      { endpoint, allowAutomation, project: 'pk', flushInterval: 60_000 },
      loaders,
      env,
    );
    await vi.advanceTimersByTimeAsync(10);
    history.pushState({}, '', '/while-minting');
    await vi.advanceTimersByTimeAsync(10);
    expect(net.tracks()).toHaveLength(0);
    gate.release();
    await vi.advanceTimersByTimeAsync(10);
    // The first visit's batch, long before the next flush interval.
    expect(net.tracks().map(names)).toEqual([['visit']]);
    tracker.stop();
    history.pushState({}, '', '/');
  });

  it("starts each visit's timer from zero", async () => {
    document.hasFocus = () => true;
    const { net, env, loaders } = setup();
    const tracker = startCore(
      { endpoint, allowAutomation, project: 'pk', flushInterval: 60_000 },
      loaders,
      env,
    );
    await vi.advanceTimersByTimeAsync(20_000);
    history.pushState({}, '', '/second');
    await vi.advanceTimersByTimeAsync(5_000);
    tracker.track('on second page');
    await tracker.flush();
    const [first, second] = net.tracks();
    expect(names(first)).toEqual(['visit']);
    expect(first.timer).toBeGreaterThanOrEqual(19.9);
    expect(names(second)).toEqual(['visit', 'on second page']);
    expect(second.timer).toBeGreaterThanOrEqual(4.9);
    expect(second.timer).toBeLessThan(6);
    tracker.stop();
    history.pushState({}, '', '/');
  });

  it('leaves no timer running in the page once stopped', async () => {
    const { env, loaders } = setup();
    const tracker = startCore({ endpoint, allowAutomation, project: 'pk', record: false }, loaders, env);
    tracker.track('before stop');
    await vi.advanceTimersByTimeAsync(5_100);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    tracker.stop();
    await vi.advanceTimersByTimeAsync(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops the Flameup mirror with the rest at stop()', async () => {
    const { env, loaders } = setup();
    const mirrorStopped = vi.fn();
    // The mirror itself, loaded at once and with its stop() watched.
    const withSpy: Loaders = {
      ...loaders,
      flameup: async () => (opts) => {
        const mirror = startFlameup(opts);
        return {
          ...mirror,
          stop: () => {
            mirrorStopped();
            mirror.stop();
          },
        };
      },
    };
    const tracker = startCore(
      { endpoint, allowAutomation, project: 'pk', flameup: { apiKey: 'fl_test' } },
      withSpy,
      env,
    );
    await vi.advanceTimersByTimeAsync(10);
    expect(mirrorStopped).not.toHaveBeenCalled();
    tracker.stop();
    expect(mirrorStopped).toHaveBeenCalledTimes(1);
  });
});
