import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DebugEvent } from '../../src/debug';
import { createStorage } from '../../src/storage';
import { createTracker, type Environment, type Loaders } from '../../src/tracker';
import { fakeFetch, fakeOutbox, type Reply } from './fake-network';

const endpoint = 'https://c.example/api';
// happy-dom reports navigator.webdriver = true, which would opt the tests out as automation.
const allowAutomation = true;
let minted = 0;

function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    length: 0,
    clear: () => map.clear(),
    getItem: (k: string) => map.get(k) ?? null,
    key: () => null,
    removeItem: (k: string) => void map.delete(k),
    setItem: (k: string, v: string) => void map.set(k, v),
  };
}

function setup(track: (index: number) => Reply = () => ({ status: 200 }), mintDelay = 0) {
  let trackIndex = 0;
  const net = fakeFetch((url) => {
    if (url.endsWith('/session')) {
      return {
        status: 200,
        body: JSON.stringify({ status: true, sessionIdentifier: `sid-${++minted}`, tab: 1 }),
      };
    }
    return track(trackIndex++);
  });
  const gate = { open: mintDelay === 0, release: () => {} };
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith('/session') && !gate.open) {
      await new Promise<void>((resolve) => {
        gate.release = () => {
          gate.open = true;
          resolve();
        };
      });
    }
    return net.fetch(input, init);
  }) as typeof globalThis.fetch;
  const snapshot = vi.fn();
  const recorderStarted = vi.fn();
  const loaders: Loaders = {
    recorder: async () => (opts) => {
      recorderStarted(opts);
      return { takeFullSnapshot: snapshot, stop: () => {} };
    },
    vitals: async () => () => () => {},
  };
  const env: Environment = {
    win: window,
    fetch,
    local: createStorage(memoryStorage),
    tabStore: createStorage(memoryStorage),
    outbox: fakeOutbox(),
    now: Date.now,
    random: () => 0.5,
  };
  return { net, env, loaders, snapshot, recorderStarted, gate };
}

const names = (body: { events: { data: { tag: string; payload: { name?: string } } }[] }) =>
  body.events.map((e) => (e.data.tag === 'event' ? e.data.payload.name : e.data.tag));

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
    const tracker = createTracker(
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
    const tracker = createTracker({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
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
    const tracker = createTracker(
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

  it('flushes at each visit boundary so a batch never spans two visits', async () => {
    const { net, env, loaders } = setup();
    const tracker = createTracker(
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
    const tracker = createTracker(
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

  it('records and sends nothing while consent is pending, and starts on consent(true)', async () => {
    const { net, env, loaders, recorderStarted } = setup();
    const tracker = createTracker(
      { endpoint, allowAutomation, project: 'pk', consent: 'pending' },
      loaders,
      env,
    );
    tracker.track('ignored');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(net.requests).toHaveLength(0);
    expect(recorderStarted).not.toHaveBeenCalled();
    tracker.consent(true);
    await vi.advanceTimersByTimeAsync(5_100);
    expect(recorderStarted).toHaveBeenCalledTimes(1);
    expect(net.tracks().flatMap(names)).toEqual(['visit']);
    tracker.stop();
  });

  it('stops everything and forgets stored state on consent(false)', async () => {
    const { net, env, loaders } = setup();
    const tracker = createTracker({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
    await vi.advanceTimersByTimeAsync(5_100);
    const sent = net.requests.length;
    expect(env.local.get('spoor.session')).not.toBeNull();
    tracker.consent(false);
    tracker.track('after withdrawal');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(net.requests).toHaveLength(sent);
    expect(env.local.get('spoor.session')).toBeNull();
    expect(env.tabStore.get('spoor.tab')).toBeNull();
  });

  it('stores the sampling decision with the session and sends nothing when sampled out', async () => {
    const { net, env, loaders, recorderStarted } = setup();
    const events: DebugEvent[] = [];
    createTracker(
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
    const tracker = createTracker({ endpoint, allowAutomation, project: 'pk', onError }, loaders, env);
    await vi.advanceTimersByTimeAsync(5_100);
    expect(snapshot).toHaveBeenCalled();
    expect(onError).toHaveBeenCalled();
    tracker.stop();
  });

  it('never throws into the page, whatever it is called with', async () => {
    const { env, loaders } = setup();
    const onError = vi.fn();
    const tracker = createTracker({ endpoint, allowAutomation, project: 'pk', onError }, loaders, env);
    expect(() =>
      tracker.track(undefined as unknown as string, 5 as unknown as Record<string, unknown>),
    ).not.toThrow();
    expect(() => tracker.identify({} as unknown as string)).not.toThrow();
    expect(onError).toHaveBeenCalledTimes(2);
    const broken = createTracker({} as unknown as { endpoint: string }, loaders, env);
    expect(() => broken.track('x')).not.toThrow();
    await expect(broken.flush()).resolves.toBeUndefined();
    tracker.stop();
  });

  it('replays debug history to a listener added late', async () => {
    const { env, loaders } = setup();
    const tracker = createTracker({ endpoint, allowAutomation, project: 'pk' }, loaders, env);
    await vi.advanceTimersByTimeAsync(5_100);
    const kinds: string[] = [];
    tracker.onDebug((e) => kinds.push(e.kind));
    expect(kinds).toEqual(expect.arrayContaining(['state', 'session', 'batch']));
    tracker.stop();
  });
});
