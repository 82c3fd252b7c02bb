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

/** An in-memory outbox with the real one's contract (oldest first, try-lock). */
export function fakeOutbox(): Outbox & { batches: Map<string, OutboxBatch>; locked: boolean } {
  const batches = new Map<string, OutboxBatch>();
  const box = {
    batches,
    locked: false,
    async put(b: OutboxBatch) {
      batches.set(b.id, { ...b });
    },
    async list() {
      return [...batches.values()].sort((a, b) => a.createdAt - b.createdAt);
    },
    async remove(id: string) {
      batches.delete(id);
    },
    async size() {
      let bytes = 0;
      for (const b of batches.values()) bytes += b.bytes;
      return { batches: batches.size, bytes };
    },
    keepNow(b: OutboxBatch) {
      batches.set(b.id, { ...b });
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
  };
  return box;
}
