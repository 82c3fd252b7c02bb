// Fixed 60-second windows per key (client IP for the public endpoints, token for the read endpoints),
// counted from the key's first request in the window, as Laravel's throttle middleware does.

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds when the window ends. */
  reset: number;
  /** Seconds until the window ends, at least 1. */
  retryAfter: number;
}

export interface RateLimiter {
  hit(key: string): RateDecision;
}

export function createRateLimiter(opts: {
  limit: number;
  windowMs?: number;
  now?: () => number;
}): RateLimiter {
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;
  // key → requests counted in the current window and when that window ends (ms)
  const windows = new Map<string, { count: number; endsAt: number }>();
  let nextSweep = 0;

  return {
    hit(key) {
      const t = now();
      if (t >= nextSweep) {
        // Forget finished windows now and then so the map holds only active clients.
        for (const [k, w] of windows) if (w.endsAt <= t) windows.delete(k);
        nextSweep = t + windowMs;
      }
      let w = windows.get(key);
      if (!w || w.endsAt <= t) {
        w = { count: 0, endsAt: t + windowMs };
        windows.set(key, w);
      }
      w.count += 1;
      const allowed = w.count <= opts.limit;
      return {
        allowed,
        limit: opts.limit,
        remaining: Math.max(0, opts.limit - w.count),
        reset: Math.ceil(w.endsAt / 1000),
        retryAfter: Math.max(1, Math.ceil((w.endsAt - t) / 1000)),
      };
    },
  };
}

/** The headers every rate-limited answer carries; a refusal adds Retry-After and X-RateLimit-Reset. */
export function rateHeaders(d: RateDecision): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'X-RateLimit-Limit': d.limit,
    'X-RateLimit-Remaining': d.remaining,
  };
  if (!d.allowed) {
    headers['Retry-After'] = d.retryAfter;
    headers['X-RateLimit-Reset'] = d.reset;
  }
  return headers;
}
