import { describe, expect, it } from 'vitest';
import { createRateLimit } from '../../src/deliver/budget';

/** Sends as fast as the bucket allows for `ms` and returns the send times. */
function sendFlatOut(limit: ReturnType<typeof createRateLimit>, clock: { now: number }, ms: number) {
  const sent: number[] = [];
  const end = clock.now + ms;
  while (clock.now < end) {
    const wait = limit.wait();
    if (wait > 0) {
      clock.now += wait;
      continue;
    }
    limit.take();
    sent.push(clock.now);
  }
  return sent;
}

describe('rate limit', () => {
  it('never sends more than the per-minute budget in any 60 s window', () => {
    const clock = { now: 0 };
    const limit = createRateLimit(() => clock.now, 120);
    const sent = sendFlatOut(limit, clock, 180_000);
    for (let i = 0; i < sent.length; i++) {
      const inWindow = sent.filter((t) => t >= (sent[i] ?? 0) && t < (sent[i] ?? 0) + 60_000).length;
      expect(inWindow).toBeLessThanOrEqual(120);
    }
    // And it does use most of the budget.
    expect(sent.length).toBeGreaterThan(300);
  });

  it('adopts the limit the server states in X-RateLimit-Limit', () => {
    const clock = { now: 0 };
    const limit = createRateLimit(() => clock.now);
    limit.update(60, 60);
    const sent = sendFlatOut(limit, clock, 60_000);
    expect(sent.length).toBeLessThanOrEqual(60);
  });

  it('slows down as X-RateLimit-Remaining falls', () => {
    const clockA = { now: 0 };
    const full = createRateLimit(() => clockA.now, 600);
    full.update(600, 600);
    const clockB = { now: 0 };
    const low = createRateLimit(() => clockB.now, 600);
    low.update(600, 30);
    const fast = sendFlatOut(full, clockA, 60_000).length;
    const slow = sendFlatOut(low, clockB, 60_000).length;
    expect(slow).toBeLessThan(fast / 4);
  });

  it('sends nothing until a pause has passed', () => {
    const clock = { now: 0 };
    const limit = createRateLimit(() => clock.now);
    limit.pause(30_000);
    expect(limit.wait()).toBe(30_000);
    expect(limit.paused()).toBe(30_000);
    clock.now = 29_999;
    expect(limit.wait()).toBe(1);
    clock.now = 30_000;
    expect(limit.wait()).toBe(0);
  });
});
