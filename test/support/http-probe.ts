// Raw HTTP for hostile-input tests: requests with any Host header, bodies sent a byte at a time, a
// source address of the test's choosing (127.0.0.2 is another client IP on Linux loopback), answers
// measured in bytes but kept only in part; and a pinger that proves other visitors are still served
// while a hostile request is in flight.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Sent {
  /** 0 when no answer came (timeout, connection closed or reset). */
  status: number;
  headers: IncomingHttpHeaders;
  /** The answer's first `keepBytes` bytes as text. */
  text: string;
  /** The answer's whole size in bytes (bodies are counted even where they are not kept). */
  bytes: number;
  /** performance.now() when the request started and when its answer ended (or it gave up). */
  startedAt: number;
  endedAt: number;
  error?: string;
}

export interface RequestSpec {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** Sends the body in `pieces`, one every `intervalMs` (the first at once). */
  trickle?: { pieces: Buffer[]; intervalMs: number };
  localAddress?: string;
  /** Gives up (status 0, error "timeout") and destroys the socket after this long. */
  timeoutMs: number;
  /** How much of the answer to keep as text. @default 64 KiB */
  keepBytes?: number;
  /** Called once the whole body has been handed to the socket. */
  onSent?: () => void;
}

export function send(base: string, spec: RequestSpec): Promise<Sent> {
  const startedAt = performance.now();
  const keep = spec.keepBytes ?? 64 * 1024;
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let kept = 0;
    let bytes = 0;
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const timers: NodeJS.Timeout[] = [];
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({
        status,
        headers,
        text,
        bytes,
        startedAt,
        endedAt: performance.now(),
        ...(error ? { error } : {}),
      });
      req.destroy();
    };
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
    const length = spec.trickle ? spec.trickle.pieces.reduce((n, p) => n + p.length, 0) : (body?.length ?? 0);
    const req = httpRequest(base + spec.path, {
      method: spec.method ?? 'POST',
      agent: false,
      ...(spec.localAddress ? { localAddress: spec.localAddress } : {}),
      headers: {
        ...(spec.method === 'GET' || spec.method === 'HEAD' ? {} : { 'Content-Length': length }),
        ...spec.headers,
      },
    });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (kept < keep) {
          const part = chunk.subarray(0, keep - kept);
          chunks.push(part);
          kept += part.length;
        }
      });
      res.on('end', () => finish());
      res.on('error', (e) => finish(e.message));
      res.on('close', () => finish(res.complete ? undefined : 'answer cut short'));
    });
    req.on('error', (e) => finish((e as NodeJS.ErrnoException).code ?? e.message));
    timers.push(setTimeout(() => finish('timeout'), spec.timeoutMs));

    if (spec.trickle) {
      const { pieces, intervalMs } = spec.trickle;
      pieces.forEach((piece, i) => {
        timers.push(
          setTimeout(() => {
            if (settled || req.destroyed) return;
            if (i === pieces.length - 1) req.end(piece, () => spec.onSent?.());
            else req.write(piece);
          }, i * intervalMs),
        );
      });
      if (pieces.length === 0) req.end(() => spec.onSent?.());
    } else {
      req.end(body, () => spec.onSent?.());
    }
  });
}

export interface Ping {
  status: number;
  ms: number;
  startedAt: number;
  endedAt: number;
  error?: string;
}

export interface Overlapped {
  answer: Sent;
  /** Pings started while the hostile request was in flight, in the order they started. */
  pings: Ping[];
}

/**
 * Sends a hostile request and, while it is in flight, well-formed pings: one at once, one as soon as
 * the hostile body has been sent (when the collector starts working on it), then one after another
 * (at most one every `everyMs`) until the hostile answer has come.
 */
export async function whileInFlight(
  hostile: (onSent: () => void) => Promise<Sent>,
  ping: () => Promise<Ping>,
  everyMs = 100,
): Promise<Overlapped> {
  const pings: Promise<Ping>[] = [];
  let inFlight = true;
  const answer = hostile(() => {
    if (inFlight) pings.push(ping());
  }).finally(() => {
    inFlight = false;
  });
  const loop = (async () => {
    while (inFlight) {
      const began = performance.now();
      const p = ping();
      pings.push(p);
      await p;
      const wait = everyMs - (performance.now() - began);
      if (wait > 0 && inFlight) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const result = await answer;
  await loop;
  return { answer: result, pings: await Promise.all(pings) };
}

/** Runs `ping` one after another (at most one every `everyMs`) until `stop()` is called. */
export function pingUntilStopped(ping: () => Promise<Ping>, everyMs = 100): { stop: () => Promise<Ping[]> } {
  const pings: Ping[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const began = performance.now();
      pings.push(await ping());
      const wait = everyMs - (performance.now() - began);
      if (wait > 0 && running) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return pings;
    },
  };
}
