// What Spoor keeps in the browser's storage, named in one place: the shared session record (read by the
// bootstrap for the sampling decision before the core loads), this tab's identifier, and the outbox's
// database and keys, so that denying consent clears all of it without loading the core. Kept apart
// from session.ts and outbox.ts so that the npm entry does not pull those into its first chunk.

import { type KeyValue, readJson } from './storage';

/** The session all tabs share, in localStorage. Times are epoch ms, timeouts seconds. */
export interface SharedRecord {
  /** An identifier of any tab of this session: passed to /session so a new tab joins it. */
  id?: string | undefined;
  start: number;
  last: number;
  idle: number;
  max: number;
  /** The sampling decision, drawn once so that all tabs agree. */
  sampled?: boolean;
  /** The id given to identify(), kept for later features of the same session. */
  externalId?: string;
}

export const SHARED_KEY = 'spoor.session';
export const TAB_KEY = 'spoor.tab';
/** The outbox's IndexedDB database, and the prefix of its localStorage keys (outbox.ts). */
export const OUTBOX_DB = 'spoor-outbox';
export const OUTBOX_KEY_PREFIX = 'spoor-outbox:';
/** Seconds, until /session says otherwise (docs/contract.md, "Start a session"). */
const IDLE = 1800;
const MAX_AGE = 86400;

export function isExpired(record: SharedRecord, now: number): boolean {
  return now - record.last > record.idle * 1000 || now - record.start > record.max * 1000;
}

/** The shared session's record, started anew (and stored) when missing or expired. */
export function sharedRecord(local: KeyValue, now: number): SharedRecord {
  let record = readJson<SharedRecord>(local, SHARED_KEY);
  if (!record || typeof record.start !== 'number' || isExpired(record, now)) {
    record = { start: now, last: now, idle: IDLE, max: MAX_AGE };
    local.set(SHARED_KEY, JSON.stringify(record));
  }
  return record;
}

/**
 * Forgets everything stored (consent denied or withdrawn): the session records and every kept batch
 * of every outbox namespace on this origin. Batches in a running outbox's memory backend are its
 * owner's to remove. Never throws.
 */
export function forgetStored(local: KeyValue, tabStore: KeyValue): void {
  local.remove(SHARED_KEY);
  tabStore.remove(TAB_KEY);
  try {
    const storage = window.localStorage;
    for (let i = storage.length; i-- > 0; ) {
      const key = storage.key(i);
      if (key?.startsWith(OUTBOX_KEY_PREFIX)) storage.removeItem(key);
    }
  } catch {
    // Storage refused (private modes, blocked site data): nothing of ours can be in it either.
  }
  try {
    // Open connections (this page's or another tab's) close on versionchange, then the delete runs.
    window.indexedDB?.deleteDatabase(OUTBOX_DB);
  } catch {
    // A SecurityError where IndexedDB is blocked: nothing was kept there.
  }
}
