// One page of get-events, built from stored batches: decompress, parse, merge per tab, order by time,
// serialise. It runs in a worker thread (pool.ts): JSON.parse of a batch of a few megabytes takes tens
// of milliseconds, and every other request would wait that long on the event loop. The main thread
// gets the page's JSON text as bytes and splices it into the answer without parsing it again.
import { gunzipSync } from 'node:zlib';

export interface PageBatch {
  tab: number;
  /** The stored blob: a gzip'd /track body, or (batches stored before migration 2) the events array. */
  blob: Uint8Array;
}

export interface PageTask {
  /** Candidate batches in page order; the page takes them from the first until `budgetBytes`. */
  batches: PageBatch[];
  /** Decompressed bytes after which no further batch joins the page (the first always does). */
  budgetBytes: number;
  /** Refuse to inflate one blob past this (a stored blob is never larger, so this is a safety net). */
  maxBatchBytes: number;
}

export interface PageResult {
  /** How many of the task's batches the page holds (at least 1 when there was any). */
  consumed: number;
  /** Events in the page. */
  events: number;
  /** UTF-8 JSON `[{"tab": n, "events": [...]}, ...]`, tabs ascending, each tab's events by timestamp. */
  json: Uint8Array;
}

type StoredEvent = { timestamp?: unknown };

/** The events of one stored blob, whichever of the two stored forms it has, and its inflated size. */
export function eventsOfBlob(blob: Uint8Array, maxBatchBytes: number): { events: unknown[]; bytes: number } {
  if (blob.byteLength === 0) return { events: [], bytes: 0 };
  // Synchronous on purpose: this runs on a worker's own thread, where blocking is the point, and a
  // page of many small batches would otherwise pay a thread-pool round trip per batch.
  const inflated = gunzipSync(blob, { maxOutputLength: maxBatchBytes });
  const parsed = JSON.parse(inflated.toString('utf8')) as unknown;
  const events = Array.isArray(parsed) ? parsed : (parsed as { events?: unknown } | null)?.events;
  return { events: Array.isArray(events) ? events : [], bytes: inflated.byteLength };
}

function timeOf(event: unknown): number {
  const t = (event as StoredEvent | null)?.timestamp;
  return typeof t === 'number' && Number.isFinite(t) ? t : 0;
}

function inOrder(events: unknown[]): boolean {
  for (let i = 1; i < events.length; i++) if (timeOf(events[i]) < timeOf(events[i - 1])) return false;
  return true;
}

export function buildPage(task: PageTask): PageResult {
  const tabs = new Map<number, unknown[]>();
  let bytes = 0;
  let consumed = 0;
  let count = 0;
  for (const batch of task.batches) {
    if (consumed > 0 && bytes >= task.budgetBytes) break;
    const { events, bytes: inflated } = eventsOfBlob(batch.blob, task.maxBatchBytes);
    bytes += inflated;
    consumed++;
    let list = tabs.get(batch.tab);
    if (!list) {
      list = [];
      tabs.set(batch.tab, list);
    }
    // One push per event: spreading a batch into push() overflows the stack past ~100k events.
    for (const event of events) list.push(event);
    count += events.length;
  }
  const parts: string[] = [];
  for (const tab of [...tabs.keys()].sort((a, b) => a - b)) {
    const events = tabs.get(tab) as unknown[];
    // Array.prototype.sort is stable: events with equal timestamps keep their stored order.
    if (!inOrder(events)) events.sort((a, b) => timeOf(a) - timeOf(b));
    parts.push(`{"tab":${tab},"events":${JSON.stringify(events)}}`);
  }
  // TextEncoder's array owns its whole buffer (no pool), so the worker can hand that buffer over.
  return { consumed, events: count, json: new TextEncoder().encode(`[${parts.join(',')}]`) };
}
