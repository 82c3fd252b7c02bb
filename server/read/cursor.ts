// get-events' cursor: the position of the last batch a page held, in the session's (tab, first_ts, id)
// order, and the session it belongs to. Opaque to clients (base64url of a JSON array); decoding checks
// every part, so a malformed, tampered or foreign cursor is told apart from a valid one and never
// reaches SQL as anything but numbers.
import type { BatchKey } from '../store/store.js';

/** Longer than any cursor this collector writes: anything longer is refused before decoding. */
export const MAX_CURSOR_LENGTH = 200;

export function encodeCursor(sessionId: number, key: BatchKey): string {
  return Buffer.from(JSON.stringify([sessionId, key.tab, key.firstTs, key.id])).toString('base64url');
}

/** The position a cursor names, or null when it is not one this collector wrote for `sessionId`. */
export function decodeCursor(cursor: string, sessionId: number): BatchKey | null {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parts) || parts.length !== 4) return null;
  const [session, tab, firstTs, id] = parts as unknown[];
  if (session !== sessionId) return null;
  if (!Number.isSafeInteger(tab) || !Number.isSafeInteger(id)) return null;
  // first_ts is an integer for every batch stored since timestamps were checked; older rows may hold
  // any finite number.
  if (typeof firstTs !== 'number' || !Number.isFinite(firstTs)) return null;
  return { tab: tab as number, firstTs, id: id as number };
}
