// Types shared by the snippet's modules. Producers (recorder, visits, goals, vitals, events) get an
// `Enqueue` as an argument and never import the queue: dependencies point one way (STYLE.md 3).

import type { CustomPayloads, SignalPayloads, WireEvent } from './wire';

// An rrweb event as it goes on the wire (docs/contract.md, "Events"): the contract's shape.
export type { WireEvent };

/** rrweb's event type numbers that the snippet itself needs to know. */
export const EventType = {
  FullSnapshot: 2,
  IncrementalSnapshot: 3,
  Meta: 4,
  Custom: 5,
} as const;

/** Tags of the custom events the snippet adds: the contract's (docs/contract.md, "Events"), the
 *  signals, and `dropped`, which the collector keeps in the batch only. */
export type CustomTag = keyof CustomPayloads | keyof SignalPayloads | 'dropped';

/** Hands one event to the batcher. Never throws. */
export type Enqueue = (event: WireEvent) => void;

/** Every feature starts with one call and returns its own stop function (STYLE.md 2). */
export type Stop = () => void;

/** Why something was skipped or dropped; shown by the debug log and the QA panel (STYLE.md 6). */
export type DropReason =
  | 'consent-pending'
  | 'consent-denied'
  | 'sampled-out'
  | 'global-privacy-control'
  | 'do-not-track'
  | 'automation'
  | 'invalid-call'
  | 'implausible-value'
  | 'over-size'
  | 'rejected'
  | 'outbox-full'
  /** The core file could not be loaded (network, or a Content-Security-Policy that blocks it). */
  | 'load-failed';

/** Reports an error without ever throwing into the page. */
export type ReportError = (error: unknown) => void;

/** Builds a custom event (rrweb type 5) with the given tag and payload. */
export function customEvent(tag: CustomTag, payload: unknown, timestamp: number = Date.now()): WireEvent {
  return { type: EventType.Custom, data: { tag, payload }, timestamp };
}
