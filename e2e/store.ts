// The harness's view of what the collector stored, read only through its read endpoints
// (docs/contract.md, "Read endpoints"): tests assert on this, never on requests intercepted in the
// page. The shapes are the contract's (src/wire.ts).
import type {
  ConversionRow,
  ConversionsRequest,
  EventsPage,
  EventsRequest,
  ListSessionsRequest,
  Paginator,
  SessionRow,
  VisitRow,
  VisitsRequest,
  WireEvent,
} from '../src/wire.js';
import { TEST_KEYS } from './collector.js';

/** An rrweb event as stored, with the parts of rrweb's `data` that the tests read. */
export type StoredEvent = WireEvent<{
  source?: number;
  tag?: string;
  payload?: Record<string, unknown>;
  [key: string]: unknown;
}>;

/** A session's events, every page of get-events joined. */
export type SessionEvents = EventsPage<StoredEvent>;

export type { ConversionRow, Paginator, SessionRow, VisitRow };

/** "YYYY-MM-DD HH:MM:SS" in UTC (docs/contract.md, "Conventions"). */
export function contractDate(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

export class ReadApi {
  constructor(private readonly endpoint: string) {}

  /** Posts to a read endpoint; answers the parsed body with its status, whatever the status. */
  async raw(
    path: string,
    body: unknown,
    query = '',
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.endpoint}/services/analytics/v1${path}${query}`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${TEST_KEYS.SPOOR_API_TOKEN}`,
        Accept: 'application/json',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  private async data<T>(path: string, body: unknown, query = ''): Promise<T> {
    const { status, body: answer } = await this.raw(path, body, query);
    if (status !== 200 || answer.error !== false) {
      throw new Error(`${path} answered ${status}: ${JSON.stringify(answer).slice(0, 500)}`);
    }
    return answer.data as T;
  }

  listSessions(body: ListSessionsRequest, page = 1): Promise<Paginator<SessionRow>> {
    return this.data('/project/sessions', body, page > 1 ? `?page=${page}` : '');
  }

  /** Every session created at or after `since` (one worker's collector serves one test at a time). */
  async sessionsSince(since: Date): Promise<SessionRow[]> {
    const page = await this.listSessions({
      start_date: contractDate(since),
      end_date: contractDate(new Date(Date.now() + 86_400_000)),
      sortKey: 'id',
      sortOrder: 'asc',
      per_page: '100',
      filters: {},
    });
    return page.data;
  }

  getVisits(sessionIds: number[]): Promise<VisitRow[]> {
    const body: VisitsRequest = { key: 'list', session_ids: sessionIds };
    return this.data('/sessions/get-visits', body);
  }

  getConversions(sessionIds: number[]): Promise<ConversionRow[]> {
    const body: ConversionsRequest = { key: 'list', session_ids: sessionIds };
    return this.data('/sessions/get-conversions', body);
  }

  /**
   * Every stored event of a session: get-events answers a page at a time, so this follows
   * `next_cursor` to the last page and merges the pages' tabs (in page order, which is time order
   * within a tab). `session` and `named_events` are the first page's.
   */
  async getEvents(sessionId: number): Promise<SessionEvents> {
    let first: SessionEvents | null = null;
    const tabs = new Map<number, StoredEvent[]>();
    let cursor: string | null = null;
    for (let pages = 0; ; pages++) {
      if (pages > 10_000) throw new Error(`get-events of session ${sessionId} never reached its last page`);
      const body: EventsRequest =
        cursor === null ? { session_id: sessionId } : { session_id: sessionId, cursor };
      const page: SessionEvents = await this.data('/sessions/get-events', body);
      first ??= page;
      for (const { tab, events } of page.tabs) {
        const list = tabs.get(tab) ?? [];
        for (const event of events) list.push(event);
        tabs.set(tab, list);
      }
      if (page.next_cursor === undefined) throw new Error('get-events answered no next_cursor');
      if (page.next_cursor === null) break;
      cursor = page.next_cursor;
    }
    return { ...first, tabs: [...tabs].map(([tab, events]) => ({ tab, events })), next_cursor: null };
  }
}

export interface Stored {
  sessions: SessionRow[];
  visits: VisitRow[];
  conversions: ConversionRow[];
  /** get-events of each session, when the expectation asked for events. */
  events: SessionEvents[];
}

export interface Expected {
  sessions?: number;
  visits?: number;
  conversions?: number;
  /** A condition on the stored events (e.g. "the input events have arrived"). */
  events?: (stored: Stored) => boolean;
  /** Extra condition on the whole snapshot. */
  until?: (stored: Stored) => boolean;
}

/**
 * Polls the read endpoints until what is stored for the sessions created since `since` has exactly
 * the expected counts (and the conditions hold), or fails with the last snapshot after `timeoutMs`.
 * Exact counts, not "at least": a duplicate or a stray session is a failure.
 */
export async function expectStored(
  api: ReadApi,
  since: Date,
  expected: Expected,
  timeoutMs = 30_000,
): Promise<Stored> {
  const deadline = Date.now() + timeoutMs;
  let last: Stored | null = null;
  let lastError: unknown = null;
  for (;;) {
    try {
      last = await snapshot(api, since, expected.events !== undefined);
      if (matches(last, expected)) {
        // Hold still for a moment: a late duplicate must not slip in after a match.
        await sleep(750);
        const again = await snapshot(api, since, expected.events !== undefined);
        if (matches(again, expected)) return again;
        last = again;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) break;
    await sleep(400);
  }
  const summary = last
    ? {
        sessions: last.sessions.map((s) => ({ id: s.id, entry_url: s.entry_url, visits: s.visits_count })),
        visits: last.visits.map((v) => `${v.session_id}/${v.tab} ${v.navigation} ${v.url}`),
        conversions: last.conversions.map((c) => `${c.type}:${c.goal}`),
        eventCounts: last.events.map((e) => e.tabs.map((t) => `${t.tab}:${t.events.length}`).join(',')),
      }
    : null;
  throw new Error(
    `stored data did not reach ${JSON.stringify({ ...expected, events: expected.events ? 'condition' : undefined })} ` +
      `within ${timeoutMs} ms; last: ${JSON.stringify(summary, null, 1)}${lastError ? `; last error: ${String(lastError)}` : ''}`,
  );
}

function matches(stored: Stored, expected: Expected): boolean {
  if (expected.sessions !== undefined && stored.sessions.length !== expected.sessions) return false;
  if (expected.visits !== undefined && stored.visits.length !== expected.visits) return false;
  if (expected.conversions !== undefined && stored.conversions.length !== expected.conversions) return false;
  if (expected.events && !expected.events(stored)) return false;
  if (expected.until && !expected.until(stored)) return false;
  return true;
}

async function snapshot(api: ReadApi, since: Date, withEvents: boolean): Promise<Stored> {
  const sessions = await api.sessionsSince(since);
  const ids = sessions.map((s) => s.id);
  if (ids.length === 0) return { sessions, visits: [], conversions: [], events: [] };
  const [visits, conversions] = await Promise.all([api.getVisits(ids), api.getConversions(ids)]);
  const events = withEvents ? await Promise.all(ids.map((id) => api.getEvents(id))) : [];
  return { sessions, visits, conversions, events };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** All stored events of a session, every tab, as one JSON text: for "this never appears" checks. */
export function rawJson(events: SessionEvents): string {
  return JSON.stringify(events);
}

/** The snippet's custom events with this tag, in stored order. */
export function customEvents(events: StoredEvent[], tag: string): StoredEvent[] {
  return events.filter((e) => e.type === 5 && e.data?.tag === tag);
}
