// A session's recording as it arrives: get-events answers a page at a time (about a megabyte of
// whole stored batches, in tab then time order), so the replay starts on the first page and the rest
// follows while it plays. The feed loads the tab on screen only, page after page with `tab` and the
// cursor, and tells its listeners about each page's events; a tab nobody looks at costs no request.
import { type Api, ApiError, type EventsPage, type StoredEvent } from './api';

export interface TabState {
  tab: number;
  /** Events loaded so far, in the order the pages brought them (time order within the tab). */
  events: StoredEvent[];
  /** Every page of the tab has arrived. */
  done: boolean;
}

export interface EventFeed {
  /** The session's tabs, ascending. */
  tabs(): TabState[];
  tab(tab: number): TabState | undefined;
  /** Loads this tab's pages (and no other tab's) until it is complete. */
  focus(tab: number): void;
  /** Called with each page's events; also with `error` when a page could not be loaded. */
  subscribe(listener: (tab: number, added: StoredEvent[], error?: unknown) => void): () => void;
  destroy(): void;
}

interface Loading extends TabState {
  /** Where the tab's next page starts; null with `started` false: at its beginning. */
  cursor: string | null;
  started: boolean;
}

/** Retry a throttled page after this long when the collector says nothing (ms). */
const RETRY_MS = 2000;

/**
 * @param tabs the tabs that may have a recording (e.g. those with visits); the first page's are added.
 * @param first the session's first page (asked for without `tab` or `cursor`).
 */
export function createEventFeed(api: Api, sessionId: number, tabs: number[], first: EventsPage): EventFeed {
  const states = new Map<number, Loading>();
  const state = (tab: number): Loading => {
    let s = states.get(tab);
    if (!s) {
      s = { tab, events: [], done: false, cursor: null, started: false };
      states.set(tab, s);
    }
    return s;
  };
  for (const tab of tabs) state(tab);

  // The first page runs through the tabs in order: every tab before its last one is complete, tabs
  // before its first one have no events, and its last tab goes on from its cursor.
  const seen = [...first.tabs].sort((a, b) => a.tab - b.tab);
  const lastTab = seen.at(-1)?.tab ?? Number.POSITIVE_INFINITY;
  for (const { tab, events } of seen) {
    const s = state(tab);
    for (const event of events) s.events.push(event);
  }
  for (const s of states.values()) {
    if (s.tab < lastTab) s.done = true;
    else if (s.tab === lastTab) {
      s.started = true;
      s.cursor = first.next_cursor;
      s.done = first.next_cursor === null;
    } else if (first.next_cursor === null) s.done = true;
  }

  const listeners = new Set<(tab: number, added: StoredEvent[], error?: unknown) => void>();
  let focused: number | null = null;
  let running = false;
  let destroyed = false;
  let failed: unknown = null;
  let wake: (() => void) | null = null;

  const nextTab = (): Loading | undefined => {
    const s = focused === null ? undefined : states.get(focused);
    return s && !s.done ? s : undefined;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = window.setTimeout(resolve, ms);
      wake = () => {
        window.clearTimeout(timer);
        resolve();
      };
    });

  const loop = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      for (let s = nextTab(); s && !destroyed && failed === null; s = nextTab()) {
        let page: EventsPage;
        try {
          page = await api.getEvents(sessionId, {
            tab: s.tab,
            ...(s.started && s.cursor !== null ? { cursor: s.cursor } : {}),
          });
        } catch (error) {
          if (error instanceof ApiError && (error.status === 429 || error.status === 503)) {
            await sleep(error.retryAfter !== null ? error.retryAfter * 1000 : RETRY_MS);
            continue;
          }
          failed = error;
          for (const listener of listeners) listener(s.tab, [], error);
          return;
        }
        if (destroyed) return;
        const added = page.tabs.find((t) => t.tab === s.tab)?.events ?? [];
        for (const event of added) s.events.push(event);
        s.started = true;
        s.cursor = page.next_cursor;
        s.done = page.next_cursor === null;
        for (const listener of listeners) listener(s.tab, added);
      }
    } finally {
      running = false;
    }
  };

  return {
    tabs: () => [...states.values()].sort((a, b) => a.tab - b.tab),
    tab: (tab) => states.get(tab),
    focus(tab) {
      focused = tab;
      void loop();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy() {
      destroyed = true;
      listeners.clear();
      wake?.();
    },
  };
}
