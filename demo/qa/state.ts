// What the QA panel knows, folded from the snippet's debug events. Pure: no DOM, so the view can
// re-render from it at any time and a late panel rebuilds the same picture from replayed history.
import type { DebugEvent } from '../debug-event';

export interface BatchRow {
  id: number;
  sentAt: number;
  answeredAt?: number;
  events: number;
  rawBytes: number;
  sentBytes: number;
  compressed: boolean;
  transport: string;
  /** Status of the answer; undefined while in flight, 0 for a network error. */
  status?: number;
  rateLimit?: { limit: number; remaining: number };
  retryAfter?: number;
  error?: string;
  /** How many times this batch id has been sent (retries from the outbox count too). */
  attempts: number;
}

export interface DropRow {
  at: number;
  reason: string;
  count: number;
  detail?: string;
}

export interface PanelState {
  tracking?: boolean;
  recording?: boolean;
  stateReason?: string;
  session?: { identifier: string; tab?: number; minted: boolean; at: number };
  queue: { events: number; bytes: number };
  outbox: { batches: number; bytes: number };
  timer?: number;
  /** Newest first, at most MAX_ROWS. */
  batches: BatchRow[];
  drops: DropRow[];
  totals: { sent: number; ok: number; failed: number; events: number; sentBytes: number; rawBytes: number };
  lastRateLimit?: { limit: number; remaining: number };
}

const MAX_ROWS = 60;

export function emptyState(): PanelState {
  return {
    queue: { events: 0, bytes: 0 },
    outbox: { batches: 0, bytes: 0 },
    batches: [],
    drops: [],
    totals: { sent: 0, ok: 0, failed: 0, events: 0, sentBytes: 0, rawBytes: 0 },
  };
}

/** Applies one debug event to the state in place. Unknown kinds are ignored: newer snippets may add some. */
export function applyDebugEvent(state: PanelState, event: DebugEvent): void {
  switch (event.kind) {
    case 'state':
      state.tracking = event.tracking;
      state.recording = event.recording;
      if (event.reason === undefined) delete state.stateReason;
      else state.stateReason = event.reason;
      return;
    case 'session':
      state.session = { identifier: event.sessionIdentifier, minted: event.minted, at: event.at };
      if (event.tab !== undefined) state.session.tab = event.tab;
      return;
    case 'queue':
      state.queue = { events: event.events, bytes: event.bytes };
      return;
    case 'outbox':
      state.outbox = { batches: event.batches, bytes: event.bytes };
      return;
    case 'timer':
      state.timer = event.seconds;
      return;
    case 'drop':
      state.drops.unshift(
        withOptional({ at: event.at, reason: event.reason, count: event.count }, 'detail', event.detail),
      );
      state.drops.length = Math.min(state.drops.length, MAX_ROWS);
      return;
    case 'batch':
      applyBatch(state, event);
      return;
    default:
      return;
  }
}

function applyBatch(state: PanelState, event: Extract<DebugEvent, { kind: 'batch' }>): void {
  let row = state.batches.find((candidate) => candidate.id === event.id);
  if (event.phase === 'sent') {
    state.totals.sent += 1;
    if (row) {
      // A retry of the same batch: show it in flight again.
      row.attempts += 1;
      row.sentAt = event.at;
      delete row.status;
      delete row.answeredAt;
      delete row.error;
      delete row.retryAfter;
    } else {
      row = {
        id: event.id,
        sentAt: event.at,
        events: event.events,
        rawBytes: event.rawBytes,
        sentBytes: event.sentBytes,
        compressed: event.compressed,
        transport: event.transport,
        attempts: 1,
      };
      state.batches.unshift(row);
      state.batches.length = Math.min(state.batches.length, MAX_ROWS);
    }
    row.sentBytes = event.sentBytes;
    row.compressed = event.compressed;
    row.transport = event.transport;
    return;
  }
  if (!row) {
    // The answer of a batch sent before the history window: still worth a row.
    row = {
      id: event.id,
      sentAt: event.at,
      events: event.events,
      rawBytes: event.rawBytes,
      sentBytes: event.sentBytes,
      compressed: event.compressed,
      transport: event.transport,
      attempts: 1,
    };
    state.batches.unshift(row);
  }
  row.answeredAt = event.at;
  row.status = event.status ?? 0;
  if (event.rateLimit) {
    row.rateLimit = event.rateLimit;
    state.lastRateLimit = event.rateLimit;
  }
  if (event.retryAfter !== undefined) row.retryAfter = event.retryAfter;
  if (event.error !== undefined) row.error = event.error;
  if (row.status >= 200 && row.status < 300) {
    state.totals.ok += 1;
    state.totals.events += event.events;
    state.totals.rawBytes += event.rawBytes;
    state.totals.sentBytes += event.sentBytes;
  } else {
    state.totals.failed += 1;
  }
}

function withOptional<T extends object, K extends string, V>(
  target: T,
  key: K,
  value: V | undefined,
): T & Partial<Record<K, V>> {
  if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  return target;
}

/**
 * A short, stable fingerprint of an identifier. Slicing would not do: every Laravel envelope is base64
 * of `{"iv":…,"tag":""}`, so its first and last characters are the same for every session and tab.
 */
export function shortIdentifier(identifier: string): string {
  // FNV-1a, 32 bits: tiny, and good enough to tell identifiers apart at a glance.
  let hash = 0x811c9dc5;
  for (let i = 0; i < identifier.length; i++) {
    hash ^= identifier.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}
