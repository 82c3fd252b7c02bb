// Where the npm entry may run and how often. `init()` is imported by server-side rendering (Node, Deno,
// Bun), web and service workers, where there is no page to observe: there it answers with an inert
// tracker. In a page it keeps one tracker: React's StrictMode runs effects twice and hot module
// replacement re-runs modules, and two trackers would mean two recorders and two visits per page.

import type { Tracker } from '../api';
import type { Options } from '../config';
import type { Booted } from './bootstrap';

/** True where there is a document to observe: not Node, Deno, Bun, nor a web or service worker. */
export function hasPage(): boolean {
  return typeof window !== 'undefined' && typeof document !== 'undefined' && !!window && !!document;
}

/** The tracker of a place with no page: every call does nothing; flush() resolves at once. */
export function inertTracker(): Tracker {
  const nothing = () => {};
  return {
    track: nothing,
    identify: nothing,
    flush: () => Promise.resolve(),
    stop: nothing,
    consent: nothing,
    onDebug: () => nothing,
  };
}

/**
 * A stable text for options, equal for equal options: keys in any order, `undefined` values left out
 * (as resolveConfig leaves them), RegExps by their source and flags, and functions by their source,
 * because StrictMode and hot reloads create the same callback anew on every run.
 */
export function optionsKey(options: unknown): string {
  const open = new Set<unknown>();
  const text = (value: unknown): string => {
    if (typeof value === 'function' || value instanceof RegExp) return `${typeof value}:${String(value)}`;
    if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
    // A cycle has no stable text; a fresh one makes the options unequal to any other.
    if (open.has(value)) return `cycle:${Math.random()}`;
    open.add(value);
    const record = value as Record<string, unknown>;
    const out = Array.isArray(value)
      ? `[${value.map(text).join(',')}]`
      : `{${Object.keys(record)
          .filter((key) => record[key] !== undefined)
          .sort()
          .map((key) => `${JSON.stringify(key)}:${text(record[key])}`)
          .join(',')}}`;
    open.delete(value);
    return out;
  };
  return text(options);
}

/** The page's tracker, kept on `window` under a registered symbol so that every copy of the npm
 * package bundled into one page (micro-frontends, a re-run module) finds the same one. */
interface Slot {
  key: string;
  booted: Booted;
  tracker: Tracker;
}
const SLOT = Symbol.for('spoor.tracker');

/**
 * Returns the page's tracker when it was started with equal options; otherwise stops it (if any) and
 * starts one with `start`. Says which through the debug log (`init` events). `stop()` frees the page,
 * so a later init() starts afresh.
 */
export function onePerPage(options: Options, start: () => Booted): Tracker {
  const win = window as unknown as Record<symbol, Slot | undefined>;
  const key = optionsKey(options);
  const held = win[SLOT];
  if (held && held.key === key) {
    held.booted.debug.emit({ kind: 'init', action: 'reused' });
    return held.tracker;
  }
  if (held) held.booted.debug.emit({ kind: 'init', action: 'replaced' });
  const booted = start();
  const slot: Slot = {
    key,
    booted,
    tracker: {
      ...booted.tracker,
      stop: () => {
        if (win[SLOT] === slot) win[SLOT] = undefined;
        booted.tracker.stop();
      },
    },
  };
  win[SLOT] = slot;
  held?.booted.dispose(booted.tracker);
  booted.debug.emit({ kind: 'init', action: held ? 'replaced' : 'started' });
  return slot.tracker;
}
