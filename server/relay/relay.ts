// Relays the named events of identified visitors to Flameup (docs/contract.md, "Flameup") with the API key
// held on the server only. `ingest` runs inside the /track request and only writes rows; a worker
// sends them off the request path, in order per session, and keeps each row until Flameup answers:
// network errors, 5xx and 429 are retried with backoff (429 after its Retry-After), other 4xx mark the
// row failed with the reason. Rows live in the collector's database (queue.ts), so a restart loses
// nothing, and each source event has a unique key (batch hash + index), so a repeated /track body adds
// nothing. Any number of instances may run this worker on one PostgreSQL database: each claims the
// events it sends with a lease (queue.ts), so each event goes out from one instance, in order per session.
//
// Exactly once, within what the API allows: a row leaves the queue only when Flameup's 2xx has been
// read. Flameup's track API has no idempotency key, so an event whose request reached Flameup but whose
// answer was lost (timeout, crash between the answer and the commit) is sent again.
import {
  backoffDelay,
  classify as classifyAttempt,
  MAX_DELAY_MS,
  MIN_DELAY_MS,
  readRetryAfter,
} from '../../src/deliver/backoff.js';
import type { CustomRow } from '../ingest/check.js';
import type { Engine, Program } from '../store/sql.js';
import {
  type FlameupSetting,
  type FlameupStore,
  flameupQueue,
  type Head,
  type Incoming,
  POSTGRES_MIGRATIONS,
  SQLITE_MIGRATIONS,
} from './queue.js';

export type { FlameupSetting };

/** Flameup's public track endpoint; SPOOR_FLAMEUP_URL overrides it. */
export const DEFAULT_FLAMEUP_URL = 'https://api.flameup.ai/api/v1/track';

export interface RelayOptions {
  /** The collector's store engine; the relay keeps its own tables there. */
  engine: Engine;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  /** Where failures go (never the key, never to a client). */
  log?: (message: string) => void;
  /** Requests in flight at once, one per session at most. @default 4 */
  concurrency?: number;
  /** A request unanswered after this is a network error and retried. @default 30000 */
  timeoutMs?: number;
  /**
   * How often an idle worker looks for work that another instance queued or left behind (a lease run
   * out). @default 1000
   */
  pollMs?: number;
  /** stop() waits this long for requests in flight before abandoning them to a later retry. @default 5000 */
  stopTimeoutMs?: number;
  /** Backoff floor and cap; tests shorten them. @default 1000 and 300000 */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** An event still failing this long after it arrived is marked failed. @default 7 days */
  giveUpAfterMs?: number;
  /**
   * Resolves once the rows committed so far are durable (the store's `durable`). /track's group commit
   * makes its rows visible a moment before their fsync; the relay sends nothing before that, so a power
   * loss cannot make it send an event whose batch is then lost and delivered again.
   * @default already durable
   */
  durable?: () => Promise<void>;
}

export interface FlameupRelay {
  /** Sets (or with null removes) a project's Flameup key, URL and event names. Queued events are sent
   *  under the setting current when they go out. */
  configure(
    projectId: number,
    setting: { apiKey: string; url?: string; events?: string[] | null } | null,
  ): Promise<void>;
  /** Resolves once the relay's tables are migrated. */
  readonly ready: Promise<void>;
  /**
   * The program that records one stored batch's custom events for forwarding: `event`s of an
   * identified session are queued, those of a session not identified yet are held until its
   * `identify`. Only writes to the database, never waits for Flameup. /track runs it in the batch's
   * savepoint so both commit together, then calls `notify`.
   * @param source unique per stored batch (its body hash): with the index it keys each event.
   */
  ingestProgram(
    projectId: number,
    sessionId: number,
    customEvents: readonly CustomRow[],
    source: string,
  ): Program<void>;
  /** Tells the worker that rows were committed: it looks for work now rather than at its next poll. */
  notify(): void;
  /** `ingestProgram` in a transaction of its own, then `notify`; never throws (a failure is logged). */
  ingest(
    projectId: number,
    sessionId: number,
    customEvents: readonly CustomRow[],
    source: string,
  ): Promise<void>;
  start(): void;
  /** Stops sending; resolves once requests in flight have answered (or were abandoned after
   *  stopTimeoutMs) and their outcome is written, so the database can be closed after it. */
  stop(): Promise<void>;
  /** The queue, for tests and diagnostics. */
  store: FlameupStore;
}

/** What to do after one attempt at Flameup. */
export type Verdict =
  | { kind: 'done' }
  | { kind: 'retry'; delayMs: number; countsAgainstBudget: boolean }
  | { kind: 'fail'; reason: string };

/**
 * The snippet's delivery rules (src/deliver/backoff.ts, pure and shared on purpose) applied to Flameup: 2xx →
 * done; network error, 5xx, 408, 425 → full-jitter backoff (503 at least its Retry-After); 429 → its
 * Retry-After, not counting against the backoff. What the snippet would split, remint or drop (413,
 * 422, 401, other 4xx) fails here: the same event sent again can never succeed.
 */
export function classify(
  status: number | undefined,
  attempt: number,
  retryAfter: string | null,
  opts: { random?: () => number; now?: number; minDelayMs?: number; maxDelayMs?: number } = {},
): Verdict {
  const now = opts.now ?? Date.now();
  const verdict = classifyAttempt(status, attempt, retryAfter, undefined, opts.random, now);
  if (verdict.kind === 'done') return verdict;
  if (verdict.kind !== 'retry') return { kind: 'fail', reason: `rejected: HTTP ${status}` };
  if (!verdict.countsAgainstBudget) return verdict;
  // Same rule, with the relay's own delay bounds (shorter in tests).
  const wait = status === 503 ? (readRetryAfter(retryAfter, now) ?? 0) : 0;
  const delayMs = backoffDelay(attempt, opts.random, opts.minDelayMs, opts.maxDelayMs);
  return { kind: 'retry', delayMs: Math.max(delayMs, wait), countsAgainstBudget: true };
}

export function createFlameupRelay(opts: RelayOptions): FlameupRelay {
  const engine = opts.engine;
  const ready = engine.migrate(
    'flameup',
    engine.dialect.name === 'postgres' ? POSTGRES_MIGRATIONS : SQLITE_MIGRATIONS,
  );
  const store = flameupQueue(engine);
  const now = opts.now ?? Date.now;
  const fetchFn = opts.fetch ?? fetch;
  const log = opts.log ?? ((message: string) => console.error(message));
  const concurrency = opts.concurrency ?? 4;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  // A lease outlives the request it covers (its timeout) by a margin for clock skew between
  // instances: only an instance that died leaves one to run out.
  const leaseMs = timeoutMs + 10_000;
  const pollMs = opts.pollMs ?? 1_000;
  const retryOpts = {
    random: opts.random ?? Math.random,
    minDelayMs: opts.minDelayMs ?? MIN_DELAY_MS,
    maxDelayMs: opts.maxDelayMs ?? MAX_DELAY_MS,
  };
  const giveUpAfterMs = opts.giveUpAfterMs ?? 7 * 86_400_000;

  // Requests in flight, by session: one per session keeps each session's events in order.
  const inFlight = new Map<number, Promise<void>>();
  // Until when a project is throttled by Flameup's 429 (ms), so its other sessions wait too.
  const throttled = new Map<number, number>();
  // Aborts requests in flight when stop() gives up waiting for them.
  let abort = new AbortController();
  let running = false;
  // The wake-up for the next pass.
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A pass is already queued for the next turn of the event loop, or running.
  let kicked = false;
  let passing: Promise<void> | null = null;
  let again = false;
  // After an unexpected error (the database refusing a write), the worker pauses with a growing backoff
  // rather than resend an event whose outcome it could not record.
  let pausedUntil = 0;
  let errors = 0;

  const durable = opts.durable ?? (() => Promise.resolve());
  const kick = () => {
    if (!running) return;
    if (passing) {
      again = true;
      return;
    }
    if (kicked) return;
    kicked = true;
    setImmediate(() => {
      // A failed fsync is the store's to report; the rows are what they are by the next pass.
      void durable()
        .catch(() => undefined)
        .then(() => {
          kicked = false;
          passing = pass().finally(() => {
            passing = null;
            if (again) {
              again = false;
              kick();
            }
          });
        });
    });
  };

  const pass = async (): Promise<void> => {
    if (!running) return;
    clearTimeout(timer);
    timer = undefined;
    const t = now();
    let wake = t + pollMs;
    if (pausedUntil > t) {
      wake = pausedUntil;
    } else {
      try {
        await ready;
        const free = concurrency - inFlight.size;
        if (free > 0) {
          const heads = await store.claim(free, t, t + leaseMs, [...inFlight.keys()]);
          for (const head of heads) {
            const until = throttled.get(head.projectId) ?? 0;
            if (until > t) {
              await store.release(head.id, until);
              continue;
            }
            send(head);
          }
        }
        const due = await store.nextDue();
        // Rows another instance is claiming right now look due: look again shortly, not in a spin.
        if (due !== null) wake = Math.min(wake, Math.max(due, t + 25));
      } catch (error) {
        trouble(`reading the queue failed: ${String(error)}`);
        wake = pausedUntil;
      }
    }
    // With every slot busy, the next pass comes when one frees up.
    if (running && inFlight.size < concurrency) {
      clearTimeout(timer);
      timer = setTimeout(kick, Math.max(0, wake - now()));
      timer.unref?.();
    }
  };

  const send = (head: Head) => {
    const sending = forward(head)
      .then(
        () => {
          errors = 0;
        },
        (error) => trouble(`event ${head.id}: ${String(error)}`),
      )
      .finally(() => {
        inFlight.delete(head.sessionId);
        kick();
      });
    inFlight.set(head.sessionId, sending);
  };

  const trouble = (message: string) => {
    log(`flameup: ${message}`);
    pausedUntil =
      now() + backoffDelay(errors++, retryOpts.random, retryOpts.minDelayMs, retryOpts.maxDelayMs);
  };

  const forward = async (head: Head): Promise<void> => {
    const body = JSON.stringify({
      external_id: head.externalId,
      event: head.event,
      parameters: JSON.parse(head.parameters) as unknown,
      timestamp: new Date(head.ts).toISOString(),
    });
    let status: number | undefined;
    let retryAfter: string | null = null;
    let text = '';
    let error: string | undefined;
    try {
      const response = await fetchFn(head.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          Authorization: `Bearer ${head.apiKey}`,
        },
        body,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
      });
      status = response.status;
      retryAfter = response.headers.get('Retry-After');
      text = await response.text();
    } catch (caught) {
      status = undefined;
      error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
    }
    const t = now();
    const verdict = classify(status, head.attempts, retryAfter, { ...retryOpts, now: t });
    if (verdict.kind === 'done') {
      // Acknowledged: the row is deleted (docs/contract.md, "Retention and erasure").
      await store.markSent(head.id);
      return;
    }
    const what = status === undefined ? `network error (${error ?? 'unknown'})` : `HTTP ${status}`;
    if (verdict.kind === 'fail') {
      const reason = `${verdict.reason}${detailOf(text)}`;
      await store.markFailed(head.id, reason, t);
      log(`flameup: event ${head.id} of session ${head.sessionId} failed: ${reason}`);
      if (status === 401 || status === 403) {
        // The key itself is refused: every other event would meet the same answer, so none is sent
        // under this key until configure() gives the project another one.
        await store.refuseKey(head.projectId, head.apiKey);
        log(
          `flameup: project ${head.projectId}: Flameup refused the API key (HTTP ${status}); holding its events`,
        );
      }
      return;
    }
    if (t - head.createdMs > giveUpAfterMs) {
      await store.markFailed(head.id, `gave up after ${head.attempts + 1} attempts, last: ${what}`, t);
      return;
    }
    if (status === 429) throttled.set(head.projectId, t + verdict.delayMs);
    await store.reschedule(
      head.id,
      head.attempts + (verdict.countsAgainstBudget ? 1 : 0),
      t + verdict.delayMs,
      `retrying: ${what}`,
    );
  };

  const ingestProgram = function* (
    projectId: number,
    sessionId: number,
    customEvents: readonly CustomRow[],
    source: string,
  ): Program<void> {
    yield* store.ingestProgram(
      projectId,
      sessionId,
      (names) => toIncoming(customEvents, source, names),
      now(),
    );
  };

  return {
    store,
    ready,
    async configure(projectId, setting) {
      await ready;
      await store.configure(
        projectId,
        setting
          ? {
              apiKey: setting.apiKey,
              url: setting.url ?? DEFAULT_FLAMEUP_URL,
              events: setting.events ?? null,
            }
          : null,
        now(),
      );
      kick();
    },
    ingestProgram,
    notify: kick,
    async ingest(projectId, sessionId, customEvents, source) {
      try {
        await ready;
        await engine.transact(() => ingestProgram(projectId, sessionId, customEvents, source));
        kick();
      } catch (error) {
        // The batch is stored either way: forwarding must never make /track fail and be retried forever.
        log(`flameup: ingesting a batch of session ${sessionId} failed: ${String(error)}`);
      }
    },
    start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      kick();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      await passing?.catch(() => undefined);
      const settled = Promise.allSettled([...inFlight.values()]);
      let giveUp: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => {
        giveUp = setTimeout(() => {
          abort.abort();
          resolve();
        }, opts.stopTimeoutMs ?? 5_000);
      });
      await Promise.race([settled, late]);
      clearTimeout(giveUp);
      // Abandoned requests settle at once after the abort; their rows are rescheduled before we return.
      await settled;
    },
  };
}

/** Keeps the `event` and `identify` events worth recording, in batch order. */
function toIncoming(rows: readonly CustomRow[], source: string, names: string[] | null): Incoming[] {
  const items: Incoming[] = [];
  // A row's position in its batch, with the body's hash, keys it: a retried body queues nothing twice.
  rows.forEach((row, index) => {
    if (row.tag === 'identify') {
      items.push({ kind: 'identify', externalId: row.externalId, ts: row.ts });
      return;
    }
    if (row.tag !== 'event' || (names !== null && !names.includes(row.name))) return;
    const key = `${source}:${index}`;
    if (row.invalid !== null || row.parameters === null) {
      items.push({
        kind: 'invalid',
        source: key,
        event: row.name,
        ts: row.ts,
        reason: row.invalid ?? 'no parameters',
      });
    } else {
      items.push({ kind: 'event', source: key, event: row.name, parameters: row.parameters, ts: row.ts });
    }
  });
  return items;
}

/** A short excerpt of Flameup's error answer for the failure reason. */
function detailOf(text: string): string {
  const trimmed = text.trim();
  return trimmed === '' ? '' : ` (${trimmed.slice(0, 200)})`;
}
