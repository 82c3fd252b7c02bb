// The dashboard's only way to the collector: the read endpoints (docs/contract.md, "Read endpoints"),
// authenticated by the sign-in cookie the browser holds and the CSRF token the sign-in handed over.
// Every answer is checked for the contract's shape before use; the shapes themselves are the
// contract's (src/wire.ts).

import type {
  ConversionRow,
  ConversionsRequest,
  EventsPage,
  EventsRequest,
  ListSessionsRequest,
  Overview,
  OverviewRequest,
  Paginator,
  SessionRow,
  SortKey,
  VisitRow,
  VisitsRequest,
  WireEvent,
} from '../../src/wire';

export type {
  ConversionRow,
  NamedEventRow,
  PageLink as PaginatorLink,
  Paginator,
  SessionRow,
  SortKey,
  VisitRow,
} from '../../src/wire';
export type { EventsPage, Overview };

/** Every sort key, in the order the list offers them (docs/contract.md, "List sessions"). */
export const SORT_KEYS = [
  'id',
  'browser',
  'device',
  'platform_os',
  'country',
  'time_spend',
  'created_at',
] as const satisfies readonly SortKey[];

/** The list's request: the contract's, with the paging size as the form holds it. */
export type SessionQuery = ListSessionsRequest & { per_page: string };

/** A row read without assuming its columns: the detail view shows what is there. */
export type Row = Record<string, unknown>;

/** A stored rrweb event: `data` is rrweb's own, read defensively. */
export type StoredEvent = WireEvent;

/** get-events' request but for the session, which the caller names apart. */
export interface EventsQuery {
  /** Only this tab's events. */
  tab?: number;
  /** Where the previous page ended (its `next_cursor`). */
  cursor?: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Seconds to wait before asking again, from a 429's or 503's Retry-After. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export interface Api {
  listSessions(query: SessionQuery, page: number): Promise<Paginator<SessionRow>>;
  getVisits(sessionId: number): Promise<VisitRow[]>;
  getConversions(sessionId: number): Promise<ConversionRow[]>;
  getEvents(sessionId: number, query?: EventsQuery): Promise<EventsPage>;
  getOverview(query: OverviewRequest): Promise<Overview>;
}

export function createApi(endpoint: string, csrfToken: string, onUnauthenticated: () => void): Api {
  const base = `${endpoint.replace(/\/+$/, '')}/services/analytics/v1`;

  async function post<T>(path: string, body: unknown, page?: number): Promise<T> {
    const url = page && page > 1 ? `${base}${path}?page=${page}` : `${base}${path}`;
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'X-CSRF-Token': csrfToken,
        Accept: 'application/json',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    // The sign-in expired or was ended elsewhere (sign-out, a rotated token): back to the form.
    if (response.status === 401) onUnauthenticated();
    const text = await response.text();
    let json: { error?: boolean; message?: string; data?: unknown } = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ApiError(
        `The collector answered ${response.status} with a body that is not JSON.`,
        response.status,
      );
    }
    if (!response.ok || json.error === true) {
      const retry = response.headers.get('Retry-After');
      const suffix = response.status === 429 && retry ? ` Try again in ${retry} s.` : '';
      const seconds = retry !== null && /^\d+$/.test(retry) ? Number(retry) : null;
      throw new ApiError(
        `${json.message ?? `The collector answered ${response.status}.`}${suffix}`,
        response.status,
        seconds,
      );
    }
    return json.data as T;
  }

  return {
    listSessions: (query, page) => post('/project/sessions', query satisfies ListSessionsRequest, page),
    getVisits: async (sessionId) => {
      const body: VisitsRequest = { key: 'list', session_ids: [sessionId] };
      return asRows<VisitRow>(await post('/sessions/get-visits', body));
    },
    getConversions: async (sessionId) => {
      const body: ConversionsRequest = { key: 'list', session_ids: [sessionId] };
      return asRows<ConversionRow>(await post('/sessions/get-conversions', body));
    },
    getOverview: async (query) => asOverview(await post('/project/overview', query)),
    getEvents: async (sessionId, query = {}) => {
      const body: EventsRequest = { session_id: sessionId, ...query };
      return asEventsPage(await post('/sessions/get-events', body));
    },
  };
}

/** A get-events page, checked for the shape the replay relies on. */
function asEventsPage(data: unknown): EventsPage {
  const page = data as Partial<EventsPage> | null;
  const cursor = page?.next_cursor;
  if (
    !page ||
    typeof page.session !== 'object' ||
    page.session === null ||
    !Array.isArray(page.tabs) ||
    !page.tabs.every((t) => typeof t?.tab === 'number' && Array.isArray(t.events)) ||
    !(cursor === null || typeof cursor === 'string')
  ) {
    throw new ApiError('The collector answered get-events in an unknown shape.', 200);
  }
  return {
    session: page.session,
    named_events: Array.isArray(page.named_events) ? page.named_events : [],
    tabs: page.tabs,
    next_cursor: cursor,
  };
}

/** The overview, checked for the lists and totals the page draws. */
function asOverview(data: unknown): Overview {
  const o = data as Partial<Overview> | null;
  const lists = ['per_day', 'top_pages', 'entry_pages', 'referrers', 'devices', 'browsers', 'goals'] as const;
  if (!o || typeof o.totals !== 'object' || !o.frustration || !lists.every((key) => Array.isArray(o[key]))) {
    throw new ApiError('The collector answered the overview in an unknown shape.', 200);
  }
  return o as Overview;
}

/** List answers may be a bare array or grouped by session id; the dashboard wants the rows. Their
 *  columns are not checked: the views read each one defensively. */
function asRows<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  if (data && typeof data === 'object') {
    return Object.values(data).flatMap((value) => (Array.isArray(value) ? (value as T[]) : []));
  }
  return [];
}

/** "YYYY-MM-DD HH:MM:SS" in UTC, the contract's date-time format. */
export function toContractDate(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Parses the contract's UTC date-time. */
export function fromContractDate(value: string): Date {
  return new Date(`${value.replace(' ', 'T')}Z`);
}
