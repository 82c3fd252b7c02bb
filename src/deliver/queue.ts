// The queue: events waiting to be sent, kept as their JSON text with its UTF-8 byte length, so that
// batch sizes are exact (UTF-8 bytes, not string length), every event is serialized and measured once,
// and bodies are built by joining. Counting is one regex scan for ASCII text (lib/bytes.ts): the
// profile puts it under a tenth of the serialization it follows (bench, "CPU profile").

import { byteLength } from '../lib/bytes';
import type { WireEvent } from '../types';
import type { TrackRequest } from '../wire';

// Kept importable from here for the batcher's callers and tests; the counting lives in lib/bytes.ts.
export { byteLength };

/** One event serialized once. */
export interface Pending {
  json: string;
  bytes: number;
}

/** The byte length of a body made by buildBody from these events, given its `overhead` (its length
 *  with no events): the events' bytes plus the commas between them. */
export function bodyBytes(overhead: number, items: readonly { bytes: number }[]): number {
  let bytes = overhead + Math.max(0, items.length - 1);
  for (const item of items) bytes += item.bytes;
  return bytes;
}

/** Stands in for the identifier of a batch made before any identifier arrived (the page went away
 * first). Such a batch waits in the outbox and gets the next identifier before its first send; it is
 * never sent as it is. */
export const NO_IDENTIFIER = '';

/** The /track body (docs/contract.md, "Store session recording data"), a `TrackRequest`, from events
 *  already serialized. */
export function buildBody(
  sessionIdentifier: TrackRequest['sessionIdentifier'],
  timer: number | null,
  events: string[],
  userAgent: string,
): string {
  return `{"sessionIdentifier":${JSON.stringify(sessionIdentifier)},"timer":${timer},"events":[${events.join(',')}],"userAgent":${JSON.stringify(userAgent)}}`;
}

/**
 * Splits events, in order, into runs whose body stays within maxBytes given the body's fixed
 * `overhead` (its size with no events). An event too big even alone gets a run of its own.
 */
export function splitByBytes<T extends { bytes: number }>(
  items: T[],
  maxBytes: number,
  overhead: number,
): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let size = overhead;
  for (const item of items) {
    const added = item.bytes + (run.length > 0 ? 1 : 0); // the comma between events
    if (run.length > 0 && size + added > maxBytes) {
      runs.push(run);
      run = [];
      size = overhead;
    }
    size += item.bytes + (run.length > 0 ? 1 : 0);
    run.push(item);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

export interface Queue {
  /** Adds an event; true when the pending events reached the limit and should be sent now. */
  add(event: WireEvent): boolean;
  /** Removes and returns everything pending, oldest first. */
  take(): Pending[];
  /** Puts events back at the front (their send could not be started). */
  restore(items: Pending[]): void;
  size(): { events: number; bytes: number };
  clear(): void;
}

/** `limit`: the JSON bytes at which a batch is full, fixed or asked at every event. */
export function createQueue(limit: number | (() => number)): Queue {
  const full = typeof limit === 'number' ? () => limit : limit;
  // Pending events, oldest first, and the sum of their bytes plus separating commas.
  let items: Pending[] = [];
  let bytes = 0;
  const recount = () => {
    bytes = items.reduce((sum, item) => sum + item.bytes, 0) + Math.max(0, items.length - 1);
  };
  return {
    add(event) {
      const json = JSON.stringify(event);
      const item = { json, bytes: byteLength(json) };
      bytes += item.bytes + (items.length > 0 ? 1 : 0);
      items.push(item);
      return bytes >= full();
    },
    take() {
      const out = items;
      items = [];
      bytes = 0;
      return out;
    },
    restore(back) {
      items = back.concat(items);
      recount();
    },
    size: () => ({ events: items.length, bytes }),
    clear() {
      items = [];
      bytes = 0;
    },
  };
}
