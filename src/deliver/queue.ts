// The batcher: events waiting to be sent, kept as their JSON text with its UTF-8 byte length, so that
// batch sizes are exact (UTF-8 bytes, not string length), every event is serialized and measured once,
// and bodies are built by joining.

import type { WireEvent } from '../types';

/** One event serialized once. */
export interface Pending {
  json: string;
  bytes: number;
}

// Matches the first UTF-16 unit outside ASCII, where counting has to start.
const NON_ASCII = /[\x80-\uffff]/;

/**
 * The UTF-8 byte length of text, as TextEncoder would encode it, without encoding it: encoding every
 * event and body cost ~200 ms of main thread per benchmark run (issue 8), counting costs a tenth.
 * Rrweb's JSON is mostly ASCII, so a regex scan finds most strings pure and returns their length.
 */
export function byteLength(text: string): number {
  const first = text.search(NON_ASCII);
  if (first < 0) return text.length;
  let bytes = text.length;
  for (let i = first; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two UTF-16 units, four bytes.
      bytes += 2;
      i++;
    } else {
      // Three bytes; a lone surrogate too, which TextEncoder writes as U+FFFD.
      bytes += 2;
    }
  }
  return bytes;
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

/** The /track body (CONTRACT.md section 1) from events already serialized. */
export function buildBody(
  sessionIdentifier: string,
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
  /** Adds an event; true when the pending events reached maxBatchBytes and should be sent now. */
  add(event: WireEvent): boolean;
  /** Removes and returns everything pending, oldest first. */
  take(): Pending[];
  /** Puts events back at the front (their send could not be started). */
  restore(items: Pending[]): void;
  size(): { events: number; bytes: number };
  clear(): void;
}

export function createQueue(maxBatchBytes: number): Queue {
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
      return bytes >= maxBatchBytes;
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
