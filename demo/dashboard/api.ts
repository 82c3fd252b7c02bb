// The dashboard's only way to the collector: the read endpoints (docs/contract.md, "Read endpoints"),
// authenticated by the sign-in cookie the browser holds and the CSRF token the sign-in handed over.
// Every answer is checked for the contract's shape before use.

export interface SessionRow {
  id: number;
  browser: string | null;
  device: string | null;
  platform_os: string | null;
  country: string | null;
  time_spend: number | null;
  created_at: string;
  updated_at: string;
  read_status: string | null;
  visits_count: number;
  conversions_count: number;
  entry_url: string | null;
  [key: string]: unknown;
}

export interface PaginatorLink {
  url: string | null;
  label: string;
  page?: number | null;
  active: boolean;
}

export interface Paginator<T> {
  current_page: number;
  data: T[];
  first_page_url: string;
  from: number | null;
  last_page: number;
  last_page_url: string;
  links: PaginatorLink[];
  next_page_url: string | null;
  path: string | null;
  per_page: number;
  prev_page_url: string | null;
  to: number | null;
  total: number;
}

export const SORT_KEYS = [
  'id',
  'browser',
  'device',
  'platform_os',
  'country',
  'time_spend',
  'created_at',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SessionQuery {
  start_date: string;
  end_date: string;
  sortKey: SortKey;
  sortOrder: 'asc' | 'desc';
  read_status: 'read' | 'unread' | null;
  per_page: string;
  filters: Record<string, string | string[] | number | boolean>;
}

export type Row = Record<string, unknown>;

export interface StoredEvent {
  type: number;
  data: unknown;
  timestamp: number;
}

export interface NamedEventRow {
  id: number;
  tab: number;
  name: string;
  parameters: unknown;
  /** The event's own time (epoch ms). */
  timestamp: number;
  created_at: string;
}

/**
 * One page of get-events: whole stored batches in (tab, time) order, each tab's events in time order.
 * `named_events` comes on a first page (no cursor) only; `next_cursor` is null on the last page.
 */
export interface EventsPage {
  session: Row;
  named_events: NamedEventRow[];
  tabs: { tab: number; events: StoredEvent[] }[];
  next_cursor: string | null;
}

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
  getVisits(sessionId: number): Promise<Row[]>;
  getConversions(sessionId: number): Promise<Row[]>;
  getEvents(sessionId: number, query?: EventsQuery): Promise<EventsPage>;
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
    listSessions: (query, page) => post('/project/sessions', query, page),
    getVisits: async (sessionId) =>
      asRows(await post('/sessions/get-visits', { key: 'list', session_ids: [sessionId] })),
    getConversions: async (sessionId) =>
      asRows(await post('/sessions/get-conversions', { key: 'list', session_ids: [sessionId] })),
    getEvents: async (sessionId, query = {}) =>
      asEventsPage(await post('/sessions/get-events', { session_id: sessionId, ...query })),
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

/** List answers may be a bare array or grouped by session id; the dashboard wants the rows. */
function asRows(data: unknown): Row[] {
  if (Array.isArray(data)) return data as Row[];
  if (data && typeof data === 'object') {
    return Object.values(data).flatMap((value) => (Array.isArray(value) ? (value as Row[]) : []));
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
