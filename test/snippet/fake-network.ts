// A fake fetch that records every request and answers from a script, for the snippet's unit tests.

export interface Recorded {
  url: string;
  init: RequestInit;
  /** The body as text, gunzipped when it was gzip. */
  text: string;
  gzipped: boolean;
}

export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'network-error';

export async function bodyText(
  body: BodyInit | null | undefined,
): Promise<{ text: string; gzipped: boolean }> {
  if (typeof body === 'string') return { text: body, gzipped: false };
  const bytes = new Uint8Array(body as Uint8Array);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return { text: await new Response(stream).text(), gzipped: true };
  }
  return { text: new TextDecoder().decode(bytes), gzipped: false };
}

export function fakeFetch(
  reply: (url: string, index: number) => Reply = () => ({ status: 200, body: '{"status":true}' }),
) {
  const requests: Recorded[] = [];
  let bodiesRead = 0;
  const fetch: typeof globalThis.fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const { text, gzipped } = await bodyText(init.body);
    requests.push({ url, init, text, gzipped });
    const answer = reply(url, requests.length - 1);
    if (answer === 'network-error') throw new TypeError('Failed to fetch');
    const body = answer.body ?? (answer.status < 300 ? '{"status":true}' : '{"error":true}');
    return {
      status: answer.status,
      ok: answer.status >= 200 && answer.status < 300,
      headers: new Headers({
        'X-RateLimit-Limit': '3600',
        'X-RateLimit-Remaining': '3599',
        ...answer.headers,
      }),
      text: async () => {
        bodiesRead++;
        return body;
      },
    } as Response;
  }) as typeof globalThis.fetch;
  return {
    fetch,
    requests,
    bodiesRead: () => bodiesRead,
    /** Track requests' parsed bodies. */
    tracks: () => requests.filter((r) => r.url.endsWith('/track')).map((r) => JSON.parse(r.text)),
  };
}

/** Lets pending promises and zero-delay work run. */
export const settle = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

import type { Outbox, OutboxBatch } from '../../src/deliver/outbox';

export type FakeOutbox = Outbox & {
  /** What is stored now: written by a landed put or by keepNow. */
  batches: Map<string, OutboxBatch>;
  /** Set to make withLock find the lock held by another tab. */
  locked: boolean;
  /** The page is torn down: operations that have not landed yet never land, as IndexedDB transactions
   *  of a page that went away never complete. */
  unload(): void;
};

/** Turns of the microtask queue an operation waits before it lands: never in the caller's own run, as
 *  IndexedDB completes a transaction only after the code that started it has returned. */
const LANDS_AFTER = 3;

/**
 * An in-memory outbox with the real one's contract: oldest first, a try-lock, operations serialised in
 * the order they were asked for, and writes that land asynchronously, as on IndexedDB. Only `keepNow`
 * stores at once, as the real outbox's synchronous localStorage copy does.
 */
export function fakeOutbox(): FakeOutbox {
  const batches = new Map<string, OutboxBatch>();
  // The tail of the serialised operations, and whether the page is gone.
  let tail: Promise<unknown> = Promise.resolve();
  let gone = false;
  const later = <T>(op: () => T): Promise<T> => {
    const result = tail.then(async () => {
      for (let i = 0; i < LANDS_AFTER; i++) await Promise.resolve();
      if (gone) return new Promise<T>(() => {});
      return op();
    });
    tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
  const box: FakeOutbox = {
    batches,
    locked: false,
    put: (b) =>
      later(() => {
        batches.set(b.id, { ...b });
      }),
    list: () => later(() => [...batches.values()].sort((a, b) => a.createdAt - b.createdAt)),
    remove: (id) =>
      later(() => {
        batches.delete(id);
      }),
    size: () =>
      later(() => {
        let bytes = 0;
        for (const b of batches.values()) bytes += b.bytes;
        return { batches: batches.size, bytes };
      }),
    keepNow(b) {
      if (!gone) batches.set(b.id, { ...b });
    },
    async withLock<T>(fn: () => Promise<T>): Promise<T | undefined> {
      if (box.locked) return undefined;
      box.locked = true;
      try {
        return await fn();
      } finally {
        box.locked = false;
      }
    },
    unload() {
      gone = true;
    },
  };
  return box;
}
