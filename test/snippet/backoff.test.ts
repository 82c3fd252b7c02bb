import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classify,
  DEFAULT_RETRY_AFTER_MS,
  MAX_DELAY_MS,
  MAX_RETRY_AFTER_MS,
  MIN_DELAY_MS,
  parseRetryAfter,
} from '../../src/deliver/backoff';

const now = Date.UTC(2025, 5, 1, 12, 0, 0);
const half = () => 0.5;

describe('parseRetryAfter', () => {
  it('reads Retry-After in seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 7 ', now)).toBe(7_000);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads Retry-After as an HTTP date relative to now', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:00:30 GMT', now)).toBe(30_000);
  });

  it('reads the obsolete RFC 850 and asctime date forms as GMT', () => {
    expect(parseRetryAfter('Sunday, 01-Jun-25 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Sun Jun  1 12:00:10 2025', now)).toBe(10_000);
  });

  it('waits 60 s when the header is absent, empty or unreadable', () => {
    expect(parseRetryAfter(null, now)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(DEFAULT_RETRY_AFTER_MS).toBe(60_000);
    expect(parseRetryAfter('', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBe(60_000);
    expect(parseRetryAfter('1.5', now)).toBe(60_000);
    expect(parseRetryAfter('-3', now)).toBe(60_000);
  });

  it('never returns a negative wait for a date in the past', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 11:00:00 GMT', now)).toBe(0);
  });

  it('caps an absurd wait at one day so setTimeout cannot overflow into an immediate retry', () => {
    expect(parseRetryAfter('99999999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('Fri, 01 Jun 2125 12:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('backoffDelay', () => {
  it('never waits less than 1 s, even when the random draw is 0', () => {
    for (let attempt = 0; attempt < 20; attempt++) expect(backoffDelay(attempt, () => 0)).toBe(MIN_DELAY_MS);
  });

  it('waits up to 1 s × 2^attempt with a random draw of 1', () => {
    expect(backoffDelay(0, () => 1)).toBe(1_000);
    expect(backoffDelay(1, () => 1)).toBe(2_000);
    expect(backoffDelay(3, () => 1)).toBe(8_000);
    expect(backoffDelay(8, () => 1)).toBe(256_000);
  });

  it('stops growing at 5 minutes', () => {
    expect(backoffDelay(9, () => 1)).toBe(MAX_DELAY_MS);
    expect(MAX_DELAY_MS).toBe(300_000);
    expect(backoffDelay(1_000, () => 1)).toBe(300_000);
    expect(backoffDelay(Number.POSITIVE_INFINITY, () => 1)).toBe(300_000);
  });

  it('spreads the wait uniformly over the whole window (full jitter)', () => {
    expect(backoffDelay(4, () => 0.25)).toBe(4_000);
    expect(backoffDelay(4, () => 0.75)).toBe(12_000);
    expect(backoffDelay(12, () => 0.5)).toBe(150_000);
  });

  it('treats a negative or NaN attempt as the first', () => {
    expect(backoffDelay(-5, () => 1)).toBe(1_000);
    expect(backoffDelay(Number.NaN, () => 1)).toBe(1_000);
  });

  it('stays within bounds for Math.random', () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(i % 15);
      expect(delay).toBeGreaterThanOrEqual(MIN_DELAY_MS);
      expect(delay).toBeLessThanOrEqual(Math.min(MAX_DELAY_MS, 1_000 * 2 ** (i % 15)));
    }
  });
});

describe('classify', () => {
  it('is done on any 2xx', () => {
    expect(classify(200, 0, null)).toEqual({ kind: 'done' });
    expect(classify(204, 3, null)).toEqual({ kind: 'done' });
  });

  it('retries a network error with backoff that counts against the budget', () => {
    expect(classify(undefined, 2, null, undefined, () => 1, now)).toEqual({
      kind: 'retry',
      delayMs: 4_000,
      countsAgainstBudget: true,
    });
  });

  it('retries a status 0 (opaque or aborted answer) like a network error', () => {
    expect(classify(0, 0, null, undefined, () => 1, now)).toEqual({
      kind: 'retry',
      delayMs: 1_000,
      countsAgainstBudget: true,
    });
  });

  it('retries every 5xx with backoff', () => {
    for (const status of [500, 502, 503, 504, 599]) {
      expect(classify(status, 1, null, undefined, () => 1, now)).toEqual({
        kind: 'retry',
        delayMs: 2_000,
        countsAgainstBudget: true,
      });
    }
  });

  it('never gives up on network errors and 5xx: after any number of attempts it retries at the 5-minute cap', () => {
    for (const status of [undefined, 500, 503]) {
      expect(classify(status, 10_000, null, undefined, () => 1, now)).toEqual({
        kind: 'retry',
        delayMs: MAX_DELAY_MS,
        countsAgainstBudget: true,
      });
    }
  });

  it('waits at least the Retry-After of a 503, but no less than its backoff', () => {
    expect(classify(503, 0, '120', undefined, half, now)).toMatchObject({ delayMs: 120_000 });
    expect(classify(503, 12, '1', undefined, half, now)).toMatchObject({ delayMs: 150_000 });
    expect(classify(500, 0, '120', undefined, () => 1, now)).toMatchObject({ delayMs: 1_000 });
  });

  it('retries 408 and 425 with backoff', () => {
    for (const status of [408, 425]) {
      expect(classify(status, 0, null, undefined, () => 1, now)).toEqual({
        kind: 'retry',
        delayMs: 1_000,
        countsAgainstBudget: true,
      });
    }
  });

  it('waits Retry-After seconds after a 429 without using up the retry budget', () => {
    expect(classify(429, 5, '17', undefined, half, now)).toEqual({
      kind: 'retry',
      delayMs: 17_000,
      countsAgainstBudget: false,
    });
  });

  it('waits until the HTTP date of a 429 Retry-After, and 60 s when it is missing', () => {
    expect(classify(429, 0, 'Sun, 01 Jun 2025 12:00:45 GMT', undefined, half, now)).toMatchObject({
      delayMs: 45_000,
    });
    expect(classify(429, 0, null, undefined, half, now)).toMatchObject({ delayMs: 60_000 });
  });

  it('splits the batch on 413', () => {
    expect(classify(413, 0, null)).toEqual({ kind: 'split' });
  });

  it('asks for a new session identifier on a 422 that names sessionIdentifier', () => {
    expect(classify(422, 0, null, ['sessionIdentifier'])).toEqual({ kind: 'remint' });
    expect(classify(422, 0, null, ['events', 'sessionIdentifier'])).toEqual({ kind: 'remint' });
  });

  it('drops any other 422 with a reason naming the status and the fields', () => {
    expect(classify(422, 0, null, ['events'])).toEqual({
      kind: 'drop',
      reason: 'rejected: HTTP 422 (invalid events)',
    });
    expect(classify(422, 0, null)).toEqual({ kind: 'drop', reason: 'rejected: HTTP 422' });
    expect(classify(422, 0, null, [])).toEqual({ kind: 'drop', reason: 'rejected: HTTP 422' });
  });

  it('drops other 4xx, which can never succeed, with a reason naming the status', () => {
    for (const status of [400, 401, 403, 404, 405, 410, 451]) {
      const verdict = classify(status, 0, null);
      expect(verdict).toEqual({ kind: 'drop', reason: `rejected: HTTP ${status}` });
    }
  });

  it("drops a 403 refusing the page's origin with a reason that says so, not a bare status", () => {
    expect(classify(403, 0, null, ['origin'])).toEqual({
      kind: 'drop',
      reason: "origin not allowed: add this page's origin to the project (HTTP 403)",
    });
  });

  it('drops 1xx and 3xx answers, which fetch should never hand over', () => {
    expect(classify(302, 0, null)).toEqual({ kind: 'drop', reason: 'unexpected HTTP 302' });
    expect(classify(101, 0, null)).toEqual({ kind: 'drop', reason: 'unexpected HTTP 101' });
  });
});
