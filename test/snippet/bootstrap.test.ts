import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Options } from '../../src/config';
import { boot, type CreateTracker } from '../../src/entry/bootstrap';
import type { DebugEvent } from '../../src/lib/debug';
import { createTracker } from '../../src/tracker';
import { allowAutomation, endpoint, fakePage, names } from './fake-page';

/** A core that loads when the test says so, and counts how often it was asked for. */
function coreLoader(immediate = true) {
  let release: () => void = () => {};
  const gate = immediate ? Promise.resolve() : new Promise<void>((resolve) => (release = resolve));
  const load = vi.fn(async (): Promise<CreateTracker> => {
    await gate;
    return createTracker;
  });
  return { load, release: () => release() };
}

function start(options: Partial<Options>, page = fakePage(), core = coreLoader()) {
  const events: DebugEvent[] = [];
  const tracker = boot(
    { endpoint, project: 'pk', onDebug: (e) => events.push(e), ...options },
    core.load,
    page.loaders,
    page.env,
  );
  return { tracker, events, page, core };
}

/** The payloads of the visit events the page sent, in order. */
const visitsSent = (page: ReturnType<typeof fakePage>) =>
  page.net
    .tracks()
    .flatMap((body: { events: { data: { tag: string; payload: Record<string, string> } }[] }) =>
      body.events.filter((e) => e.data.tag === 'visit').map((e) => e.data.payload),
    );

const setNavigator = (name: string, value: unknown) =>
  Object.defineProperty(navigator, name, { configurable: true, value });

describe('bootstrap', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const name of ['globalPrivacyControl', 'doNotTrack', 'webdriver']) {
      delete (navigator as unknown as Record<string, unknown>)[name];
    }
  });

  it('does not load the core while consent is pending, and loads it after consent(true)', async () => {
    const { tracker, page, core, events } = start({ allowAutomation, consent: 'pending' });
    tracker.track('before consent');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(core.load).not.toHaveBeenCalled();
    expect(page.net.requests).toHaveLength(0);
    // Not even the sampling decision is stored before consent.
    expect(page.env.local.get('spoor.session')).toBeNull();
    expect(events).toContainEqual(expect.objectContaining({ kind: 'state', reason: 'consent-pending' }));
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'drop', reason: 'consent-pending', count: 1 }),
    );

    tracker.consent(true);
    tracker.track('after consent');
    await tracker.flush();
    expect(core.load).toHaveBeenCalledTimes(1);
    expect(page.recorderStarted).toHaveBeenCalledTimes(1);
    expect(page.net.tracks().flatMap(names)).toEqual(['visit', 'after consent']);
    tracker.stop();
  });

  it('replays the calls made before the core has loaded, in order, and settles a queued flush() after', async () => {
    const core = coreLoader(false);
    const { tracker, page } = start({ allowAutomation }, fakePage(), core);
    tracker.track('first');
    tracker.identify('visitor-7');
    tracker.track('second', { n: 2 });
    let flushed = false;
    const flushing = tracker.flush().then(() => {
      flushed = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(core.load).toHaveBeenCalledTimes(1);
    expect(flushed).toBe(false);
    expect(page.net.requests).toHaveLength(0);

    core.release();
    await flushing;
    expect(page.net.tracks().flatMap(names)).toEqual(['visit', 'first', 'identify', 'second']);
    tracker.stop();
  });

  it('reports the page the visitor landed on even when the app navigates before the core arrives', async () => {
    history.replaceState(null, '', '/');
    document.title = 'Home';
    const core = coreLoader(false);
    const { tracker, page } = start({ allowAutomation }, fakePage(), core);
    // The app's router moves on while the core is still loading (a slow network, a busy main thread).
    history.pushState(null, '', '/about');
    document.title = 'About';
    core.release();
    await tracker.flush();
    // The push visit is reported in a microtask after the load visit (visits.ts); send it too.
    await tracker.flush();
    const visits = visitsSent(page);
    expect(visits.map((v) => [v.navigation, new URL(String(v.url)).pathname, v.title])).toEqual([
      ['load', '/', 'Home'],
      ['push', '/about', 'About'],
    ]);
    // The session's entry URL is the landing page too.
    const mint = page.net.requests.find((r) => r.url.endsWith('/session'));
    expect(new URL(JSON.parse(mint?.text ?? '{}').url).pathname).toBe('/');
    tracker.stop();
    history.replaceState(null, '', '/');
  });

  it('reports the page as it is when tracking starts again after consent was withdrawn and granted', async () => {
    history.replaceState(null, '', '/');
    // The first mint never answers: the landing is still pending when consent is withdrawn.
    const page = fakePage({ gated: true });
    const { tracker } = start({ allowAutomation }, page);
    await vi.advanceTimersByTimeAsync(10);
    tracker.consent(false);
    history.pushState(null, '', '/contact');
    tracker.consent(true);
    page.gate.release();
    await tracker.flush();
    await tracker.flush();
    const visits = visitsSent(page);
    expect(visits.map((v) => [v.navigation, new URL(String(v.url)).pathname])).toEqual([
      ['load', '/contact'],
    ]);
    tracker.stop();
    history.replaceState(null, '', '/');
  });

  it('tracks analytics under Global Privacy Control but never loads the recorder', async () => {
    setNavigator('globalPrivacyControl', true);
    const { tracker, page, core, events } = start({ allowAutomation });
    tracker.track('under gpc');
    await tracker.flush();
    await vi.advanceTimersByTimeAsync(100);
    expect(core.load).toHaveBeenCalledTimes(1);
    expect(page.net.tracks().flatMap(names)).toEqual(['visit', 'under gpc']);
    expect(page.vitalsLoaded).toHaveBeenCalled();
    expect(page.recorderLoaded).not.toHaveBeenCalled();
    const states = events.filter((e) => e.kind === 'state');
    expect(states.length).toBeGreaterThan(0);
    for (const state of states) {
      expect(state).toMatchObject({ recording: false, reason: 'global-privacy-control' });
    }
    expect(states.at(-1)).toMatchObject({ tracking: true });
    tracker.stop();
  });

  it('records as usual under Global Privacy Control when told to ignore it', async () => {
    setNavigator('globalPrivacyControl', true);
    const { tracker, page } = start({ allowAutomation, respectGlobalPrivacyControl: false });
    await tracker.flush();
    expect(page.recorderLoaded).toHaveBeenCalledTimes(1);
    tracker.stop();
  });

  it('loads nothing when Do Not Track is on and respected, and says why for each skipped call', async () => {
    setNavigator('doNotTrack', '1');
    const { tracker, page, core, events } = start({ allowAutomation, respectDoNotTrack: true });
    tracker.track('ignored');
    tracker.consent(true);
    await tracker.flush();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(core.load).not.toHaveBeenCalled();
    expect(page.net.requests).toHaveLength(0);
    expect(events[0]).toMatchObject({ kind: 'state', tracking: false, reason: 'do-not-track' });
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'drop', reason: 'do-not-track', count: 1 }),
    );
  });

  it('tracks a browser sending Do Not Track when respectDoNotTrack is off (the default)', async () => {
    setNavigator('doNotTrack', '1');
    const { tracker, core } = start({ allowAutomation });
    await tracker.flush();
    expect(core.load).toHaveBeenCalledTimes(1);
    tracker.stop();
  });

  it('loads nothing in a browser driven by automation unless allowAutomation is on', async () => {
    setNavigator('webdriver', true);
    const { tracker, page, core, events } = start({});
    await tracker.flush();
    expect(core.load).not.toHaveBeenCalled();
    expect(page.net.requests).toHaveLength(0);
    expect(events[0]).toMatchObject({ kind: 'state', tracking: false, reason: 'automation' });

    const allowed = start({ allowAutomation: true });
    await allowed.tracker.flush();
    expect(allowed.core.load).toHaveBeenCalledTimes(1);
    allowed.tracker.stop();
  });

  it('loads nothing when consent is denied, and clears what an earlier page stored', async () => {
    const page = fakePage();
    page.env.local.set('spoor.session', '{"start":1,"last":1,"idle":1800,"max":86400}');
    page.env.tabStore.set('spoor.tab', '{"id":"sid-old","start":1,"live":""}');
    localStorage.setItem('spoor-outbox:ns:batch-1', '{"id":"batch-1"}');
    localStorage.setItem('unrelated', 'kept');
    const { core, events } = start({ allowAutomation, consent: 'denied' }, page);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(core.load).not.toHaveBeenCalled();
    expect(page.env.local.get('spoor.session')).toBeNull();
    expect(page.env.tabStore.get('spoor.tab')).toBeNull();
    expect(localStorage.getItem('spoor-outbox:ns:batch-1')).toBeNull();
    expect(localStorage.getItem('unrelated')).toBe('kept');
    expect(events[0]).toMatchObject({ kind: 'state', tracking: false, reason: 'consent-denied' });
    localStorage.clear();
  });

  it('stops everything and forgets stored state on consent(false) after tracking started', async () => {
    const { tracker, page } = start({ allowAutomation });
    await tracker.flush();
    await vi.advanceTimersByTimeAsync(5_100);
    const sent = page.net.requests.length;
    expect(page.env.local.get('spoor.session')).not.toBeNull();
    tracker.consent(false);
    tracker.track('after withdrawal');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(page.net.requests).toHaveLength(sent);
    expect(page.env.local.get('spoor.session')).toBeNull();
    expect(page.env.tabStore.get('spoor.tab')).toBeNull();
  });

  it('ignores a core that arrives after consent(false) withdrew its load', async () => {
    const core = coreLoader(false);
    const { tracker, page } = start({ allowAutomation }, fakePage(), core);
    tracker.track('queued');
    tracker.consent(false);
    core.release();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(page.net.requests).toHaveLength(0);
    await expect(tracker.flush()).resolves.toBeUndefined();
  });

  it('keeps a sampled-out decision with the session, so another tab agrees and loads nothing either', async () => {
    const first = start({ allowAutomation, sampleRate: 0.2 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(first.core.load).not.toHaveBeenCalled();
    expect(JSON.parse(first.page.env.local.get('spoor.session') ?? '{}').sampled).toBe(false);
    expect(first.events.at(-1)).toMatchObject({ kind: 'state', tracking: false, reason: 'sampled-out' });

    // Another tab of the same session, whose own draw would keep it.
    const other = fakePage({ local: first.page.env.local });
    other.env.random = () => 0;
    const second = start({ allowAutomation, sampleRate: 0.2 }, other);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(second.core.load).not.toHaveBeenCalled();
  });

  it('shows a debug listener added before the core loaded the whole history, then the core events', async () => {
    const { tracker } = start({ allowAutomation, consent: 'pending' });
    const early: DebugEvent[] = [];
    tracker.onDebug((e) => early.push(e));
    tracker.consent(true);
    await tracker.flush();
    const late: DebugEvent[] = [];
    tracker.onDebug((e) => late.push(e));
    for (const seen of [early, late]) {
      expect(seen[0]).toMatchObject({ kind: 'state', reason: 'consent-pending' });
      expect(seen.map((e) => e.kind)).toEqual(expect.arrayContaining(['session', 'batch']));
    }
    tracker.stop();
  });

  it('never throws into the page: no endpoint, odd arguments, or a core that cannot load', async () => {
    const onError = vi.fn();
    const broken = boot({} as Options, vi.fn(), fakePage().loaders, fakePage().env);
    expect(() => broken.track('x')).not.toThrow();
    await expect(broken.flush()).resolves.toBeUndefined();

    const failing = vi.fn(() => Promise.reject(new Error('blocked by CSP')));
    const events: DebugEvent[] = [];
    const page = fakePage();
    const tracker = boot(
      { endpoint, allowAutomation, onError, onDebug: (e) => events.push(e) },
      failing,
      page.loaders,
      page.env,
    );
    tracker.track(undefined as unknown as string, 5 as unknown as Record<string, unknown>);
    await expect(tracker.flush()).resolves.toBeUndefined();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'blocked by CSP' }));
    expect(events.at(-1)).toMatchObject({ kind: 'state', tracking: false, reason: 'load-failed' });
  });
});
