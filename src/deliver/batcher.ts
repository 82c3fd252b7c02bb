// The batcher: decides when the events waiting in the queue leave as batches, and cuts them so that a
// batch never spans two visits nor two identifiers. It knows nothing of the page; the tracker tells it
// when an identifier arrives, when a visit ends and when the page goes away.
//
// When events leave (docs/contract.md, "Batches and requests"):
// - at the flush interval, when there are any, unless a full batch left less than an interval ago: one
//   request per interval while the page is busy, plus one per full batch; with no events, the timer's
//   progress alone at most once a minute, and never an unchanged timer, so an idle page is silent (the
//   timer stands still while the page is hidden or unfocused);
// - at once when the queue is full: its size on the wire (gzip, estimated from the JSON's length and
//   the ratio of the last compressed body) reaches maxBatchBytes, or its JSON reaches MAX_RAW_BYTES; the
//   events past what fits in one body stay for the next batch;
// - at a visit boundary or a session renewal, and at page hide and stop with whatever they have;
// - only once an identifier is held, except at page hide and stop: then without one (NO_IDENTIFIER),
//   kept in the outbox for the next page load to fill in.

import { byteLength } from '../lib/bytes';
import type { Debug } from '../lib/debug';
import type { ReportError, Stop, WireEvent } from '../types';
import { type Batch, type Delivery, makeBatch } from './delivery';
import { bodyBytes, buildBody, createQueue, NO_IDENTIFIER, type Pending, splitByBytes } from './queue';
import { KEEPALIVE_BUDGET } from './transport';

/** An idle page sends the timer's progress alone at most this often (ms); it rides on batches with
 * events, on visits and on page hide otherwise, so an idle tab stays silent. */
export const TIMER_ONLY_EVERY = 60_000;

/** A batch's JSON never grows past this, however well it compresses: each gzip call stays a few
 *  milliseconds, and far within the collector's 8 MiB (docs/contract.md, "Limits"). */
export const MAX_RAW_BYTES = 1_000_000;

export interface BatcherOptions {
  /** The session: the identifier held now, if any, and one to wait for. */
  session: { current(): string | undefined; acquire(): Promise<unknown> };
  /** The visit's timer: its active seconds are each batch's `timer` field. */
  timer: { seconds(): number };
  delivery: Pick<Delivery, 'send' | 'hide'>;
  debug: Debug;
  report: ReportError;
  now: () => number;
  userAgent: string;
  /** Bytes on the wire per byte of JSON (the transport's last compressed body); 1 when not given. */
  ratio?: () => number;
}

/** The options that set batch sizes and pace: `maxBatchBytes` (on the wire) and `flushInterval`
 *  (config.ts). */
export interface BatchLimits {
  maxBatchBytes: number;
  flushInterval: number;
}

export interface Batcher {
  /** Queues an event; a full batch leaves at once. */
  add(event: WireEvent): void;
  /** Sends what is pending once an identifier is held; settles when it is delivered, kept or dropped. */
  flush(): Promise<void>;
  /** Sends the batches cut so far if an identifier is held now (call it when one arrives). */
  send(): void;
  /** What is pending leaves now, in a batch of its own (the session is about to change). */
  cut(): void;
  /** A visit ends: what is pending leaves now, and the next visit's timer, counted from zero, is sent
   * even when it happens to equal this one's last. */
  visit(): void;
  /** The page is going away: every batch starts now (keepalive), with or without an identifier. */
  hide(): void;
  /** Sends what is pending, without an identifier if none is held; settles when those sends settle. */
  finish(): Promise<unknown>;
  /** Stops the interval; nothing is sent after. */
  stop: Stop;
}

export function createBatcher(limits: BatchLimits, opts: BatcherOptions): Batcher {
  const { session, timer, delivery, debug, now, userAgent } = opts;
  const ratio = opts.ratio ?? (() => 1);
  /** The JSON bytes at which a batch is full: maxBatchBytes on the wire, at the current ratio. */
  const maxBatchBytes = () =>
    Math.min(MAX_RAW_BYTES, Math.max(1, Math.floor(limits.maxBatchBytes / ratio())));
  // Events not yet cut into a batch.
  const queue = createQueue(maxBatchBytes);
  // Cut segments (one per visit at most) waiting for an identifier to become batches.
  let held: { items: Pending[]; timer: number }[] = [];
  // The timer value last cut for this visit: an unchanged timer with no events is not sent again.
  let lastTimer = 0;
  // When a segment was last cut, for TIMER_ONLY_EVERY.
  let lastCut = now();
  // When a full batch last left: the next interval's flush waits a whole interval after it.
  let fullAt = Number.NEGATIVE_INFINITY;
  // Settles once every batch handed to the delivery so far has settled: a flush() must also wait for
  // the batches another caller (the identifier's arrival, a visit) cut just before it.
  let sent: Promise<unknown> = Promise.resolve();
  // Stopped: nothing is sent any more.
  let stopped = false;

  /**
   * Moves pending events into a held segment.
   * `full`: the queue reached maxBatchBytes; the events past what fits in one body stay queued for the
   * next batch. Sent at once, they made a second, tiny request after every batch sent for its size
   * (the event that crossed the limit, alone).
   * `tick`: called by the flush interval, which cuts the timer's progress alone only once a minute.
   */
  const take = (full?: boolean, tick?: boolean) => {
    // A full batch left less than an interval ago: this interval's events wait for the next one.
    if (tick && now() - fullAt < limits.flushInterval) return;
    let items = queue.take();
    const seconds = timer.seconds();
    if (full) {
      fullAt = now();
      const limit = maxBatchBytes();
      const overhead = byteLength(buildBody(session.current() ?? '', seconds, [], userAgent));
      const runs = splitByBytes(items, limit, overhead);
      const rest = runs.length > 1 ? runs[runs.length - 1] : undefined;
      // An event too big for any batch alone leaves now, on its own.
      if (rest && bodyBytes(overhead, rest) < limit) {
        queue.restore(rest);
        items = items.slice(0, items.length - rest.length);
      }
    }
    if (items.length === 0 && (seconds === lastTimer || (tick && now() - lastCut < TIMER_ONLY_EVERY))) return;
    lastTimer = seconds;
    lastCut = now();
    held.push({ items, timer: seconds });
    debug.emit({ kind: 'timer', seconds });
  };

  /**
   * Turns held segments into batches once an identifier is held; none before, unless `keep` (the page
   * is going away or tracking stops): then they carry NO_IDENTIFIER and wait in the outbox for the
   * next page load to fill in its identifier before their first send.
   */
  const batches = (maxBytes: number, keep?: boolean): Batch[] => {
    const sid = session.current() ?? (keep ? NO_IDENTIFIER : undefined);
    if (sid === undefined || stopped) return [];
    const out: Batch[] = [];
    for (const { items, timer: seconds } of held) {
      const overhead = byteLength(buildBody(sid, seconds, [], userAgent));
      const runs = items.length > 0 ? splitByBytes(items, maxBytes, overhead) : [[]];
      for (const run of runs) {
        const body = buildBody(
          sid,
          seconds,
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

  const send = () => {
    if (!stopped)
      sent = Promise.all([sent, ...batches(maxBatchBytes()).map((batch) => delivery.send(batch))]);
  };

  /** `full` and `tick`: see take. */
  const flush = async (full?: boolean, tick?: boolean): Promise<void> => {
    take(full, tick);
    if (stopped) return;
    try {
      await session.acquire();
    } catch {
      return; // kept, and sent once an identifier arrives
    }
    send();
    await sent;
  };

  const cut = () => {
    take();
    send();
  };

  const interval = setInterval(() => flush(false, true).catch(opts.report), limits.flushInterval);

  return {
    add(event) {
      if (queue.add(event)) void flush(true);
    },
    flush,
    send,
    cut,
    visit() {
      cut();
      lastTimer = 0;
    },
    hide() {
      take();
      delivery.hide(batches(Math.min(maxBatchBytes(), KEEPALIVE_BUDGET), true));
    },
    finish() {
      take();
      return Promise.all(batches(maxBatchBytes(), true).map((batch) => delivery.send(batch)));
    },
    stop() {
      stopped = true;
      clearInterval(interval);
    },
  };
}
