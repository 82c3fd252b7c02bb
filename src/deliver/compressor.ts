// The compressor, loaded lazily (spoor.compress.min.js, or a chunk of the npm build) once the first body
// is worth compressing: gzip in a worker where the page allows one, on the main thread where it does not.
//
// Which worker (docs/contract.md, "Compression"):
// - a same-origin worker file (spoor.worker.min.js beside the snippet) when the snippet is served from
//   the page's own origin: a strict `script-src 'self'` (README, Content-Security-Policy) allows it;
// - a `blob:` worker made from workerMain's source when the snippet comes from another origin (a CDN),
//   whose worker file the browser would refuse: a CSP that allows the snippet's origin must then allow
//   `worker-src blob:` too, or the page sets `worker: false` (a refused worker is logged by the browser);
// - none without a file (the npm build, bundled into an app whose CSP it cannot know): main thread;
// - and the main thread whenever the worker fails (a CSP refusal, a 404, an error, no answer), from
//   then on, for the page's life. A body the failed worker held is compressed again on the main thread.

import type { Compressed, Compressor } from './compress';

/** A worker that has not answered a body after this long is given up: the main thread takes over. */
export const WORKER_TIMEOUT_MS = 10_000;

type Reply = { id: number; bytes?: Uint8Array; rawBytes?: number };

/**
 * The worker's whole program. Self-contained, because the blob: worker is built from its source text:
 * one message per body in, its gzip bytes (transferred, not copied) and UTF-8 length out.
 */
export function workerMain(): void {
  const scope = self as unknown as {
    onmessage: (event: MessageEvent<{ id: number; text: string }>) => void;
    postMessage: (message: unknown, transfer?: Transferable[]) => void;
  };
  const encoder = new TextEncoder();
  scope.onmessage = async ({ data: { id, text } }) => {
    try {
      const raw = encoder.encode(text);
      const stream = new CompressionStream('gzip');
      const writer = stream.writable.getWriter();
      writer.write(raw).catch(() => {});
      writer.close().catch(() => {});
      const bytes = new Uint8Array(await new Response(stream.readable).arrayBuffer());
      scope.postMessage({ id, bytes, rawBytes: raw.length }, [bytes.buffer]);
    } catch {
      scope.postMessage({ id });
    }
  };
}

// Encodes bodies for the main-thread compressor; one for the page's life.
let encoder: TextEncoder | undefined;

/** Gzips on the page's own thread: one stream per body, one write of the whole body and one read of the
 *  whole answer (in Chromium a fifth to a tenth of the cost of `new Blob([text]).stream()`, whose reads
 *  go through the blob registry in small chunks). Null when the browser cannot. */
export async function gzipHere(text: string): Promise<Compressed | null> {
  if (typeof CompressionStream !== 'function') return null;
  try {
    encoder ??= new TextEncoder();
    const raw = encoder.encode(text);
    const stream = new CompressionStream('gzip');
    const writer = stream.writable.getWriter();
    // Their failures surface in the read below; unobserved they would be unhandled rejections.
    writer.write(raw).catch(() => {});
    writer.close().catch(() => {});
    return { bytes: new Uint8Array(await new Response(stream.readable).arrayBuffer()), rawBytes: raw.length };
  } catch {
    return null;
  }
}

export const mainThreadCompressor: Compressor = { gzip: gzipHere };

/** Where a worker comes from: the file when it is same-origin, else a blob: URL of workerMain. */
function spawn(fileUrl: string): Worker {
  if (new URL(fileUrl, location.href).origin === location.origin) return new Worker(fileUrl);
  const url = URL.createObjectURL(new Blob([`(${workerMain})()`], { type: 'text/javascript' }));
  try {
    return new Worker(url);
  } finally {
    // The worker has fetched its script by the time it runs; the URL is no longer needed.
    setTimeout(() => URL.revokeObjectURL(url), WORKER_TIMEOUT_MS);
  }
}

/**
 * The page's compressor. `useWorker` false never tries a worker (the `worker` option; the bench measures
 * both). `onMode` is told which one compresses, and again if the worker is given up.
 */
export function startCompressor(
  fileUrl?: string,
  useWorker = true,
  onMode?: (mode: 'worker' | 'main') => void,
): Compressor {
  if (typeof CompressionStream !== 'function') return mainThreadCompressor;
  let worker: Worker | undefined;
  try {
    if (fileUrl && useWorker && typeof Worker === 'function') worker = spawn(fileUrl);
  } catch {
    // A CSP without blob: workers throws here (Chromium); the main thread compresses.
  }
  // Bodies the worker holds, by message id: settled by its answer, or on the main thread if it fails.
  const waiting = new Map<
    number,
    { text: string; done: (result: Compressed | null) => void; timer: unknown }
  >();
  let nextId = 0;
  const giveUp = () => {
    worker?.terminate();
    worker = undefined;
    onMode?.('main');
    for (const [id, job] of waiting) {
      waiting.delete(id);
      clearTimeout(job.timer as number);
      void gzipHere(job.text).then(job.done);
    }
  };
  if (worker) {
    // A CSP refusal in other browsers, a missing file, an error inside it.
    worker.onerror = giveUp;
    worker.onmessageerror = giveUp;
    worker.onmessage = ({ data }: MessageEvent<Reply>) => {
      const job = waiting.get(data.id);
      if (!job) return;
      waiting.delete(data.id);
      clearTimeout(job.timer as number);
      job.done(
        data.bytes && data.rawBytes !== undefined ? { bytes: data.bytes, rawBytes: data.rawBytes } : null,
      );
    };
  }
  onMode?.(worker ? 'worker' : 'main');
  return {
    gzip(text) {
      if (!worker) return gzipHere(text);
      const id = nextId++;
      return new Promise((done) => {
        waiting.set(id, { text, done, timer: setTimeout(giveUp, WORKER_TIMEOUT_MS) });
        // The string is copied to the worker; its encoding and compression are the worker's.
        worker?.postMessage({ id, text });
      });
    },
  };
}
