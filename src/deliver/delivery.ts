// Delivers batches in order, one request in flight per tab, within the rate budget. What cannot be
// delivered now (network error, 5xx, 429, page hidden before the answer) is kept in the outbox with its
// body unchanged and sent again on the next flush, on `online` and at the next page load; a 413 splits
// the batch, a 422 on the identifier resends it once under a new one, other 4xx drop it with a reason.
// A batch delivered at its first try never touches the outbox: the outbox is for what was not, and for
// everything still unanswered when the page goes away (hide() copies it there before anything else).

import type { Debug } from '../lib/debug';
import { randomId } from '../lib/random';
import type { DropReason, ReportError } from '../types';
import { backoffDelay, classify } from './backoff';
import type { RateLimit } from './budget';
import type { Outbox, OutboxBatch } from './outbox';
import { buildBody, byteLength, NO_IDENTIFIER } from './queue';
import type { Payload, Transport } from './transport';

/** A batch: `body` is fixed at its first attempt, so a retry is byte-identical and the collector
 * recognises it (CONTRACT / interfaces: duplicates are detected by body hash). */
export interface Batch extends OutboxBatch {
  /** Short number for the debug log. */
  seq: number;
  events: number;
  /** Already kept in the outbox. */
  stored?: boolean;
  /** Already resent once under a freshly minted identifier. */
  reminted?: boolean;
  /** What its request in flight carries (JSON or gzip), to send again at page hide. */
  wire?: Payload | undefined;
}

export interface Delivery {
  /** Sends after everything sent before; settles when answered, dropped or kept in the outbox. */
  send(batch: Batch): Promise<void>;
  /** Resends batches kept in the outbox, under its lock (one tab at a time). */
  drain(): Promise<void>;
  /** The network is back (`online`): batches waiting out a backoff go now. A 429's Retry-After still
   * holds: the rate limit keeps that pause. */
  wake(): Promise<void>;
  /** The page is going away: start every request now (keepalive, else beacon), copies in the outbox. */
  hide(batches: Batch[]): void;
  stop(): void;
}

export interface DeliveryOptions {
  transport: Transport;
  outbox: Outbox;
  rate: RateLimit;
  debug: Debug;
  report: ReportError;
  /** Mints a new identifier in place of the rejected one. */
  remint(rejected: string): Promise<string>;
  /** A batch was dropped for good: the recording needs a new full snapshot to replay on. */
  onDropped(): void;
  /** The identifier held now, if any: filled into kept batches made without one (NO_IDENTIFIER). */
  identifier?: () => string | undefined;
  now?: () => number;
  random?: () => number;
  /** How long to wait before asking for the outbox lock again when another tab holds it. */
  lockRetryMs?: number;
}

interface Parsed {
  sessionIdentifier: string;
  timer: number | null;
  events: unknown[];
  userAgent: string;
}

/** A flush tries a batch waiting out its backoff only this long after its last attempt: no more often
 *  than a page sends at the default flushInterval, whatever the page's own flush rate. */
const PROBE_GAP_MS = 5_000;
/** A tab whose own sends succeed looks for batches other tabs left in the shared outbox at most this
 *  often (and at load, `pageshow` and `online`): not once per batch, which cost an IndexedDB
 *  transaction after every request. */
export const SHARED_CHECK_MS = 60_000;

// Counter behind Batch.seq.
let nextSeq = 1;

/** Makes a batch from its body. */
export function makeBatch(body: string, events: number, now: number, bytes = byteLength(body)): Batch {
  return { id: randomId(), body, createdAt: now, bytes, seq: nextSeq++, events };
}

function parse(body: string): Parsed | undefined {
  try {
    const parsed = JSON.parse(body) as Parsed;
    return typeof parsed.sessionIdentifier === 'string' && Array.isArray(parsed.events) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** What the outbox keeps of a batch: the fields it stores, not the page's bookkeeping (seq, stored,
 *  reminted), so that what is read back from it is what was put. */
const outboxCopy = ({ id, body, createdAt, bytes }: OutboxBatch): OutboxBatch => ({
  id,
  body,
  createdAt,
  bytes,
});

/** Made before any identifier arrived: must get one before it is sent. */
const unidentified = (batch: OutboxBatch) =>
  batch.body.startsWith(`{"sessionIdentifier":${JSON.stringify(NO_IDENTIFIER)},`);

function rebuild(parsed: Parsed, events: unknown[], sessionIdentifier: string, createdAt: number): Batch {
  const body = buildBody(
    sessionIdentifier,
    parsed.timer,
    events.map((event) => JSON.stringify(event)),
    parsed.userAgent,
  );
  return makeBatch(body, events.length, createdAt);
}

export function createDelivery(opts: DeliveryOptions): Delivery {
  const now = opts.now ?? Date.now;
  const { transport, outbox, rate, debug } = opts;
  // The tail of the in-order chain of sends and drains.
  let chain: Promise<unknown> = Promise.resolve();
  // Batches on the chain not settled yet: at page hide they go to the outbox.
  const queued = new Set<Batch>();
  // This tab put batches in the outbox that are not delivered yet: later batches queue behind them.
  let backlog = false;
  // Attempts that counted against the backoff, and the earliest next attempt, by batch id.
  const attempts = new Map<string, number>();
  const notBefore = new Map<string, number>();
  // When each batch was last tried, so that flushes probe the collector no more often than PROBE_GAP_MS.
  const lastTried = new Map<string, number>();
  // The pending drain timer.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // When this tab last read the shared outbox.
  let checkedAt = now();

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const enqueue = <T>(task: () => Promise<T>): Promise<void> => {
    const result = chain.then(task).then(
      () => undefined,
      (error) => opts.report(error),
    );
    chain = result;
    return result;
  };
  const showOutbox = async () => {
    const size = await outbox.size();
    debug.emit({ kind: 'outbox', ...size });
  };
  const scheduleDrain = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void drain(), Math.max(0, ms));
  };
  const drop = (batch: Batch, reason: DropReason, detail: string) => {
    debug.emit({ kind: 'drop', reason, count: batch.events, detail });
    opts.report(new Error(`spoor: batch ${batch.seq} dropped (${detail})`));
    opts.onDropped();
  };

  /** Sends one batch (`hiding`: the page is going away) and returns the verdict on its answer. */
  const attempt = async (batch: Batch, hiding: boolean): Promise<ReturnType<typeof classify>> => {
    if (!hiding) {
      for (let wait = rate.wait(); wait > 0 && !stopped; wait = rate.wait()) await sleep(wait);
    }
    rate.take();
    const shown = { id: batch.seq, events: batch.events, rawBytes: batch.bytes };
    // `wire` is set once its request has started: hide() sends that payload again, or the JSON of a
    // batch still being compressed (the collector stores a repeated body once).
    const wire = batch.wire;
    const { status, retryAfter, limit, remaining, errors, error, ...how } = hiding
      ? await transport.sendNow(wire ?? batch.body)
      : await transport.send(batch.body, batch.bytes, (payload) => {
          batch.wire = payload;
        });
    if (!hiding) batch.wire = undefined;
    debug.emit({ kind: 'batch', phase: 'sent', ...shown, ...how });
    rate.update(limit, remaining);
    const tries = attempts.get(batch.id) ?? 0;
    const verdict = classify(status, tries, retryAfter, errors, opts.random, now());
    if (verdict.kind === 'retry') {
      if (status === 429) rate.pause(verdict.delayMs);
      if (verdict.countsAgainstBudget) attempts.set(batch.id, tries + 1);
    }
    debug.emit({
      kind: 'batch',
      phase: 'answered',
      ...shown,
      ...how,
      ...(status === undefined ? {} : { status }),
      ...(limit === undefined || remaining === undefined ? {} : { rateLimit: { limit, remaining } }),
      ...(verdict.kind === 'retry' && status === 429 ? { retryAfter: verdict.delayMs } : {}),
      ...(error === undefined ? {} : { error }),
    });
    return verdict;
  };

  /** Keeps `work` in the outbox, in order, and tries its first batch again after delayMs. */
  const keep = async (work: Batch[], delayMs: number): Promise<false> => {
    const first = work[0];
    if (first) notBefore.set(first.id, now() + delayMs);
    for (const waiting of work) {
      if (!waiting.stored) {
        await outbox.put(outboxCopy(waiting));
        waiting.stored = true;
      }
    }
    backlog = true;
    scheduleDrain(delayMs);
    await showOutbox();
    return false;
  };

  /**
   * Works through batches in order. False when it stopped at one that must wait (kept in the outbox).
   * `probe`: a new batch has just joined the outbox (the next flush), so the first batch is tried now
   * even while its backoff runs (README, "Delivery in short": sent again on the next flush). A busy page thus learns
   * within one flush interval that the collector is back, at the rate it sends anyway; only a 429's
   * Retry-After still holds.
   */
  const process = async (list: Batch[], probe = false): Promise<boolean> => {
    const work = list.slice();
    while (work.length > 0 && !stopped) {
      const batch = work[0] as Batch;
      const due = notBefore.get(batch.id) ?? 0;
      const probing =
        probe &&
        batch === list[0] &&
        rate.paused() === 0 &&
        now() - (lastTried.get(batch.id) ?? 0) >= PROBE_GAP_MS;
      if (due > now() && !probing) {
        scheduleDrain(due - now());
        return false;
      }
      const verdict = await attempt(batch, false);
      lastTried.set(batch.id, now());
      if (verdict.kind === 'retry') return keep(work, verdict.delayMs);
      if (verdict.kind === 'remint' && !batch.reminted && parse(batch.body)) {
        // Minted before the batch leaves the outbox: a mint that fails (network, 429 on /session) keeps
        // the batch for a later attempt instead of losing it with the rest of the run.
        let fresh: string;
        try {
          fresh = await opts.remint((parse(batch.body) as Parsed).sessionIdentifier);
        } catch (error) {
          opts.report(error);
          const tries = attempts.get(batch.id) ?? 0;
          attempts.set(batch.id, tries + 1);
          return keep(work, backoffDelay(tries, opts.random));
        }
        work.shift();
        queued.delete(batch);
        const parsed = parse(batch.body) as Parsed;
        const resent = { ...rebuild(parsed, parsed.events, fresh, batch.createdAt), reminted: true };
        // The resent batch takes the original's place in the outbox before the original leaves it.
        if (batch.stored) {
          await outbox.put(outboxCopy(resent));
          resent.stored = true;
          await outbox.remove(batch.id);
        }
        work.unshift(resent);
        continue;
      }
      work.shift();
      queued.delete(batch);
      if (batch.stored) await outbox.remove(batch.id);
      if (verdict.kind === 'split') {
        const parsed = parse(batch.body);
        if (!parsed || parsed.events.length < 2) {
          drop(batch, 'over-size', 'a single event is over the collector size limit (HTTP 413)');
        } else {
          const half = Math.ceil(parsed.events.length / 2);
          const sid = parsed.sessionIdentifier;
          work.unshift(
            rebuild(parsed, parsed.events.slice(0, half), sid, batch.createdAt),
            rebuild(parsed, parsed.events.slice(half), sid, batch.createdAt),
          );
        }
      } else if (verdict.kind === 'remint') {
        drop(
          batch,
          'rejected',
          'the session identifier was rejected again after minting a new one (HTTP 422)',
        );
      } else if (verdict.kind === 'drop') {
        drop(batch, 'rejected', verdict.reason);
      }
    }
    return work.length === 0;
  };

  const drainNow = async (probe = false) => {
    checkedAt = now();
    const finished = await outbox.withLock(async () => {
      const kept: Batch[] = [];
      // Whether a batch waits for an identifier: it and everything after it stay, in order.
      let waiting = false;
      for (const stored of await outbox.list()) {
        const parsed = parse(stored.body);
        if (!parsed) {
          await outbox.remove(stored.id);
          continue;
        }
        let batch: Batch = { ...stored, seq: nextSeq++, events: parsed.events.length, stored: true };
        if (parsed.sessionIdentifier === NO_IDENTIFIER) {
          const sid = opts.identifier?.();
          if (!sid) {
            waiting = true;
            break;
          }
          // Filled in and stored before the first send, so every retry sends the same bytes.
          const filled = rebuild(parsed, parsed.events, sid, stored.createdAt);
          batch = { ...filled, id: stored.id, stored: true };
          await outbox.put(outboxCopy(batch));
        }
        kept.push(batch);
      }
      const done = (await process(kept, probe)) && !waiting;
      await showOutbox();
      return done;
    });
    if (finished === undefined) scheduleDrain(opts.lockRetryMs ?? 5000);
    // Unfinished (a retry, or a batch waiting for an identifier): later batches queue behind it.
    else backlog = !finished;
  };

  const drain = () => enqueue(() => drainNow());

  return {
    send(batch) {
      queued.add(batch);
      return enqueue(async () => {
        if (backlog || unidentified(batch)) {
          // Behind batches kept in the outbox: join them there so the order holds.
          await outbox.put(outboxCopy(batch));
          batch.stored = true;
          queued.delete(batch);
          await drainNow(true);
        } else if ((await process([batch])) && now() - checkedAt >= SHARED_CHECK_MS) {
          // The outbox is shared: a tab that left during a Retry-After left its batches there, and only a
          // tab that still runs can send them before the next page load, even one whose own sends succeed.
          checkedAt = now();
          if ((await outbox.size()).batches > 0) await drainNow();
        }
        queued.delete(batch);
      });
    },
    drain,
    wake() {
      notBefore.clear();
      return drain();
    },
    hide(batches) {
      const all = [...queued, ...batches];
      queued.clear();
      // Retry-After still holds after the page is gone: the outbox sends these later.
      const paused = rate.paused() > 0 || stopped;
      for (const batch of all) {
        // A copy in the outbox, resent by the next page when the answer never comes; the collector
        // recognises the repeat by its body.
        const copy = outboxCopy(batch);
        // IndexedDB writes started now may never run once the page is gone: a synchronous copy first.
        if (!batch.stored) outbox.keepNow(copy);
        const keeping = batch.stored ? Promise.resolve() : outbox.put(copy);
        batch.stored = true;
        // The batch in flight goes again too, as its request carried it (gzip, usually within the
        // keepalive budget): that request is a plain fetch, which the browser cancels with the page.
        // The collector stores a repeated body once.
        if (paused || unidentified(batch)) continue;
        void attempt(batch, true).then(async (verdict) => {
          if (verdict.kind === 'done') {
            await keeping;
            await outbox.remove(batch.id);
          }
        }, opts.report);
      }
      backlog = true;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
