import { describe, expect, it } from 'vitest';
import { mainThreadCompressor } from '../../src/deliver/compressor';
import { createTransport, FIRST_RATIO, KEEPALIVE_BUDGET } from '../../src/deliver/transport';
import { fakeFetch } from './fake-network';

/** The main-thread compressor: happy-dom runs no workers. */
const compressor = async () => mainThreadCompressor;
const url = 'https://c.example/api/services/analytics/v1/track';
const bodyOf = (bytes: number) =>
  JSON.stringify({ sessionIdentifier: 's', events: [{ pad: 'x'.repeat(bytes - 47) }] });

describe('transport', () => {
  it('gzips a body over 1 KB into bytes that decompress to the same JSON, sent as text/plain', async () => {
    const net = fakeFetch();
    const transport = createTransport({
      url,
      contentType: 'text/plain',
      compress: true,
      fetch: net.fetch,
      compressor,
    });
    const body = JSON.stringify({
      sessionIdentifier: 'sid',
      timer: 1.5,
      events: Array.from({ length: 50 }, (_, i) => ({ type: 3, data: { i, text: 'é😀' }, timestamp: i })),
    });
    const answer = await transport.send(body, new TextEncoder().encode(body).length);
    expect(answer).toMatchObject({ status: 200, compressed: true });
    const sent = net.requests[0];
    expect(sent?.gzipped).toBe(true);
    expect(sent?.text).toBe(body);
    expect(new Headers(sent?.init.headers).get('Content-Type')).toBe('text/plain');
    expect(new Headers(sent?.init.headers).get('Content-Encoding')).toBeNull();
    expect(answer.sentBytes).toBeLessThan(body.length);
  });

  it('sends small bodies and application/json bodies uncompressed', async () => {
    const net = fakeFetch();
    const small = createTransport({
      url,
      contentType: 'text/plain',
      compress: true,
      fetch: net.fetch,
      compressor,
    });
    await small.send('{"a":1}', 7);
    const json = createTransport({
      url,
      contentType: 'application/json',
      compress: true,
      fetch: net.fetch,
      compressor,
    });
    const big = bodyOf(5000);
    await json.send(big, 5000);
    expect(net.requests.map((r) => r.gzipped)).toEqual([false, false]);
    expect(net.requests[1]?.init.body).toBe(big);
    expect(new Headers(net.requests[1]?.init.headers).get('Content-Type')).toBe('application/json');
  });

  it('reads every answer body to the end and passes on the rate-limit headers', async () => {
    const net = fakeFetch(() => ({
      status: 200,
      headers: { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '7' },
    }));
    const transport = createTransport({ url, contentType: 'text/plain', compress: false, fetch: net.fetch });
    const answer = await transport.send('{}', 2);
    expect(answer).toMatchObject({ limit: 100, remaining: 7 });
    expect(net.bodiesRead()).toBe(1);
  });

  it('names the fields of a 422 so a rejected identifier can be told apart', async () => {
    const net = fakeFetch(() => ({
      status: 422,
      body: '{"message":"x","errors":{"sessionIdentifier":["expired"]}}',
    }));
    const transport = createTransport({ url, contentType: 'text/plain', compress: false, fetch: net.fetch });
    expect((await transport.send('{}', 2)).errors).toEqual(['sessionIdentifier']);
  });

  it('sends ordinary flushes as plain fetch, never keepalive, however small', async () => {
    const net = fakeFetch();
    const transport = createTransport({
      url,
      contentType: 'text/plain',
      compress: true,
      fetch: net.fetch,
      compressor,
    });
    await transport.send('{"a":1}', 7);
    await transport.send(bodyOf(5000), 5000);
    expect(net.requests.map((r) => r.init.keepalive === true)).toEqual([false, false]);
  });

  it('learns the gzip ratio from each compressed body, for the batcher to size the next one', async () => {
    const net = fakeFetch();
    const transport = createTransport({
      url,
      contentType: 'text/plain',
      compress: true,
      fetch: net.fetch,
      compressor,
    });
    expect(transport.ratio()).toBe(FIRST_RATIO);
    // Numbers that gzip to about a third: a ratio the estimate keeps as it is.
    const body = JSON.stringify({ events: Array.from({ length: 5000 }, (_, i) => (i * 7919) % 10007) });
    const answer = await transport.send(body, body.length);
    expect(transport.ratio()).toBeCloseTo(answer.sentBytes / new TextEncoder().encode(body).length, 6);
    const plain = createTransport({
      url,
      contentType: 'application/json',
      compress: true,
      fetch: net.fetch,
      compressor,
    });
    expect(plain.ratio()).toBe(1);
  });

  it('at page hide uses keepalive only while the keepalive bytes in flight stay within 60 KB', async () => {
    const releases: (() => void)[] = [];
    const seen: boolean[] = [];
    const fetch = ((_: RequestInfo | URL, init: RequestInit = {}) => {
      seen.push(init.keepalive === true);
      return new Promise<Response>((resolve) => {
        releases.push(() => resolve(new Response('{"status":true}', { status: 200 })));
      });
    }) as typeof globalThis.fetch;
    const transport = createTransport({ url, contentType: 'text/plain', compress: false, fetch });
    const first = transport.sendNow(bodyOf(40_000));
    const second = transport.sendNow(bodyOf(30_000)); // 70 KB would be over: plain fetch
    const third = transport.sendNow(new Uint8Array(15_000)); // 55 KB: fits
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([true, false, true]);
    expect(transport.keepaliveInFlight()).toBe(55_000);
    for (const release of releases) release();
    await Promise.all([first, second, third]);
    expect(transport.keepaliveInFlight()).toBe(0);
    expect(KEEPALIVE_BUDGET).toBe(60_000);
  });

  it('counts a keepalive body in UTF-8 bytes: 30,000 characters of é are 60 KB, over the budget', async () => {
    const seen: boolean[] = [];
    const fetch = (async (_: RequestInfo | URL, init: RequestInit = {}) => {
      seen.push(init.keepalive === true);
      return new Response('{"status":true}', { status: 200 });
    }) as typeof globalThis.fetch;
    const transport = createTransport({ url, contentType: 'text/plain', compress: false, fetch });
    await transport.sendNow(JSON.stringify({ events: ['é'.repeat(29_000)] }));
    await transport.sendNow(JSON.stringify({ events: ['é'.repeat(31_000)] }));
    expect(seen).toEqual([true, false]);
  });

  it('falls back to sendBeacon at page hide when keepalive has no room left', async () => {
    const net = fakeFetch();
    const beacons: string[] = [];
    const transport = createTransport({
      url,
      contentType: 'text/plain',
      compress: true,
      fetch: net.fetch,
      sendBeacon: (_, data) => {
        beacons.push(String(data));
        return true;
      },
    });
    const body = bodyOf(61_000);
    const answer = await transport.sendNow(body);
    expect(answer.transport).toBe('beacon');
    expect(beacons).toEqual([body]);
    expect(net.requests).toHaveLength(0);
  });

  it('reports a network error as an answer without status instead of throwing', async () => {
    const net = fakeFetch(() => 'network-error');
    const transport = createTransport({ url, contentType: 'text/plain', compress: false, fetch: net.fetch });
    const answer = await transport.send('{}', 2);
    expect(answer.status).toBeUndefined();
    expect(answer.error).toMatch(/Failed to fetch/);
  });
});
