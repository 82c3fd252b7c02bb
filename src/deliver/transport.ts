// Puts one body on the wire and reports what came back; knows nothing about batches or rrweb
// (STYLE.md 3). Never throws: a failure is an answer without a status.

import { COMPRESS_MIN_BYTES, gzip } from './compress';

export interface Answer {
  /** HTTP status; undefined after a network error, or for a beacon, whose fate is unknown. */
  status?: number;
  retryAfter: string | null;
  limit?: number;
  remaining?: number;
  /** Field names under `errors` in a 422 body. */
  errors?: string[];
  transport: 'fetch' | 'keepalive' | 'beacon';
  sentBytes: number;
  compressed: boolean;
  error?: string;
}

export interface Transport {
  /** Sends body (rawBytes long). `hiding`: the page is going away, so start the request synchronously.
   * `started` is called when the request is really on its way: compressing comes first and takes a
   * few tasks, and a page that goes away meanwhile must send the body itself. */
  send(body: string, rawBytes: number, hiding: boolean, started?: () => void): Promise<Answer>;
  /** Keepalive bytes whose answers have not been read yet. */
  keepaliveInFlight(): number;
}

/** All keepalive requests and beacons of a page share one 64 KiB quota (fetch spec, "keepalive");
 * 60 KB leaves room for headers. */
export const KEEPALIVE_BUDGET = 60000;

export interface TransportOptions {
  url: string;
  contentType: 'text/plain' | 'application/json';
  compress: boolean;
  fetch: typeof fetch;
  sendBeacon?: ((url: string, data: BodyInit) => boolean) | undefined;
}

const header = (response: Response, name: string): number | undefined => {
  const value = Number(response.headers.get(name) ?? Number.NaN);
  return Number.isFinite(value) ? value : undefined;
};

export function createTransport(opts: TransportOptions): Transport {
  // Bytes of keepalive requests sent and not yet fully answered.
  let inFlight = 0;

  const post = async (
    payload: string | Uint8Array,
    sentBytes: number,
    compressed: boolean,
    keepalive: boolean,
    started?: () => void,
  ): Promise<Answer> => {
    const base = { transport: keepalive ? 'keepalive' : 'fetch', sentBytes, compressed } as const;
    if (keepalive) inFlight += sentBytes;
    try {
      started?.();
      const response = await opts.fetch(opts.url, {
        method: 'POST',
        // text/plain and no Content-Encoding keep the request CORS-simple: no preflight. The collector
        // recognises gzip by its magic bytes (docs/contract.md, "Store session recording data").
        headers: { 'Content-Type': opts.contentType },
        body: payload as BodyInit,
        keepalive,
        credentials: 'omit',
      });
      // Read to the end: Chromium keeps an unread keepalive answer's share of the quota (docs/contract.md, "Keepalive quota").
      const text = await response.text();
      const answer: Answer = {
        ...base,
        status: response.status,
        retryAfter: response.headers.get('Retry-After'),
      };
      const limit = header(response, 'X-RateLimit-Limit');
      const remaining = header(response, 'X-RateLimit-Remaining');
      if (limit !== undefined) answer.limit = limit;
      if (remaining !== undefined) answer.remaining = remaining;
      // The collector's refusal of this page's origin (docs/contract.md, "Hosts, origins and connections").
      if (response.status === 403 && text.includes('origin is not allowed')) answer.errors = ['origin'];
      if (response.status === 422) {
        try {
          answer.errors = Object.keys((JSON.parse(text) as { errors?: object }).errors ?? {});
        } catch {
          answer.errors = [];
        }
      }
      return answer;
    } catch (error) {
      return { ...base, retryAfter: null, error: String(error) };
    } finally {
      if (keepalive) inFlight -= sentBytes;
    }
  };

  return {
    keepaliveInFlight: () => inFlight,
    async send(body, rawBytes, hiding, started) {
      const fits = inFlight + rawBytes <= KEEPALIVE_BUDGET;
      if (hiding) {
        // No await before the request starts: the page may be gone after this task.
        if (fits) {
          const answer = await post(body, rawBytes, false, true);
          if (answer.status !== undefined || !opts.sendBeacon) return answer;
        }
        try {
          if (opts.sendBeacon?.(opts.url, body)) {
            return { transport: 'beacon', sentBytes: rawBytes, compressed: false, retryAfter: null };
          }
        } catch {
          // Fall through to a plain fetch, which may be cancelled; the outbox keeps a copy.
        }
        return post(body, rawBytes, false, false);
      }
      let payload: string | Uint8Array = body;
      let size = rawBytes;
      if (opts.compress && opts.contentType === 'text/plain' && rawBytes > COMPRESS_MIN_BYTES) {
        const zipped = await gzip(body);
        if (zipped) {
          payload = zipped;
          size = zipped.length;
        }
      }
      return post(payload, size, payload !== body, inFlight + size <= KEEPALIVE_BUDGET, started);
    },
  };
}
