import { describe, expect, it } from 'vitest';
import { createRateLimit } from '../../src/deliver/budget';

describe('rate limit windows', () => {
  it('forgets "0 left" once the server window has passed and paces at the full rate again', () => {
    const clock = { now: 0 };
    const limit = createRateLimit(() => clock.now, 3600);
    limit.update(30, 0);
    clock.now = 61_000;
    // Spend the burst (3 at 30 a minute): the next token comes at the full rate, ~2.2 s, not ~44 s.
    for (let i = 0; i < 3; i++) limit.take();
    expect(limit.wait()).toBeLessThan(3_000);
  });

  it('waits no longer than the heard "0 left" stays fresh, then paces at the full rate', () => {
    const clock = { now: 0 };
    const limit = createRateLimit(() => clock.now, 3600);
    limit.update(15, 0);
    // The burst at 15 a minute is one token.
    limit.take();
    // At a twentieth of 14 a minute the next token is ~86 s away; the count describes this window only.
    const first = limit.wait();
    expect(first).toBeLessThanOrEqual(60_000);
    clock.now += first;
    expect(limit.wait()).toBe(0);
  });

  it('paces at the full rate right after a 429 pause ends, the window having reset', () => {
    const clock = { now: 0 };
    const limit = createRateLimit(() => clock.now, 3600);
    limit.update(30, 0);
    limit.pause(20_000);
    expect(limit.wait()).toBeGreaterThanOrEqual(20_000);
    clock.now = 20_000;
    for (let i = 0; i < 3; i++) limit.take();
    expect(limit.wait()).toBeLessThan(3_000);
  });
});
