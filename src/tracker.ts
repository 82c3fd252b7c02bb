// The core, loaded once the bootstrap (bootstrap.ts) has decided that this page is tracked. It only
// wires: it creates the parts (session, delivery, batcher, timer, observers, the lazily loaded
// recorder, vitals and Flameup mirror), connects the page's and the browser's events to them, and
// collects their stop functions. Producers feed the batcher; batches leave through the delivery in
// order. Every call from the page or the browser passes the one error boundary, so nothing throws
// into the page.

import type { Context, Tracker } from './api';
import type { Config } from './config';
import { backoffDelay } from './deliver/backoff';
import { type Batcher, createBatcher } from './deliver/batcher';
import { createRateLimit } from './deliver/budget';
import type { Compressor } from './deliver/compress';
import { createDelivery, type Delivery } from './deliver/delivery';
import { createOutbox } from './deliver/outbox';
import { createTransport } from './deliver/transport';
import type { Flameup } from './flameup/flameup';
import { forgetFlameupEvents, loadFlameup } from './flameup/loader';
import { startGoals } from './observe/goals';
import { identifyEvent, trackEvent } from './observe/named-events';
import type { Recorder } from './observe/recorder';
import { startTimer, type Timer } from './observe/timer';
import { startVisits, type VisitPayload } from './observe/visits';
import { sampleSession } from './state/privacy';
import { createSession, type Session } from './state/session';
import { customEvent, type DropReason, type Enqueue, type Stop, type WireEvent } from './types';

// The page-facing interface and the seam with the bootstrap live in api.ts (types only), so that
// the bootstrap and the core do not import each other.
export type { Loaders, StartFlameup, StartVitals, Tracker } from './api';

/** Everything that exists while tracking runs. */
interface Running {
  session: Session;
  delivery: Delivery;
  batcher: Batcher;
  timer: Timer;
  stops: Stop[];
  recorder?: Recorder;
  /** The direct-mode Flameup mirror, with the `flameup` option only. */
  flameup?: Flameup | undefined;
}

/**
 * Starts tracking at once: the bootstrap has already checked the privacy signals, consent and sampling
 * (sampling is checked again here, and at each renewal, because a session can expire in the page).
 * `context.noRecording` keeps the recorder from ever loading while analytics run.
 */
export function createTracker(config: Config, context: Context): Tracker {
  const { loaders, env, debug, boundary, noRecording } = context;
  // The page the visitor landed on, for the first start only: its visit and the first mint's entry URL.
  let landing = context.landing;
  const { report } = boundary;
  const { win, now } = env;
  const doc = win.document;
  const userAgent = win.navigator.userAgent;

  // The running parts, or undefined while not tracking.
  let running: Running | undefined;
  // Why nothing runs (undefined while running or before starting).
  let reason: DropReason | undefined;
  // When lastActivity was last recorded, to touch localStorage at most once a second.
  let lastTouch = 0;
  // The mint retry timer.
  let mintRetry: ReturnType<typeof setTimeout> | undefined;
  let mintAttempts = 0;

  const state = () => {
    const why = reason ?? (running && noRecording);
    debug.emit({
      kind: 'state',
      tracking: !!running,
      recording: !!running?.recorder,
      ...(why ? { reason: why } : {}),
    });
  };
  const dropped = (why: DropReason, count: number, detail?: string) =>
    debug.emit({ kind: 'drop', reason: why, count, ...(detail ? { detail } : {}) });
  // One dropped thing and why, as the vitals and the Flameup mirror report it.
  const onDrop = (why: DropReason, detail: string) => dropped(why, 1, detail);
  const outbox =
    env.outbox ??
    createOutbox({
      namespace: `${config.endpoint} ${config.project}`,
      maxBytes: config.outboxMaxBytes,
      onDrop: (count) => dropped('outbox-full', 0, `${count} batches`),
      onFallback: (from, to, error) => {
        debug.emit({ kind: 'storage', from, to });
        report(error);
      },
    });

  const acquire = () => {
    if (!running) return;
    clearTimeout(mintRetry);
    const { delivery } = running;
    running.session.acquire().then(
      () => {
        mintAttempts = 0;
        landing = undefined;
        // Batches a page left without an identifier wait in the outbox for this one; they go first.
        void delivery.drain();
        running?.batcher.send();
      },
      (error) => {
        report(error);
        mintRetry = setTimeout(acquire, backoffDelay(mintAttempts++, env.random));
      },
    );
  };

  const visit = (payload: VisitPayload) => {
    if (!running) return;
    running.batcher.visit();
    running.timer.reset();
    add(customEvent('visit', payload, now()));
    goals?.checkUrl(payload.url);
  };

  /** Starts a new session after 30 idle minutes, 24 hours, or another tab starting one. */
  const renew = () => {
    if (!running) return;
    const { session, batcher } = running;
    batcher.cut();
    session.renew().then(() => {
      if (!running) return;
      if (!sampleSession(config.sampleRate, session.shared().sampled, env.random)) {
        session.update({ sampled: false });
        halt('sampled-out');
        return;
      }
      session.update({ sampled: true });
      running.recorder?.takeFullSnapshot();
      running.batcher.send();
    }, report);
    visit({ url: win.location.href, referrer: doc.referrer, title: doc.title, navigation: 'load' });
  };

  const add = (event: WireEvent) => {
    if (!running) return;
    const t = now();
    if (t - lastTouch > 1000) {
      lastTouch = t;
      if (running.session.touch()) {
        renew();
      }
    }
    running.batcher.add(event);
  };
  const enqueue: Enqueue = boundary.guard(add);

  // Goals must exist before the first visit is reported (synchronously by startVisits).
  let goals: ReturnType<typeof startGoals> | undefined;

  const start = () => {
    if (running) return;
    if (typeof env.fetch !== 'function') {
      report(new Error('spoor: this browser has no fetch'));
      return;
    }
    const session = createSession({
      explicit: config.sessionIdentifier,
      project: config.project,
      endpoint: config.endpoint,
      contentType: config.contentType,
      local: env.local,
      tabStore: env.tabStore,
      fetch: env.fetch,
      page: () => ({
        url: landing ? landing.url : win.location.href,
        referrer: landing ? landing.referrer : doc.referrer,
        userAgent,
      }),
      onSession: (info) => debug.emit({ kind: 'session', ...info }),
      now,
    });
    const sampled = sampleSession(config.sampleRate, session.shared().sampled, env.random);
    session.update({ sampled });
    if (!sampled) {
      reason = 'sampled-out';
      state();
      return;
    }
    const transport = createTransport({
      url: `${config.endpoint}/services/analytics/v1/track`,
      contentType: config.contentType,
      compress: config.compress,
      fetch: env.fetch,
      sendBeacon: env.sendBeacon,
      compressor: loaders.compressor && (() => loaders.compressor?.(config.worker) as Promise<Compressor>),
    });
    const delivery = createDelivery({
      transport,
      outbox,
      rate: createRateLimit(now),
      debug,
      report,
      remint: (rejected) => session.renew(rejected),
      identifier: () => session.current(),
      onDropped: () => running?.recorder?.takeFullSnapshot(),
      now,
      random: env.random,
    });
    const timer = startTimer(win);
    const batcher = createBatcher(config, {
      session,
      timer,
      delivery,
      debug,
      report,
      now,
      userAgent,
      // Batches are sized by their bytes on the wire: gzip, estimated at the last body's ratio.
      ratio: transport.ratio,
    });
    const stops: Stop[] = [batcher.stop];
    const current: Running = { session, delivery, batcher, timer, stops };
    running = current;
    reason = undefined;

    const listen = (target: EventTarget, type: string, fn: () => void) => {
      const guarded = boundary.guard(fn);
      target.addEventListener(type, guarded);
      stops.push(() => target.removeEventListener(type, guarded));
    };
    // Never an unload listener: it keeps the page out of the back/forward cache.
    listen(doc, 'visibilitychange', () => {
      if (doc.visibilityState === 'hidden') batcher.hide();
    });
    listen(win, 'pagehide', () => {
      batcher.hide();
      session.release();
    });
    listen(win, 'pageshow', () => {
      session.claim();
      void delivery.drain();
    });
    listen(win, 'online', () => {
      acquire();
      void delivery.wake();
      current.flameup?.wake();
    });
    stops.push(() => clearTimeout(mintRetry));

    goals = startGoals({
      goals: config.goals,
      enqueue,
      report,
      onClickConversion: () => void batcher.flush(),
    });
    stops.push(goals.stop);
    stops.push(
      startVisits({ hashRoutes: config.hashRoutes, onVisit: boundary.guard(visit), report, landing }),
    );

    // The loaded part starts only if tracking still runs in the same generation.
    const lazy = <T>(load: () => Promise<T>, use: (loaded: T) => void) => {
      load().then((loaded) => {
        if (running === current) use(loaded);
      }, report);
    };
    if (config.record && !noRecording) {
      lazy(loaders.recorder, (startRecorder) => {
        current.recorder = startRecorder({ enqueue, report, config });
        stops.push(() => current.recorder?.stop());
        state();
      });
    }
    if (config.flameup) {
      current.flameup = loadFlameup(config.flameup, loaders.flameup, dropped, {
        getExternalId: () => session.shared().externalId,
        report,
        onDrop,
        fetch: env.fetch,
        now,
        random: env.random,
      });
      if (current.flameup) stops.push(current.flameup.stop);
    }
    if (config.vitals) {
      lazy(loaders.vitals, (startVitals) => {
        stops.push(startVitals({ enqueue, report, onDrop }));
      });
    }
    acquire();
    // Batches an earlier page (or another tab) could not deliver.
    void delivery.drain();
    state();
  };

  /** Stops everything running; pending events are forgotten unless sent before. */
  const halt = (why: DropReason | undefined, settling?: Promise<unknown>) => {
    const current = running;
    running = undefined;
    // Tracking that starts again later (consent granted anew) begins from the page as it is then.
    landing = undefined;
    reason = why;
    if (current) {
      for (const stop of current.stops.splice(0)) boundary.run(stop);
      current.timer.stop();
      // The delivery stops once the last sends have settled.
      void Promise.resolve(settling).finally(() => current.delivery.stop());
    }
    goals = undefined;
    state();
  };

  const inactive = (count: number) => {
    if (!running) dropped(reason ?? 'consent-denied', count, 'not tracking');
    return !running;
  };

  boundary.run(start);

  return {
    track: boundary.guard((name: string, parameters?: Record<string, unknown>) => {
      if (inactive(1)) return;
      const checked = trackEvent(name, parameters, now());
      if (checked.ok) {
        add(checked.event);
        const { payload } = checked.event.data as { payload: { name: string; parameters: object } };
        running?.flameup?.mirror(payload.name, payload.parameters, checked.event.timestamp);
      } else {
        dropped('invalid-call', 1, checked.error.message);
        report(checked.error);
      }
    }),
    identify: boundary.guard((externalId: string | number) => {
      if (inactive(1)) return;
      const checked = identifyEvent(externalId, now());
      if (!checked.ok) {
        dropped('invalid-call', 1, checked.error.message);
        report(checked.error);
        return;
      }
      running?.session.update({ externalId: String(externalId) });
      add(checked.event);
      // Events mirrored before identify() were waiting for this id.
      running?.flameup?.wake();
    }),
    flush: () => (running ? running.batcher.flush() : Promise.resolve()).catch(report),
    stop: boundary.guard(() => {
      // What is pending goes out before the parts stop; without an identifier yet, it waits in the
      // outbox for the next page's.
      const last = running?.batcher.finish();
      // A tracker started later in this page (init() with other options) goes on with this identifier.
      running?.session.release();
      halt(undefined, last);
    }),
    consent: boundary.guard((granted: boolean) => {
      if (granted) {
        if (reason === 'consent-denied') start();
        return;
      }
      // What is pending in this page is forgotten with the batcher.
      halt('consent-denied');
      // Stored state is the bootstrap's to clear (it holds no core when consent is denied at load);
      // here what lives only in this page: batches of the memory outbox.
      void outbox.list().then((kept) => Promise.all(kept.map((batch) => outbox.remove(batch.id))), report);
      if (config.flameup) void forgetFlameupEvents(config.flameup);
    }),
    onDebug: (listener) => debug.subscribe(listener),
  };
}
