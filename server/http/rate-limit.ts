// Fixed 60-second windows per key (client IP for the public endpoints, token for the read endpoints),
// counted from the key's first request in the window, as Laravel's throttle middleware does. In one
// process the windows live in memory; with SPOOR_REDIS_URL they live in Redis (rate-limiter-flexible),
// so that every instance behind a load balancer spends the same budget. When Redis does not answer,
// each instance falls back to its own in-memory windows (rate-limiter-flexible's insurance limiter):
// a client then gets at most the budget per instance instead of per cluster, and no request fails
// because Redis is down (README, "Running on PostgreSQL and Redis").
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

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
  hit(key: string): Promise<RateDecision>;
}

/** In this process only; the clock is the caller's (tests move it to end windows). */
export function createRateLimiter(opts: {
  limit: number;
  windowMs?: number;
  now?: () => number;
}): RateLimiter {
  const memory = createMemoryWindows(opts);
  return { hit: (key) => Promise.resolve(memory.hit(key)) };
}

/**
 * Shared by every instance on one Redis. `name` separates the budgets (track, read, sign-in …) and
 * `prefix` the deployments (or test runs) sharing a Redis.
 */
export function createSharedRateLimiter(opts: {
  redis: Redis;
  prefix: string;
  name: string;
  limit: number;
  windowMs?: number;
}): RateLimiter {
  const duration = Math.max(1, Math.round((opts.windowMs ?? 60_000) / 1000));
  const common = { points: opts.limit, duration, keyPrefix: `${opts.prefix}:${opts.name}` };
  const limiter = new RateLimiterRedis({
    ...common,
    storeClient: opts.redis,
    // Not connected: answer from the insurance limiter at once instead of queueing the command.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(common),
  });
  const decision = (res: RateLimiterRes, allowed: boolean): RateDecision => {
    const now = Date.now();
    return {
      allowed,
      limit: opts.limit,
      remaining: Math.max(0, opts.limit - res.consumedPoints),
      reset: Math.ceil((now + res.msBeforeNext) / 1000),
      retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    };
  };
  return {
    async hit(key) {
      try {
        return decision(await limiter.consume(key), true);
      } catch (error) {
        if (error instanceof RateLimiterRes) return decision(error, false);
        // Neither Redis nor the insurance limiter answered (cannot happen with a memory insurance,
        // but a limiter must never turn a request into a 500): let it through.
        return { allowed: true, limit: opts.limit, remaining: opts.limit, reset: 0, retryAfter: 1 };
      }
    },
  };
}

function createMemoryWindows(opts: { limit: number; windowMs?: number; now?: () => number }): {
  hit(key: string): RateDecision;
} {
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

/**
 * A Redis client for the shared limits: it reconnects on its own, and while it is not connected a
 * command fails at once (no offline queue) so that a request never waits for Redis.
 */
export function connectRedis(url: string, onError: (error: unknown) => void): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 500,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // Logged once per outage by the caller; without a listener ioredis would print every attempt.
  redis.on('error', onError);
  return redis;
}

/** Whether Redis answers a PING within half a second (GET /readyz). */
export async function redisAnswers(redis: Redis): Promise<boolean> {
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}
