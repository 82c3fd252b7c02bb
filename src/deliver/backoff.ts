// What to do after each delivery attempt of a batch. Pure: no timers, no I/O, so the transport owns the
// waiting and the outbox owns the keeping.

/** The decision for one answered or failed attempt. */
export type Verdict =
  | { kind: 'done' }
  | { kind: 'retry'; delayMs: number; countsAgainstBudget: boolean }
  | { kind: 'split' }
  | { kind: 'drop'; reason: string }
  | { kind: 'remint' };

/** Shortest wait before a retry. */
export const MIN_DELAY_MS = 1_000;
/** Longest wait between retries: the backoff stops growing here and keeps retrying at this cap. */
export const MAX_DELAY_MS = 300_000;
/** Wait after a 429 whose Retry-After is absent or unreadable (60 s when absent). */
export const DEFAULT_RETRY_AFTER_MS = 60_000;
/** Longest Retry-After honoured: setTimeout fires at once for delays over 2^31-1 ms (~24.8 days), so a
 *  hostile or broken header must not turn into a tight loop (HTML spec, timer initialisation steps). */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * Decides what to do with an answered (`status`) or failed (`status` undefined = network error) attempt.
 *
 * - 2xx → done.
 * - Network error, status 0 (an opaque or aborted answer), 5xx, 408 and 425 → retry after
 *   `backoffDelay(attempt)`, counting against the budget. These never drop: delivery promises to lose
 *   nothing, so they keep retrying at the 5-minute cap while the outbox keeps the batch across reloads.
 *   A 503 that names a later `Retry-After` waits at least that long.
 * - 429 → retry after `Retry-After`, not counting against the budget (the server said when, so the
 *   backoff should not grow).
 * - 413 → split the batch in two.
 * - 422 naming `sessionIdentifier` → mint a new identifier and resend (the caller does this once).
 * - Any other 4xx, and 1xx/3xx which fetch should never hand us → drop: sent again unchanged they can
 *   never succeed.
 *
 * @param attempt how many attempts of this batch have counted against the budget before this one
 *   (0 for the first send). The caller increments it only after a verdict with `countsAgainstBudget`.
 * @param errorsField the field names under `errors` in a 422 body.
 */
export function classify(
  status: number | undefined,
  attempt: number,
  retryAfterHeader: string | null,
  errorsField?: string[],
  random: () => number = Math.random,
  now: number = Date.now(),
): Verdict {
  if (status === undefined || status === 0) return backoff(attempt, random);
  if (status >= 200 && status < 300) return { kind: 'done' };
  if (status >= 500) {
    const delayMs = backoffDelay(attempt, random);
    const serverWait = status === 503 ? readRetryAfter(retryAfterHeader, now) : undefined;
    return {
      kind: 'retry',
      delayMs: serverWait === undefined ? delayMs : Math.max(delayMs, serverWait),
      countsAgainstBudget: true,
    };
  }
  switch (status) {
    case 408: // Request Timeout: the request may succeed when sent again
    case 425: // Too Early: the server asks for a retry once the connection is established
      return backoff(attempt, random);
    case 429:
      return {
        kind: 'retry',
        delayMs: parseRetryAfter(retryAfterHeader, now),
        countsAgainstBudget: false,
      };
    case 413:
      return { kind: 'split' };
    case 422:
      if (errorsField?.includes('sessionIdentifier')) return { kind: 'remint' };
      return {
        kind: 'drop',
        reason:
          errorsField && errorsField.length > 0
            ? `rejected: HTTP 422 (invalid ${errorsField.join(', ')})`
            : 'rejected: HTTP 422',
      };
  }
  // The collector's 403 for a page outside the project's allowed origins names `origin` (transport.ts):
  // a setup mistake to say plainly, not a bare status.
  if (status === 403 && errorsField?.includes('origin')) {
    return { kind: 'drop', reason: "origin not allowed: add this page's origin to the project (HTTP 403)" };
  }
  return { kind: 'drop', reason: status < 400 ? `unexpected HTTP ${status}` : `rejected: HTTP ${status}` };
}

/**
 * Milliseconds to wait according to a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110
 * section 10.2.3). 60000 when the header is absent or unreadable; never negative (a date in the past is
 * 0); at most one day.
 */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number {
  return readRetryAfter(header, now) ?? DEFAULT_RETRY_AFTER_MS;
}

/**
 * Full-jitter backoff: a uniform random wait between 1 s and min(5 min, 1 s × 2^attempt) (the bounds
 * can be set: the collector's Flameup relay uses shorter ones in its tests).
 * Full jitter spreads many clients that failed together (a collector restart) over the whole window
 * instead of bringing them back in waves (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  minMs: number = MIN_DELAY_MS,
  maxMs: number = MAX_DELAY_MS,
): number {
  // NaN or a negative count is treated as the first attempt; the exponent is bounded so 2^n stays finite.
  const exponent = attempt > 0 ? Math.min(attempt, 64) : 0;
  const cap = Math.min(maxMs, minMs * 2 ** exponent);
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 1;
  return Math.max(minMs, Math.floor(unit * cap));
}

function backoff(attempt: number, random: () => number): Verdict {
  return { kind: 'retry', delayMs: backoffDelay(attempt, random), countsAgainstBudget: true };
}

/** The header's wait in ms, or undefined when it is absent or unreadable. */
export function readRetryAfter(header: string | null, now: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Math.min(MAX_RETRY_AFTER_MS, Number(value) * 1000);
  // Only something shaped like an HTTP-date goes to Date.parse, which otherwise reads "1.5" or "-3" as
  // calendar dates in V8.
  if (!/[a-z]/i.test(value) || !/\d{1,2}:\d{2}:\d{2}/.test(value)) return undefined;
  // asctime dates carry no zone, and HTTP dates are always GMT; Date.parse would read local time.
  const at = Date.parse(/GMT|UTC|[+-]\d{4}\b/.test(value) ? value : `${value} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}
