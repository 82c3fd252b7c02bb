// The tab's request budget: a token bucket that never lets the tab exceed the endpoint's per-minute
// limit (3600 until X-RateLimit-Limit says otherwise), slows down as X-RateLimit-Remaining falls
// (the limit counts every tab and page of this client IP), and holds everything back until a 429's
// Retry-After has passed.

export interface RateLimit {
  /** Milliseconds until the next request may go; 0 when it may go now. */
  wait(): number;
  /** Spends one token: call when a request is sent. */
  take(): void;
  /** Takes in the rate-limit headers of an answer. */
  update(limit: number | undefined, remaining: number | undefined): void;
  /** Sends nothing for ms milliseconds (after a 429). */
  pause(ms: number): void;
  /** Milliseconds left of the pause after a 429. */
  paused(): number;
}

/** Tokens the bucket holds at most: a small burst, so the refill keeps the minute within the limit. */
const BURST = 10;
/** The server's rate-limit window: X-RateLimit-Remaining counts requests of the current minute. */
const WINDOW_MS = 60_000;

export function createRateLimit(now: () => number = Date.now, initialLimit = 3600): RateLimit {
  // The per-minute limit and the share of it the server says is left.
  let limit = initialLimit;
  let remaining = initialLimit;
  // Whole and fractional tokens, as of `at`.
  let tokens = Math.min(BURST, initialLimit);
  let at = now();
  // No request before this time (Retry-After).
  let pausedUntil = 0;
  // When `remaining` was last heard: it describes the server's current window only. Windows last a
  // minute, and a 429's Retry-After ends one, so a `remaining` older than either says nothing: without
  // this, a tab that heard "0 left" would crawl at a twentieth of the rate long after the window reset.
  let heardAt = at;

  const capacity = () => Math.max(1, Math.min(BURST, Math.floor(limit / 10)));
  /** Tokens per ms. The burst plus a minute of refill stays within the limit; below half the
   * remaining budget the rate falls in proportion, down to a twentieth. */
  const rate = () => {
    const base = Math.max(limit - capacity(), 1) / 60000;
    const t = now();
    const stale = t - heardAt >= WINDOW_MS || (pausedUntil > heardAt && t >= pausedUntil);
    const left = stale ? 1 : limit > 0 ? remaining / (limit / 2) : 0;
    return base * Math.min(1, Math.max(0.05, left));
  };
  const refill = () => {
    const t = now();
    tokens = Math.min(capacity(), tokens + (t - at) * rate());
    at = t;
  };

  return {
    wait() {
      refill();
      const t = now();
      const paused = Math.max(0, pausedUntil - t);
      // A slow rate lasts only while `remaining` is fresh: the caller asks again when it goes stale,
      // instead of sleeping a twentieth-rate wait long past the window it described.
      const fresh = heardAt + WINDOW_MS - t;
      let empty = tokens >= 1 ? 0 : Math.ceil((1 - tokens) / rate());
      if (fresh > 0) empty = Math.min(empty, fresh);
      return Math.max(paused, empty);
    },
    take() {
      refill();
      tokens -= 1;
    },
    update(newLimit, newRemaining) {
      refill();
      if (newLimit !== undefined && newLimit > 0) limit = newLimit;
      if (newRemaining !== undefined && newRemaining >= 0) {
        remaining = newRemaining;
        heardAt = now();
      }
      tokens = Math.min(tokens, capacity());
    },
    pause(ms) {
      pausedUntil = Math.max(pausedUntil, now() + ms);
    },
    paused: () => Math.max(0, pausedUntil - now()),
  };
}
