import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/deliver/transport';
import { type Flameup, type FlameupOptions, startFlameup } from '../../src/flameup/flameup';
import { flameupOutbox, forgetFlameup } from '../../src/flameup/outbox';
import type { DropReason } from '../../src/types';
import { createFlameupApi, fetchOverApi, TRACK_PATH } from '../support/flameup-api';

const KEY = 'fl_test_4b1d9e2c7a6f';
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

let hosts = 0;
const running: Flameup[] = [];

afterEach(() => {
  for (const f of running.splice(0)) f.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

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
    await until(() => s.api.accepted.length === 1);
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
    await sleep(100);
    expect(s.api.requests).toEqual([]);
    s.identify('user-9');
    f.wake();
    f.mirror('bought', {}, T0 + 2);
    await until(() => s.api.accepted.length === 3);
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
      trackTimes.push(performance.now());
      return new Response('{"status":true}', { status: 200 });
    }) as typeof fetch;
    const f = s.start({ fetch: shared });
    const began = performance.now();
    for (let i = 0; i < 20; i++) f.mirror('clicked', { i }, T0 + i);
    expect(performance.now() - began).toBeLessThan(50);
    await until(() => s.api.requests.length === 1);

    const transport = createTransport({
      url: trackUrl,
      contentType: 'text/plain',
      compress: false,
      fetch: shared,
    });
    const sentAt: number[] = [];
    for (let i = 0; i < 5; i++) {
      sentAt.push(performance.now());
      const answer = await transport.send(`{"sessionIdentifier":"s","events":[],"n":${i}}`, 40, false);
      expect(answer.status).toBe(200);
    }
    expect(trackTimes).toHaveLength(5);
    trackTimes.forEach((t, i) => {
      expect(t - (sentAt[i] ?? 0)).toBeLessThan(50);
    });
    // The stalled request is the only one out: Flameup's queue waits in order instead of piling up.
    await sleep(50);
    expect(s.api.requests).toHaveLength(1);
    expect(s.api.accepted).toEqual([]);
  });

  it('retries after a 503 and waits the Retry-After of a 429, keeping the order', {
    timeout: 10_000,
  }, async () => {
    const s = setup();
    s.identify('u');
    s.api.fail({ kind: 'status', status: 503 }, 1);
    const f = s.start();
    f.mirror('first', {}, T0);
    f.mirror('second', {}, T0 + 1);
    await until(() => s.api.requests.length === 1);
    s.api.fail({ kind: 'status', status: 429, retryAfter: '1' }, 1);
    await until(() => s.api.accepted.length === 2, 6000);
    const at = s.api.requests.map((r) => r.at);
    expect(at).toHaveLength(4);
    // 1 s backoff after the 503 (random = 0 gives the floor), then the 1 s Retry-After; 50 ms timer slack.
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(950);
    expect((at[2] ?? 0) - (at[1] ?? 0)).toBeGreaterThanOrEqual(950);
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
    await until(() => s.api.requests.length === 1);
    // Let page 1 finish its pass and release the outbox lock, as a page that unloads does.
    await sleep(200);
    page1.stop();

    s.api.recover();
    s.start();
    await until(() => s.api.accepted.length === 2);
    await sleep(50);
    expect(s.api.accepted.map((a) => a.body.event)).toEqual(['a', 'b']);
  });

  it('drops an event Flameup refuses with the reason and sends nothing more after a 401', async () => {
    const wrong = setup('not-the-key');
    wrong.identify('u');
    const f = wrong.start();
    for (const name of ['a', 'b', 'c']) f.mirror(name, {}, T0);
    await until(() => wrong.drops.length === 1);
    await sleep(100);
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
    await until(() => s.api.accepted.length === 1);
    await sleep(50);
    expect(s.api.accepted.map((a) => a.body.event)).toEqual(['signup']);
  });

  it('forgets the events it keeps when consent is withdrawn', async () => {
    const s = setup();
    const page1 = s.start();
    page1.mirror('held', { n: 1 }, T0);
    // Let page 1 finish its pass and release the outbox lock, as a page that unloads does.
    await sleep(200);
    page1.stop();
    await forgetFlameup(s.url);

    s.identify('u');
    const page2 = s.start();
    page2.mirror('after', {}, T0 + 1);
    await until(() => s.api.accepted.length === 1);
    await sleep(50);
    expect(s.api.accepted.map((a) => a.body.event)).toEqual(['after']);
  });
});
