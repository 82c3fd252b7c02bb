// The Flameup mirror's own queue, retries and outbox. Flameup is the published API's model behind an
// in-memory fetch; the mirror's timers, its outbox's lock lease and the model's clock run on Vitest's fake
// clock, so "nothing was sent" is checked after moving the clock past every wait the mirror could have
// scheduled, never after a real sleep.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LEASE_RECHECK_MS } from '../../src/deliver/outbox';
import { createTransport } from '../../src/deliver/transport';
import {
  type Flameup,
  type FlameupOptions,
  REQUEST_TIMEOUT_MS,
  startFlameup,
} from '../../src/flameup/flameup';
import { flameupOutbox, forgetFlameup } from '../../src/flameup/outbox';
import type { DropReason } from '../../src/types';
import { createFlameupApi, fetchOverApi, TRACK_PATH } from '../support/flameup-api';

const KEY = 'fl_test_4b1d9e2c7a6f';
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
/** Longer than any wait the mirror schedules here (a 1 s backoff, a 1 s Retry-After, the 5 s lock
 *  retry): whatever it would still send, it has sent once the clock has moved this far. Shorter than
 *  its request timeout, so a stalled request is still out. */
const QUIET_MS = REQUEST_TIMEOUT_MS - 1_000;

let hosts = 0;
const running: Flameup[] = [];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 + 60_000 });
});

afterEach(() => {
  for (const f of running.splice(0)) f.stop();
  vi.useRealTimers();
});

/** Moves the mirror's clock, running every request and retry due meanwhile. */
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
/** Until the mirror's first request is out: it takes the outbox lock first, a lease re-checked after
 *  LEASE_RECHECK_MS where the page has no Web Locks (happy-dom). */
const firstRequest = () => advance(LEASE_RECHECK_MS);

/** A Flameup model, a fetch that records each request's init, and a fresh URL (a fresh outbox). */
function setup(apiKey = KEY) {
  const api = createFlameupApi({ apiKey: KEY });
  const inits: RequestInit[] = [];
  const overApi = fetchOverApi(api);
  const fetch = ((input: RequestInfo | URL, init: RequestInit = {}) => {
    inits.push(init);
    return overApi(input, init);
  }) as typeof globalThis.fetch;
  const url = `https://t${++hosts}.flameup.test${TRACK_PATH}`;
  const drops: [DropReason, string][] = [];
  const errors: unknown[] = [];
  let externalId: string | undefined;
  const start = (extra: Partial<FlameupOptions> = {}) => {
    const f = startFlameup({
      apiKey,
      url,
      getExternalId: () => externalId,
      report: (error) => errors.push(error),
      onDrop: (reason, detail) => drops.push([reason, detail]),
      fetch,
      // The same namespace for every start() of one setup: a later page finds what an earlier one kept.
      outbox: flameupOutbox(url, 1_000_000, () => {}),
      random: () => 0,
      ...extra,
    });
    running.push(f);
    return f;
  };
  return {
    api,
    inits,
    url,
    drops,
    errors,
    start,
    fetch,
    identify: (id: string | undefined) => {
      externalId = id;
    },
  };
}

describe('Flameup direct mode', () => {
  it('sends the body and Bearer header of the published API, with the time the event happened', async () => {
    const s = setup();
    s.identify('user-1');
    const f = s.start();
    f.mirror('purchase', { total: 12, items: ['mug'] }, T0 + 250);
    await advance(QUIET_MS);
    expect(s.api.accepted).toHaveLength(1);
    const [sent] = s.api.accepted;
    expect(sent?.body).toEqual({
      external_id: 'user-1',
      event: 'purchase',
      parameters: { total: 12, items: ['mug'] },
      timestamp: '2026-01-15T10:00:00.250Z',
    });
    expect(Object.keys(sent?.body ?? {})).toEqual(['external_id', 'event', 'parameters', 'timestamp']);
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.headers['content-type']).toBe('application/json');
    // Never keepalive: those bytes would come out of /track's 64 KiB unload quota.
    expect(s.inits[0]?.keepalive).toBeFalsy();
    expect(s.inits[0]?.credentials).toBe('omit');
    expect(s.drops).toEqual([]);
  });

  it('holds events mirrored before identify and sends them, in order, once an external id exists', async () => {
    const s = setup();
    const f = s.start();
    f.mirror('viewed', { page: 1 }, T0);
    f.mirror('viewed', { page: 2 }, T0 + 1);
    await advance(QUIET_MS);
    expect(s.api.requests).toEqual([]);
    s.identify('user-9');
    f.wake();
    f.mirror('bought', {}, T0 + 2);
    await advance(QUIET_MS);
    expect(s.api.accepted.map((a) => [a.body.external_id, a.body.event, a.body.parameters])).toEqual([
      ['user-9', 'viewed', { page: 1 }],
      ['user-9', 'viewed', { page: 2 }],
      ['user-9', 'bought', {}],
    ]);
  });

  it('never delays /track: with Flameup stalled, /track requests on the same fetch go out at once', async () => {
    const s = setup();
    s.api.fail({ kind: 'stall' });
    s.identify('user-1');
    const trackUrl = 'https://collector.test/api/services/analytics/v1/track';
    const trackTimes: number[] = [];
    // One fetch for both, as window.fetch is in the page.
    const shared = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input) !== trackUrl) return s.fetch(input, init);
      trackTimes.push(Date.now());
      return new Response('{"status":true}', { status: 200 });
    }) as typeof fetch;
    const f = s.start({ fetch: shared });
    for (let i = 0; i < 20; i++) f.mirror('clicked', { i }, T0 + i);
    await firstRequest();
    expect(s.api.requests).toHaveLength(1);

    const transport = createTransport({
      url: trackUrl,
      contentType: 'text/plain',
      compress: false,
      fetch: shared,
    });
    // Each /track request goes out and is answered with the clock standing still: nothing waits for
    // Flameup's stalled request (a wait on any timer would never end here).
    const sentAt = Date.now();
    for (let i = 0; i < 5; i++) {
      const answer = await transport.send(`{"sessionIdentifier":"s","events":[],"n":${i}}`, 40);
      expect(answer.status).toBe(200);
    }
    expect(trackTimes).toEqual([sentAt, sentAt, sentAt, sentAt, sentAt]);
    // The stalled request is the only one out: Flameup's queue waits in order instead of piling up.
    await advance(QUIET_MS);
    expect(s.api.requests).toHaveLength(1);
    expect(s.api.accepted).toEqual([]);
  });

  it('retries after a 503 and waits the Retry-After of a 429, keeping the order', async () => {
    const s = setup();
    s.identify('u');
    s.api.fail({ kind: 'status', status: 503 }, 1);
    const f = s.start();
    f.mirror('first', {}, T0);
    f.mirror('second', {}, T0 + 1);
    await firstRequest();
    expect(s.api.requests).toHaveLength(1);
    s.api.fail({ kind: 'status', status: 429, retryAfter: '1' }, 1);
    await advance(QUIET_MS);
    const at = s.api.requests.map((r) => r.at);
    expect(at).toHaveLength(4);
    // 1 s backoff after the 503 (random = 0 gives the floor), then the 1 s Retry-After.
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect((at[2] ?? 0) - (at[1] ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect(s.api.accepted.map((a) => a.body.event)).toEqual(['first', 'second']);
    expect(s.drops).toEqual([]);
  });

  it('keeps undelivered events in the outbox and sends them from the next page', async () => {
    const s = setup();
    s.identify('u');
    s.api.fail({ kind: 'drop' });
    const page1 = s.start();
    page1.mirror('a', { n: 1 }, T0);
    page1.mirror('b', { n: 2 }, T0 + 1);
    await firstRequest();
    expect(s.api.requests).toHaveLength(1);
    // Let page 1 finish its pass and release the outbox lock, as a page that unloads does.
    await advance(100);
    page1.stop();

    s.api.recover();
    s.start();
    await advance(QUIET_MS);
    expect(s.api.accepted.map((a) => a.body.event)).toEqual(['a', 'b']);
  });

  it('drops an event Flameup refuses with the reason and sends nothing more after a 401', async () => {
    const wrong = setup('not-the-key');
    wrong.identify('u');
    const f = wrong.start();
    for (const name of ['a', 'b', 'c']) f.mirror(name, {}, T0);
    await advance(QUIET_MS);
    expect(wrong.api.requests).toHaveLength(1);
    expect(wrong.drops).toEqual([['rejected', 'flameup: "a" was rejected (HTTP 401)']]);
    expect(String(wrong.errors[0])).toContain('refused the API key');
    expect(String(wrong.errors[0])).not.toContain('not-the-key');
  });

  it('mirrors only the configured event names', async () => {
    const s = setup();
    s.identify('u');
    const f = s.start({ events: ['signup'] });
    f.mirror('viewed', {}, T0);
    f.mirror('signup', { plan: 'pro' }, T0 + 1);
    await advance(QUIET_MS);
    expect(s.api.accepted.map((a) => a.body.event)).toEqual(['signup']);
  });

  it('forgets the events it keeps when consent is withdrawn', async () => {
    const s = setup();
    const page1 = s.start();
    page1.mirror('held', { n: 1 }, T0);
    // Let page 1 finish its pass and release the outbox lock, as a page that unloads does.
    await advance(100);
    page1.stop();
    await forgetFlameup(s.url);

    s.identify('u');
    const page2 = s.start();
    page2.mirror('after', {}, T0 + 1);
    await advance(QUIET_MS);
    expect(s.api.accepted.map((a) => a.body.event)).toEqual(['after']);
  });
});
