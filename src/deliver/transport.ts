// Puts one body on the wire and reports what came back; knows nothing about batches or rrweb
// (STYLE.md 3). Never throws: a failure is an answer without a status.
//
// Ordinary sends are plain fetch, gzip when the body is worth it. `keepalive` and `sendBeacon` are for
// the page that is going away only: all keepalive requests and beacons of a page share one 64 KiB quota
// (docs/contract.md, "Keepalive quota"), and a keepalive request costs the browser more to start.

import { byteLength } from '../lib/bytes';
import { COMPRESS_MIN_BYTES, type Compressor } from './compress';

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

/** What goes on the wire: the JSON text, or its gzip bytes. */
export type Payload = string | Uint8Array;

export interface Transport {
  /** Sends body (rawBytes long) with a plain fetch, gzip when it pays. `started` is called with the
   * payload when the request is really on its way: compressing comes first and takes a few tasks, and a
   * page that goes away meanwhile must send the body itself. */
  send(body: string, rawBytes: number, started?: (payload: Payload) => void): Promise<Answer>;
  /** The page is going away: starts the request synchronously, keepalive while the page's quota has
   * room, else a beacon, else a plain fetch (which the browser may cancel with the page). `payload` is
   * the JSON text or gzip bytes already made (a request in flight sent again). A keepalive body is
   * never over KEEPALIVE_BUDGET: JSON is measured to the byte here. */
  sendNow(payload: Payload): Promise<Answer>;
  /** Keepalive bytes whose answers have not been read yet. */
  keepaliveInFlight(): number;
  /** Bytes on the wire per byte of JSON, as the last compressed body came out (1 without compression):
   * what a batch's size on the wire is estimated from before it is compressed. */
  ratio(): number;
}

/** All keepalive requests and beacons of a page share one 64 KiB quota (fetch spec, "keepalive");
 * 60 KB leaves room for headers. */
export const KEEPALIVE_BUDGET = 60000;

/** The ratio assumed before the first body is compressed: rrweb's JSON in batches of a few hundred KB
 *  gzips to about an eighth (bench, "Bytes on the wire"). */
export const FIRST_RATIO = 1 / 8;

export interface TransportOptions {
  url: string;
  contentType: 'text/plain' | 'application/json';
  compress: boolean;
  fetch: typeof fetch;
  sendBeacon?: ((url: string, data: BodyInit) => boolean) | undefined;
  /** Loads the compressor (compressor.ts, a lazily loaded file), once, when the first body is worth
   *  compressing. Without it, or when it fails to load, bodies go uncompressed. */
  compressor?: (() => Promise<Compressor>) | undefined;
}

const header = (response: Response, name: string): number | undefined => {
  const value = Number(response.headers.get(name) ?? Number.NaN);
  return Number.isFinite(value) ? value : undefined;
};

export function createTransport(opts: TransportOptions): Transport {
  // Bytes of keepalive requests sent and not yet fully answered.
  let inFlight = 0;
  const load = opts.compress && opts.contentType === 'text/plain' ? opts.compressor : undefined;
  let compressor: Promise<Compressor | undefined> | undefined;
  let ratio = load && typeof CompressionStream === 'function' ? FIRST_RATIO : 1;

  const post = async (
    payload: Payload,
    sentBytes: number,
    keepalive: boolean,
    started?: (payload: Payload) => void,
  ): Promise<Answer> => {
    const compressed = typeof payload !== 'string';
    const base = { transport: keepalive ? 'keepalive' : 'fetch', sentBytes, compressed } as const;
    if (keepalive) inFlight += sentBytes;
    try {
      started?.(payload);
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
    ratio: () => ratio,
    async sendNow(payload) {
      const bytes = typeof payload === 'string' ? byteLength(payload) : payload.length;
      // No await before the request starts: the page may be gone after this task.
      if (inFlight + bytes <= KEEPALIVE_BUDGET) {
        const answer = await post(payload, bytes, true);
        if (answer.status !== undefined || !opts.sendBeacon) return answer;
      }
      try {
        if (opts.sendBeacon?.(opts.url, payload as BodyInit)) {
          return {
            transport: 'beacon',
            sentBytes: bytes,
            compressed: typeof payload !== 'string',
            retryAfter: null,
          };
        }
      } catch {
        // Fall through to a plain fetch, which may be cancelled; the outbox keeps a copy.
      }
      return post(payload, bytes, false);
    },
    async send(body, rawBytes, started) {
      let payload: Payload = body;
      if (load && rawBytes > COMPRESS_MIN_BYTES) {
        compressor ??= load().catch(() => undefined);
        const zipped = await (await compressor)?.gzip(body);
        // Measured on the exact UTF-8 length the compressor saw, not the estimate.
        ratio = zipped
          ? Math.min(1, Math.max(1 / 50, zipped.bytes.length / Math.max(1, zipped.rawBytes)))
          : 1;
        if (zipped) payload = zipped.bytes;
      }
      return post(payload, typeof payload === 'string' ? rawBytes : payload.length, false, started);
    },
  };
}
