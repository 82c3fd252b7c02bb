// The core, loaded once the bootstrap (bootstrap.ts) has decided that this page is tracked: the
// session, the observers and the recorder feed the queue; batches leave through the delivery in order.
// Every call from the page or the browser passes the one error boundary, so nothing throws into the page.

import { backoffDelay } from './backoff';
import type { Context } from './bootstrap';
import type { Config } from './config';
import type { DebugEvent } from './debug';
import { type Batch, createDelivery, type Delivery, makeBatch } from './delivery';
import { identifyEvent, trackEvent } from './events';
import { startGoals } from './goals';
import { createOutbox } from './outbox';
import { sampleSession } from './privacy';
import { buildBody, byteLength, createQueue, NO_IDENTIFIER, type Pending, splitByBytes } from './queue';
import { createRateLimit } from './ratelimit';
import type { Recorder, StartRecorder } from './recorder';
import { createSession, type Session } from './session';
import { startTimer, type Timer } from './timer';
import { createTransport, KEEPALIVE_BUDGET } from './transport';
import {
  customEvent,
  type DropReason,
  type Enqueue,
  type ReportError,
  type Stop,
  type WireEvent,
} from './types';
import { startVisits, type VisitPayload } from './visits';

export type StartVitals = (opts: {
  enqueue: Enqueue;
  report: ReportError;
  onDrop: (reason: DropReason, detail: string) => void;
}) => Stop;

/** How the lazily loaded parts arrive: dynamic import() for npm, a second script file for the script tag. */
export interface Loaders {
  recorder: () => Promise<StartRecorder>;
  vitals: () => Promise<StartVitals>;
}

export interface Tracker {
  /** Sends a named event with optional parameters (a plain JSON-like object). */
  track(name: string, parameters?: Record<string, unknown>): void;
  /** Ties the session to your own id for the visitor. */
  identify(externalId: string | number): void;
  /** Sends what is pending; settles once it is delivered, kept for later, or dropped. Never rejects. */
  flush(): Promise<void>;
  /** Stops tracking in this page after sending what is pending. */
  stop(): void;
  /** Grants or withdraws consent. Withdrawing stops everything and forgets stored state. */
  consent(granted: boolean): void;
  /** Calls listener with the last 200 debug events, then with every new one. Returns its removal. */
  onDebug(listener: (event: DebugEvent) => void): () => void;
}

/** Everything that exists while tracking runs. */
interface Running {
  session: Session;
  delivery: Delivery;
  timer: Timer;
  stops: Stop[];
  recorder?: Recorder;
}

/**
 * Starts tracking at once: the bootstrap has already checked the privacy signals, consent and sampling
 * (sampling is checked again here, and at each renewal, because a session can expire in the page).
 * `context.noRecording` keeps the recorder from ever loading while analytics run.
 */
export function createTracker(config: Config, context: Context): Tracker {
  const { loaders, env, debug, boundary, noRecording } = context;
  const { report } = boundary;
  const { win, now } = env;
  const doc = win.document;
  const userAgent = win.navigator.userAgent;

  // Events of the running page, serialized, not yet cut into a batch.
  const queue = createQueue(config.maxBatchBytes);
  // Cut segments (one per visit at most) waiting for an identifier to become batches.
  let held: { items: Pending[]; timer: number }[] = [];
  // The timer value last cut for this visit: an unchanged timer with no events is not sent again.
  let lastTimer = 0;
  // The running parts, or undefined while not tracking.
  let running: Running | undefined;
  // Why nothing runs (undefined while running or before starting).
  let reason: DropReason | undefined;
  // When lastActivity was last recorded, to touch localStorage at most once a second.
  let lastTouch = 0;
  // The mint retry timer.
  let mintRetry: ReturnType<typeof setTimeout> | undefined;
  let mintAttempts = 0;

  const url = `${config.endpoint}/services/analytics/v1/track`;
  const outbox =
    env.outbox ??
    createOutbox({
      namespace: `${config.endpoint} ${config.project}`,
      maxBytes: config.outboxMaxBytes,
      onDrop: (count) =>
        debug.emit({ kind: 'drop', reason: 'outbox-full', count: 0, detail: `${count} batches` }),
    });

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

  /** Moves pending events into a held segment: a batch never spans two visits nor two identifiers. */
  const cut = () => {
    if (!running) return;
    const items = queue.take();
    const timer = running.timer.seconds();
    if (items.length === 0 && timer === lastTimer) return;
    lastTimer = timer;
    held.push({ items, timer });
    debug.emit({ kind: 'timer', seconds: timer });
  };

  /**
   * Turns held segments into batches once an identifier is held; none before, unless `keep` (the page
   * is going away or tracking stops): then they carry NO_IDENTIFIER and wait in the outbox for the
   * next page load to fill in its identifier before their first send.
   */
  const batches = (maxBytes: number, keep = false): Batch[] => {
    const sid = running?.session.current() ?? (keep ? NO_IDENTIFIER : undefined);
    if (sid === undefined) return [];
    const out: Batch[] = [];
    for (const { items, timer } of held) {
      const overhead = byteLength(buildBody(sid, timer, [], userAgent));
      const runs = items.length > 0 ? splitByBytes(items, maxBytes, overhead) : [[]];
      for (const run of runs) {
        out.push(
          makeBatch(
            buildBody(
              sid,
              timer,
              run.map((item) => item.json),
              userAgent,
            ),
            run.length,
            now(),
          ),
        );
      }
    }
    held = [];
    return out;
  };

  // Settles once every batch handed to the delivery so far has settled: a flush() must also wait for
  // the batches another caller (the mint's arrival, a visit) cut just before it.
  let sent: Promise<unknown> = Promise.resolve();
  const send = (): Promise<void> => {
    if (!running) return Promise.resolve();
    const { delivery } = running;
    sent = Promise.all([sent, ...batches(config.maxBatchBytes).map((batch) => delivery.send(batch))]);
    return sent.then(() => undefined);
  };

  const flush = async (): Promise<void> => {
    cut();
    if (!running) return;
    try {
      await running.session.acquire();
    } catch {
      return; // kept, and sent once an identifier arrives
    }
    await send();
  };

  const acquire = () => {
    if (!running) return;
    clearTimeout(mintRetry);
    const { delivery } = running;
    running.session.acquire().then(
      () => {
        mintAttempts = 0;
        // Batches a page left without an identifier wait in the outbox for this one; they go first.
        void delivery.drain();
        void send();
      },
      (error) => {
        report(error);
        mintRetry = setTimeout(acquire, backoffDelay(mintAttempts++, env.random));
      },
    );
  };

  const visit = (payload: VisitPayload) => {
    if (!running) return;
    cut();
    void send();
    running.timer.reset();
    lastTimer = 0;
    add(customEvent('visit', payload, now()));
    goals?.checkUrl(payload.url);
  };

  /** Starts a new session after 30 idle minutes, 24 hours, or another tab starting one. */
  const renew = () => {
    if (!running) return;
    cut();
    void send();
    const { session } = running;
    session.renew().then(() => {
      if (!running) return;
      if (!sampleSession(config.sampleRate, session.shared().sampled, env.random)) {
        session.update({ sampled: false });
        halt('sampled-out');
        return;
      }
      session.update({ sampled: true });
      running.recorder?.takeFullSnapshot();
      void send();
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
    if (queue.add(event)) void flush();
  };
  const enqueue: Enqueue = boundary.guard(add);

  // Goals must exist before the first visit is reported (synchronously by startVisits).
  let goals: ReturnType<typeof startGoals> | undefined;

  const hide = () => {
    if (!running) return;
    cut();
    running.delivery.hide(batches(Math.min(config.maxBatchBytes, KEEPALIVE_BUDGET), true));
  };

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
      page: () => ({ url: win.location.href, referrer: doc.referrer, userAgent }),
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
    const delivery = createDelivery({
      transport: createTransport({
        url,
        contentType: config.contentType,
        compress: config.compress,
        fetch: env.fetch,
        sendBeacon: env.sendBeacon,
      }),
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
    const stops: Stop[] = [];
    running = { session, delivery, timer, stops };
    reason = undefined;
    lastTimer = 0;

    const listen = (target: EventTarget, type: string, fn: () => void) => {
      const guarded = boundary.guard(fn);
      target.addEventListener(type, guarded);
      stops.push(() => target.removeEventListener(type, guarded));
    };
    // Never an unload listener: it keeps the page out of the back/forward cache.
    listen(doc, 'visibilitychange', () => {
      if (doc.visibilityState === 'hidden') hide();
    });
    listen(win, 'pagehide', () => {
      hide();
      session.release();
    });
    listen(win, 'pageshow', () => {
      session.claim();
      void delivery.drain();
    });
    listen(win, 'online', () => {
      acquire();
      void delivery.wake();
    });
    const interval = setInterval(boundary.guard(flush), config.flushInterval);
    stops.push(() => clearInterval(interval));
    stops.push(() => clearTimeout(mintRetry));

    goals = startGoals({ goals: config.goals, enqueue, report, onClickConversion: () => void flush() });
    stops.push(goals.stop);
    stops.push(startVisits({ hashRoutes: config.hashRoutes, onVisit: boundary.guard(visit), report }));

    const current = running;
    // The loaded part starts only if tracking still runs in the same generation.
    const lazy = <T>(load: () => Promise<T>, use: (loaded: T) => void) => {
      load().then((loaded) => {
        if (running === current) use(loaded);
      }, report);
    };
    if (config.record && !noRecording) {
      lazy(loaders.recorder, (startRecorder) => {
        current.recorder = startRecorder({
          enqueue,
          report,
          mask: config.mask,
          block: config.block,
          maskAllInputs: config.maskAllInputs,
        });
        stops.push(() => current.recorder?.stop());
        state();
      });
    }
    if (config.vitals) {
      lazy(loaders.vitals, (startVitals) => {
        stops.push(startVitals({ enqueue, report, onDrop: (why, detail) => dropped(why, 1, detail) }));
      });
    }
    acquire();
    // Batches an earlier page (or another tab) could not deliver.
    void delivery.drain();
    state();
  };

  /** Stops everything running; pending events are forgotten unless flushed before. */
  const halt = (why: DropReason | undefined, settling?: Promise<unknown>) => {
    const current = running;
    running = undefined;
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
      if (checked.ok) add(checked.event);
      else {
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
    }),
    flush: () => flush().catch(report),
    stop: boundary.guard(() => {
      // What is pending goes out before the parts stop; without an identifier yet, it waits in the
      // outbox for the next page's.
      cut();
      const current = running;
      const last = current
        ? Promise.all(batches(config.maxBatchBytes, true).map((b) => current.delivery.send(b)))
        : undefined;
      halt(undefined, last);
    }),
    consent: boundary.guard((granted: boolean) => {
      if (granted) {
        if (reason === 'consent-denied') start();
        return;
      }
      halt('consent-denied');
      // Stored state is the bootstrap's to clear (it holds no core when consent is denied at load);
      // here what lives only in this page: pending events, and batches of the memory outbox.
      queue.clear();
      held = [];
      void outbox.list().then((kept) => Promise.all(kept.map((batch) => outbox.remove(batch.id))), report);
    }),
    onDebug: (listener) => debug.subscribe(listener),
  };
}
