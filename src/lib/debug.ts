// Debug events for the console and the QA panel. The last 200 are kept and replayed to every new
// listener, so a panel opened late still sees what happened before it.

import type { DropReason } from '../types';

/** Everything the core reports about itself (README, "Debug hooks"). */
export type DebugEvent =
  | { kind: 'state'; at: number; tracking: boolean; recording: boolean; reason?: DropReason }
  | { kind: 'session'; at: number; sessionIdentifier: string; tab?: number; minted: boolean }
  | {
      kind: 'batch';
      at: number;
      id: number;
      phase: 'sent' | 'answered';
      events: number;
      rawBytes: number;
      sentBytes: number;
      compressed: boolean;
      transport: 'fetch' | 'keepalive' | 'beacon';
      status?: number;
      rateLimit?: { limit: number; remaining: number };
      retryAfter?: number;
      error?: string;
    }
  | { kind: 'queue'; at: number; events: number; bytes: number }
  | { kind: 'outbox'; at: number; batches: number; bytes: number }
  | { kind: 'storage'; at: number; from: string; to: string }
  | { kind: 'drop'; at: number; reason: DropReason; count: number; detail?: string }
  | { kind: 'timer'; at: number; seconds: number }
  /** What `init()` did: `started` a tracker, `reused` the page's tracker started with equal options
   * (and returned it), or `replaced` one started with other options (which it stopped). */
  | { kind: 'init'; at: number; action: 'started' | 'reused' | 'replaced' };

/** A debug event before the core stamps its time. */
export type DebugInput = DebugEvent extends infer E ? (E extends DebugEvent ? Omit<E, 'at'> : never) : never;

export type DebugListener = (event: DebugEvent) => void;

export interface Debug {
  emit(event: DebugInput): void;
  /** Replays the kept history to the listener, then calls it with every new event. Returns its removal. */
  subscribe(listener: DebugListener): () => void;
}

/** How many past events a late listener is shown. */
const HISTORY = 200;

export function createDebug(log: boolean, now: () => number = Date.now): Debug {
  // The last HISTORY events, oldest first.
  const history: DebugEvent[] = [];
  // Listeners currently subscribed.
  const listeners = new Set<DebugListener>();
  const call = (listener: DebugListener, event: DebugEvent) => {
    try {
      listener(event);
    } catch (error) {
      // A broken listener must not break the core nor the other listeners.
      if (log) console.warn('[spoor] debug listener failed', error);
    }
  };
  return {
    emit(input) {
      const event = { ...input, at: now() } as DebugEvent;
      history.push(event);
      if (history.length > HISTORY) history.shift();
      if (log) console.debug('[spoor]', event.kind, event);
      for (const listener of listeners) call(listener, event);
    },
    subscribe(listener) {
      for (const event of history.slice()) call(listener, event);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
