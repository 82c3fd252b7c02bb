// Reads a session's events through get-events page by page, following next_cursor to the end, as a
// client would: the tests' view of "every stored event" since the endpoint pages.
import { type Answer, type Collector, V1 } from './harness.js';

export const EVENTS = `${V1}/sessions/get-events`;

export interface TabEvents {
  tab: number;
  // biome-ignore lint/suspicious/noExplicitAny: events are rrweb JSON of many shapes
  events: any[];
}

export interface ReadAll {
  tabs: TabEvents[];
  pages: Answer[];
}

/** Every page of a session (of one tab when given), and their tabs merged in page order. */
export async function readAllEvents(c: Collector, sessionId: number, tab?: number): Promise<ReadAll> {
  const pages: Answer[] = [];
  const tabs = new Map<number, TabEvents>();
  let cursor: string | null = null;
  do {
    const body: Record<string, unknown> = { session_id: sessionId };
    if (tab !== undefined) body.tab = tab;
    if (cursor !== null) body.cursor = cursor;
    const a = await c.read(EVENTS, body);
    if (a.status !== 200) throw new Error(`get-events answered ${a.status}: ${JSON.stringify(a.body)}`);
    pages.push(a);
    for (const t of a.body.data.tabs as TabEvents[]) {
      const merged = tabs.get(t.tab) ?? { tab: t.tab, events: [] };
      for (const e of t.events) merged.events.push(e);
      tabs.set(t.tab, merged);
    }
    if (!('next_cursor' in a.body.data)) throw new Error('get-events answered no next_cursor');
    cursor = a.body.data.next_cursor;
    if (pages.length > 10_000) throw new Error('get-events never reached the last page');
  } while (cursor !== null);
  return { tabs: [...tabs.values()], pages };
}
