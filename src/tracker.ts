// The core, loaded once the bootstrap (bootstrap.ts) has decided that this page is tracked: the
// session, the observers and the recorder feed the queue; batches leave through the delivery in order.
// Every call from the page or the browser passes the one error boundary, so nothing throws into the page.

import type { Config } from './config';
import { backoffDelay } from './deliver/backoff';
import { createRateLimit } from './deliver/budget';
import { type Batch, createDelivery, type Delivery, makeBatch } from './deliver/delivery';
import { createOutbox } from './deliver/outbox';
import {
  bodyBytes,
  buildBody,
  byteLength,
  createQueue,
  NO_IDENTIFIER,
  type Pending,
  splitByBytes,
} from './deliver/queue';
import { createTransport, KEEPALIVE_BUDGET } from './deliver/transport';
import type { Context } from './entry/bootstrap';
import type { Flameup, FlameupOptions } from './flameup/flameup';
import { FLAMEUP_URL, flameupOutbox, forgetFlameup } from './flameup/outbox';
import type { DebugEvent } from './lib/debug';
import { startGoals } from './observe/goals';
import { identifyEvent, trackEvent } from './observe/named-events';
import type { Recorder, StartRecorder } from './observe/recorder';
import { startTimer, type Timer } from './observe/timer';
import { startVisits, type VisitPayload } from './observe/visits';
import { sampleSession } from './state/privacy';
import { createSession, type Session } from './state/session';
import {
  customEvent,
  type DropReason,
  type Enqueue,
  type ReportError,
  type Stop,
  type WireEvent,
} from './types';

export type StartVitals = (opts: {
  enqueue: Enqueue;
  report: ReportError;
  onDrop: (reason: DropReason, detail: string) => void;
}) => Stop;

/** startFlameup in flameup.ts, loaded only with the `flameup` option. */
export type StartFlameup = (opts: FlameupOptions) => Flameup;

/** How the lazily loaded parts arrive: dynamic import() for npm, a second script file for the script tag. */
export interface Loaders {
  recorder: () => Promise<StartRecorder>;
  vitals: () => Promise<StartVitals>;
  flameup: () => Promise<StartFlameup>;
}

/** An idle page sends the timer's progress alone at most this often (ms); it rides on batches with
 * events, on visits and on page hide otherwise, so an idle tab stays silent. */
const TIMER_ONLY_EVERY = 60_000;

/** Bytes of events kept for Flameup while undelivered; the oldest are dropped beyond it. */
const FLAMEUP_OUTBOX_BYTES = 1_000_000;

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
  // When a segment was last cut, for TIMER_ONLY_EVERY.
  let lastCut = 0;
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

  /**
   * Moves pending events into a held segment: a batch never spans two visits nor two identifiers.
   * `full`: the queue reached maxBatchBytes; the events past what fits in one body stay queued for the
   * next batch. Sent at once, they made a second, tiny request after every batch sent for its size
   * (the event that crossed the limit, alone; issue 8).
   * `tick`: called by the flush interval, which cuts the timer's progress alone only once a minute.
   */
  const cut = (full = false, tick = false) => {
    if (!running) return;
    let items = queue.take();
    const timer = running.timer.seconds();
    if (full) {
      const overhead = byteLength(buildBody(running.session.current() ?? '', timer, [], userAgent));
      const runs = splitByBytes(items, config.maxBatchBytes, overhead);
      const rest = runs.length > 1 ? runs[runs.length - 1] : undefined;
      // An event too big for any batch alone leaves now, on its own.
      if (rest && bodyBytes(overhead, rest) < config.maxBatchBytes) {
        queue.restore(rest);
        items = items.slice(0, items.length - rest.length);
      }
    }
    if (items.length === 0 && (timer === lastTimer || (tick && now() - lastCut < TIMER_ONLY_EVERY))) return;
    lastTimer = timer;
    lastCut = now();
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
        const body = buildBody(
          sid,
          timer,
          run.map((item) => item.json),
          userAgent,
        );
        // Counted from the events' sizes, measured once when queued: never the whole body again.
        out.push(makeBatch(body, run.length, now(), bodyBytes(overhead, run)));
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

  /** `full` and `tick`: see cut. */
  const flush = async (full = false, tick = false): Promise<void> => {
    cut(full, tick);
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
    if (queue.add(event)) void flush(true);
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
    const current: Running = { session, delivery, timer, stops };
    running = current;
    reason = undefined;
    lastTimer = 0;
    lastCut = now();

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
      running?.flameup?.wake();
    });
    const interval = setInterval(
      boundary.guard(() => flush(false, true)),
      config.flushInterval,
    );
    stops.push(() => clearInterval(interval));
    stops.push(() => clearTimeout(mintRetry));

    goals = startGoals({ goals: config.goals, enqueue, report, onClickConversion: () => void flush() });
    stops.push(goals.stop);
    stops.push(startVisits({ hashRoutes: config.hashRoutes, onVisit: boundary.guard(visit), report }));

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
    const { flameup } = config;
    if (flameup) {
      if (typeof flameup.apiKey !== 'string' || flameup.apiKey === '') {
        report(new Error('spoor: the flameup option needs an apiKey; nothing is mirrored'));
      } else {
        // Named events tracked while spoor.flameup.min.js loads; mirrored once it has.
        const early: Parameters<Flameup['mirror']>[] = [];
        current.flameup = { mirror: (...event) => void early.push(event), wake() {}, stop() {} };
        const url = flameup.url || FLAMEUP_URL;
        const onDrop = (why: DropReason, detail: string) => dropped(why, 1, detail);
        loaders.flameup().then(
          (startFlameup) => {
            if (running !== current) return;
            // A queue and an outbox namespace of its own, never keepalive: a slow Flameup never holds
            // up /track.
            const mirror = startFlameup({
              apiKey: flameup.apiKey,
              url,
              events: flameup.events,
              // Kept with the session by identify(), so a reload or another tab of the session mirrors.
              getExternalId: () => (running === current ? session.shared().externalId : undefined),
              report,
              onDrop,
              fetch: env.fetch,
              outbox: flameupOutbox(url, FLAMEUP_OUTBOX_BYTES, (count) =>
                onDrop('outbox-full', `flameup: ${count} undelivered events dropped`),
              ),
              now,
              random: env.random,
            });
            current.flameup = mirror;
            stops.push(mirror.stop);
            for (const event of early.splice(0)) mirror.mirror(...event);
          },
          (error) => {
            report(error);
            if (running === current) current.flameup = undefined;
            if (early.length > 0) dropped('load-failed', early.length, 'flameup: the mirror did not load');
          },
        );
      }
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
    flush: () => flush().catch(report),
    stop: boundary.guard(() => {
      // What is pending goes out before the parts stop; without an identifier yet, it waits in the
      // outbox for the next page's.
      cut();
      const current = running;
      const last = current
        ? Promise.all(batches(config.maxBatchBytes, true).map((b) => current.delivery.send(b)))
        : undefined;
      // A tracker started later in this page (init() with other options) goes on with this identifier.
      current?.session.release();
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
      if (config.flameup) void forgetFlameup(config.flameup.url || FLAMEUP_URL);
    }),
    onDebug: (listener) => debug.subscribe(listener),
  };
}
