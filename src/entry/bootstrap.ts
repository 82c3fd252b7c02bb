// The part of Spoor every page pays for: it decides whether this page is tracked at all and loads the
// core (tracker, session, delivery, outbox, observers) only once it is. Privacy signals come first, then
// consent, then the session's sampling decision; until the core has loaded, `boot()` answers with a
// facade that queues the page's calls and replays them in order. Shared by the script tag (script.ts,
// which loads spoor.core.min.js) and the npm entry (index.ts, which imports './tracker').

import type { Context, CreateTracker, Environment, Loaders, Tracker } from '../api';
import { type Config, type Options, resolveConfig } from '../config';
import { createBoundary } from '../lib/boundary';
import { createDebug, type Debug } from '../lib/debug';
import { forgetStored, SHARED_KEY, sharedRecord } from '../state/keys';
import { browserOptOut, type PrivacySignals, sampleSession } from '../state/privacy';
import { createStorage } from '../state/storage';
import type { DropReason } from '../types';

// The seam's types live in api.ts; re-exported for the callers that know them from here.
export type { Context, CreateTracker, Environment };

export function defaultEnvironment(): Environment {
  const win = window;
  const nav = win.navigator;
  const env: Environment = {
    win,
    fetch: (input, init) => win.fetch(input, init),
    local: createStorage(() => win.localStorage),
    tabStore: createStorage(() => win.sessionStorage),
    now: Date.now,
    random: Math.random,
  };
  if (typeof nav.sendBeacon === 'function') env.sendBeacon = (url, data) => nav.sendBeacon(url, data);
  return env;
}

type Method = 'track' | 'identify' | 'flush' | 'stop' | 'consent';
/** A call waiting for the core; `settle` answers a queued flush() with the core's promise. */
type Queued = [method: Method, args: unknown[], settle?: (result: unknown) => void];

/** A started bootstrap, as the one-tracker-per-page rule (page.ts) needs it. */
export interface Booted {
  tracker: Tracker;
  debug: Debug;
  /**
   * Ends this tracker because `next` replaces it: a running core is stopped (what is pending goes out);
   * a core still loading is never created, and the calls queued for it are handed to `next` in order,
   * so that the page never holds two cores, two recorders or two mints at once.
   */
  dispose(next: Tracker): void;
}

/**
 * Starts Spoor in this page: returns at once a tracker that queues calls until the core has loaded,
 * which happens only when the page is tracked (no opt-out signal, consent granted, sampled in).
 * Never throws.
 */
export function boot(
  options: Options,
  loadCore: () => Promise<CreateTracker>,
  loaders: Loaders,
  env: Environment = defaultEnvironment(),
): Tracker {
  return bootPage(options, loadCore, loaders, env).tracker;
}

/** boot(), with what replacing the tracker later needs. */
export function bootPage(
  options: Options,
  loadCore: () => Promise<CreateTracker>,
  loaders: Loaders,
  env: Environment = defaultEnvironment(),
): Booted {
  let config: Config;
  try {
    config = resolveConfig(options);
  } catch {
    config = resolveConfig({} as Options);
  }
  const boundary = createBoundary(config.onError, config.debug);
  const debug = createDebug(config.debug, env.now);
  if (config.onDebug) debug.subscribe(config.onDebug);
  // The core's tracker, once loaded and created.
  let core: Tracker | undefined;
  // The load in flight: a fresh token per load, so a load that consent(false) withdrew is ignored.
  let loading: object | undefined;
  // Calls made while the core loads, oldest first.
  const queue: Queued[] = [];
  // Why the core is not loaded (undefined while it loads or runs, and after stop()).
  let reason: DropReason | undefined;
  // Set under Global Privacy Control: analytics run, the recorder never loads.
  let noRecording: DropReason | undefined;

  const skip = (why: DropReason) => {
    reason = why;
    debug.emit({ kind: 'state', tracking: false, recording: false, reason: why });
  };

  const forget = () => forgetStored(env.local, env.tabStore);

  const settleQueue = () => {
    for (const [, , settle] of queue.splice(0)) settle?.(undefined);
  };

  const load = () => {
    // Drawn once per session and kept with it, so every tab of the session agrees.
    const record = sharedRecord(env.local, env.now());
    const sampled = sampleSession(config.sampleRate, record.sampled, env.random);
    if (record.sampled !== sampled) env.local.set(SHARED_KEY, JSON.stringify({ ...record, sampled }));
    if (!sampled) return skip('sampled-out');
    reason = undefined;
    if (noRecording) debug.emit({ kind: 'state', tracking: true, recording: false, reason: noRecording });
    const mine = {};
    loading = mine;
    // Read now: by the time the core has arrived, a single-page app may have moved on.
    const { location, document } = env.win;
    const landing = { url: location.href, referrer: document.referrer, title: document.title };
    loadCore().then(
      (create) => {
        if (loading !== mine) return;
        loading = undefined;
        const created = create(config, { loaders, env, debug, boundary, noRecording, landing });
        core = created;
        for (const [method, args, settle] of queue.splice(0)) {
          const result = boundary.run(() => (created[method] as (...a: unknown[]) => unknown)(...args));
          settle?.(result);
        }
      },
      (error) => {
        boundary.report(error);
        if (loading !== mine) return;
        loading = undefined;
        debug.emit({ kind: 'drop', reason: 'load-failed', count: queue.length, detail: String(error) });
        settleQueue();
        skip('load-failed');
      },
    );
  };

  const call = (method: Method, args: unknown[]): unknown => {
    if (core) return (core[method] as (...a: unknown[]) => unknown)(...args);
    if (loading) queue.push([method, args]);
    else if (method === 'track' || method === 'identify') {
      debug.emit({ kind: 'drop', reason: reason ?? 'consent-denied', count: 1, detail: 'not tracking' });
    } else if (method === 'stop') reason = undefined;
    return undefined;
  };

  // What runs first: privacy signals, then consent; sampling waits for consent (load()).
  boundary.run(() => {
    if (!config.endpoint) throw new Error('spoor: the endpoint option is required');
    const optOut = browserOptOut(config, env.win.navigator as Navigator & PrivacySignals);
    // GPC asks for no recording; DNT (when respected) and automation for no tracking at all.
    if (optOut === 'global-privacy-control') {
      if (config.record) noRecording = optOut;
    } else if (optOut) return skip(optOut);
    if (config.consent === 'granted') return load();
    if (config.consent === 'denied') forget();
    skip(config.consent === 'denied' ? 'consent-denied' : 'consent-pending');
  });

  const tracker: Tracker = {
    track: boundary.guard((name: string, parameters?: Record<string, unknown>) =>
      call('track', [name, parameters]),
    ),
    identify: boundary.guard((externalId: string | number) => call('identify', [externalId])),
    flush: () =>
      core
        ? core.flush()
        : new Promise<void>((resolve) => {
            if (loading) queue.push(['flush', [], resolve as (result: unknown) => void]);
            else resolve();
          }),
    stop: boundary.guard(() => call('stop', [])),
    consent: boundary.guard((granted: boolean) => {
      if (granted) {
        if (core) core.consent(true);
        else if (!loading && (reason === 'consent-pending' || reason === 'consent-denied')) load();
        return;
      }
      loading = undefined;
      settleQueue();
      core?.consent(false);
      forget();
      if (!core) skip('consent-denied');
    }),
    onDebug: (listener) => debug.subscribe(listener),
  };
  const dispose = (next: Tracker) => {
    if (core) return boundary.run(() => core?.stop());
    loading = undefined;
    for (const [method, args, settle] of queue.splice(0)) {
      const result = boundary.run(() => (next[method] as (...a: unknown[]) => unknown)(...args));
      settle?.(result);
    }
  };
  return { tracker, debug, dispose };
}
