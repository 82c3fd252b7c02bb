// The wire contract's shapes (docs/contract.md), written once: what the snippet sends, what the
// collector answers, and what the dashboard and the e2e harness read. Types only, no runtime code, so
// that the collector (server/), the dashboard (demo/) and the e2e helpers can import them type-only
// without pulling any of the snippet in. Each shape cites the section of docs/contract.md that
// defines it; a change here is a change to that document, in the same commit.
//
// The shapes are type aliases, not interfaces: an alias of an object type is assignable to
// `Record<string, unknown>`, which code that reads rows generically (the dashboard's detail view)
// relies on.

// ---------------------------------------------------------------------------------------------------
// docs/contract.md, "Conventions"

/** A date-time as the collector writes it: `YYYY-MM-DD HH:MM:SS`, UTC. */
export type DateTime = string;

/** What the read endpoints take for a boolean ("List sessions": truthy and falsy values). */
export type Booleanish = boolean | 0 | 1 | '0' | '1' | 'true' | 'false';

/** Any error but a 422: `{"error": true, "message": "..."}` (a 500 says only `Server Error`). */
export type ErrorBody = {
  error: true;
  message: string;
};

/**
 * A 422, Laravel's shape: the first message (with ` (and N more errors)`) and one message per failing
 * field, nested fields dotted (`events.3.type`). At most 20 fields ("Limits").
 */
export type ValidationErrorBody = {
  message: string;
  errors: Record<string, string[]>;
};

/** Any answer that is not a success. */
export type FailureBody = ErrorBody | ValidationErrorBody;

// ---------------------------------------------------------------------------------------------------
// docs/contract.md, "Events"

/** An rrweb event, `{type, data, timestamp}`; `data` is rrweb's and not checked by the collector. */
export type WireEvent<Data = unknown> = {
  /** 0 DomContentLoaded ... 5 Custom, 6 Plugin, 7 Asset. */
  type: number;
  data: Data;
  /** Epoch ms, the visitor's clock. */
  timestamp: number;
};

/** How a visit began (the `visit` payload's `navigation`). */
export type Navigation = 'load' | 'push' | 'replace' | 'pop' | 'hash' | 'restore';

/** The `visit` custom event's payload. */
export type VisitPayload = {
  url: string;
  referrer: string;
  title: string;
  navigation: Navigation;
};

/** The `conversion` custom event's payload. */
export type ConversionPayload = {
  type: 'click' | 'url';
  goal: string;
  target: string;
};

/** The `web-vital` custom event's payload, as web-vitals reports it. */
export type WebVitalPayload = {
  name: 'LCP' | 'INP' | 'CLS' | 'FCP' | 'TTFB';
  value: number;
  rating: string;
  delta: number;
  id: string;
  navigationType: string;
};

/** The `event` custom event's payload: `track(name, parameters)`. */
export type NamedEventPayload = {
  name: string;
  parameters: Record<string, unknown>;
};

/** The `identify` custom event's payload: `identify(externalId)`. */
export type IdentifyPayload = {
  externalId: string | number;
};

/** The payload of each custom-event tag the collector copies into rows of its own. */
export type CustomPayloads = {
  visit: VisitPayload;
  conversion: ConversionPayload;
  'web-vital': WebVitalPayload;
  event: NamedEventPayload;
  identify: IdentifyPayload;
};

/** `rage_click`: three or more clicks within a second on the same spot. */
export type RageClickPayload = {
  /** A short CSS selector of the clicked element (tags, id, classes; never text). */
  selector: string;
  /** Where, in CSS pixels of the viewport. */
  x: number;
  y: number;
  /** Clicks in the burst when it was reported (3). */
  clicks: number;
};

/** `dead_click`: a click on something clickable after which nothing changed within a second. */
export type DeadClickPayload = {
  selector: string;
};

/** `error`: an uncaught error or an unhandled rejection, reported once per visit. */
export type ErrorPayload = {
  kind: 'error' | 'rejection';
  /** At most 512 characters. */
  message: string;
  /** The script's URL, without its query string unless `requestQueries`; `''` when unknown. */
  source: string;
  line: number;
  column: number;
  /** At most 4096 characters; `''` when the browser gave none. */
  stack: string;
};

/** `request_failed`: a fetch or XMLHttpRequest answered 500 or more, or failing on the network (0). */
export type RequestFailedPayload = {
  method: string;
  /** Without its query string unless `requestQueries`; never a fragment. */
  url: string;
  /** The HTTP status, 0 for a network error. */
  status: number;
  /** Milliseconds from the call to its answer or failure. */
  duration: number;
};

/** The frustration and failure signals (docs/contract.md, "Events"): kept in the batch, counted per
 *  visit by the collector, marked on the replay's timeline. */
export type SignalPayloads = {
  rage_click: RageClickPayload;
  dead_click: DeadClickPayload;
  error: ErrorPayload;
  request_failed: RequestFailedPayload;
};

/** The signal tags, in the order the dashboard lists them. */
export type SignalTag = keyof SignalPayloads;

/** A custom event (type 5) of one of those tags. */
export type CustomEvent<Tag extends keyof CustomPayloads = keyof CustomPayloads> = WireEvent<{
  tag: Tag;
  payload: CustomPayloads[Tag];
}>;

// ---------------------------------------------------------------------------------------------------
// docs/contract.md, "Store session recording data"

/** The body of `POST /services/analytics/v1/track`. */
export type TrackRequest = {
  /** The encrypted identifier ("The session identifier"), at most 4096 characters. */
  sessionIdentifier: string;
  /** Seconds active on the current visit, 0 to 86400; Laravel's `numeric`, so a numeric string passes. */
  timer?: number | string | null;
  /** `[]` or null for a timer update. */
  events?: WireEvent[] | null;
  /** `navigator.userAgent`, at most 1024 characters. */
  userAgent?: string | null;
};

/** The 200 of `/track`: stored and durable (also for a body already stored). */
export type TrackAnswer = {
  status: true;
};

// ---------------------------------------------------------------------------------------------------
// docs/contract.md, "Start a session"

/** The body of `POST /services/analytics/v1/session`. */
export type SessionRequest = {
  /** The project's public key (`pk_...`). */
  project: string;
  /** The browser's current identifier, to open another tab of its session. */
  sessionIdentifier?: string | null;
  url?: string | null;
  referrer?: string | null;
  userAgent?: string | null;
};

/** The 200 of `/session`. */
export type SessionAnswer = {
  status: true;
  sessionIdentifier: string;
  /** Seconds without activity after which the session ends. */
  idleTimeout: number;
  /** Seconds after which the session ends, whatever its activity. */
  maxAge: number;
  /** The tab number the new identifier carries. */
  tab: number;
};

// ---------------------------------------------------------------------------------------------------
// docs/contract.md, "List sessions"

export type SortKey = 'id' | 'browser' | 'device' | 'platform_os' | 'country' | 'time_spend' | 'created_at';

/** The devices a session records. */
export type Device = 'desktop' | 'mobile' | 'tablet';

/** The `filters` object (ours); a null or `""` value switches a filter off. */
export type SessionFilters = {
  browser?: string | string[] | null;
  /** Each a `Device`; any other value is a 422. Typed as text: a form sends what the user typed. */
  device?: string | string[] | null;
  platform_os?: string | string[] | null;
  country?: string | string[] | null;
  /** The entry URL contains it. */
  url?: string | null;
  /** Seconds; a numeric string passes. */
  min_time_spend?: number | string | null;
  has_conversions?: Booleanish | null;
  /** (ours) At least one signal of the kind, or (falsy) none. */
  has_rage_clicks?: Booleanish | null;
  has_dead_clicks?: Booleanish | null;
  has_errors?: Booleanish | null;
  has_failed_requests?: Booleanish | null;
};

/** The body of `POST /services/analytics/v1/project/sessions` (the page goes in the query string). */
export type ListSessionsRequest = {
  start_date: DateTime;
  end_date: DateTime;
  sortKey: SortKey;
  sortOrder: 'asc' | 'desc';
  read_status?: 'read' | 'unread' | null;
  /** 1 to 100, as a string or a number; default 15. */
  per_page?: number | string | null;
  check_irregular_traffic?: Booleanish | null;
  include_ip_addresses?: Booleanish | null;
  /** Required (the key must be there): `{}` for none. */
  filters: SessionFilters;
};

/** One entry of the paginator's `links`; a `...` entry has `url` and `page` null. */
export type PageLink = {
  url: string | null;
  /** `&laquo; Previous`, a page number, `...` or `Next &raquo;`. */
  label: string;
  page: number | null;
  active: boolean;
};

/** Laravel's length-aware paginator as JSON, with exactly these keys. */
export type Paginator<T> = {
  current_page: number;
  data: T[];
  first_page_url: string;
  /** null on a page past the end. */
  from: number | null;
  /** At least 1. */
  last_page: number;
  last_page_url: string;
  links: PageLink[];
  next_page_url: string | null;
  /** This endpoint's URL as the collector was reached; page URLs are `path?page=N`. */
  path: string;
  per_page: number;
  prev_page_url: string | null;
  to: number | null;
  total: number;
};

/** Why a session looks like irregular traffic (ours). */
export type IrregularReason =
  | 'bot-user-agent'
  | 'automation-user-agent'
  | 'regular-input-timing'
  | 'no-interaction';

/** (ours) How many frustration and failure signals were recorded ("Events"). */
export type SignalCountsRow = {
  rage_clicks: number;
  dead_clicks: number;
  errors: number;
  failed_requests: number;
};

/** A session row of the read endpoints. */
export type SessionRow = {
  id: number;
  browser: string | null;
  /** A `Device`, or null when the user agent did not say. */
  device: string | null;
  platform_os: string | null;
  country: string | null;
  /** Seconds: the sum over the session's visits, rounded to 0.1 s. */
  time_spend: number;
  created_at: DateTime;
  updated_at: DateTime;
  read_status: 'read' | 'unread';
  visits_count: number;
  conversions_count: number;
  entry_url: string | null;
  /** (ours) */
  referrer: string | null;
  /** (ours) How many tabs the session has opened. */
  tabs: number;
  /** (ours) The latest `identify`. */
  external_id: string | null;
} & SignalCountsRow & {
    /** Only when `include_ip_addresses` is truthy. */
    ip_address?: string | null;
    /** Only when `check_irregular_traffic` is truthy (ours). */
    irregular_traffic?: { is_irregular: boolean; reasons: IrregularReason[] };
  };

/** The 200 of List sessions. */
export type ListSessionsAnswer = {
  error: false;
  data: Paginator<SessionRow>;
  message: string;
};

// ---------------------------------------------------------------------------------------------------
// docs/contract.md, "Overview"

/** The body of `POST /services/analytics/v1/project/overview` (ours). */
export type OverviewRequest = {
  start_date: DateTime;
  /** At most 366 days after `start_date`. */
  end_date: DateTime;
  /** Rows per top list, 1 to 50; default 10. */
  limit?: number | string | null;
};

/** The overview of the sessions created within the range (UTC days). */
export type Overview = {
  start_date: DateTime;
  end_date: DateTime;
  totals: {
    sessions: number;
    visits: number;
    /** Seconds, rounded to 0.1 s. */
    avg_time_spend: number;
    /** Sessions with at least one conversion, and their share of all (0 to 1, three decimals). */
    converted_sessions: number;
    conversion_rate: number;
  };
  /** Every UTC day of the range, with none left out. */
  per_day: { day: string; sessions: number; frustrated: number }[];
  /** Visited pages without query string or fragment (origin + path). */
  top_pages: { url: string; visits: number; sessions: number }[];
  /** Entry pages without query string or fragment (origin + path). */
  entry_pages: { url: string; sessions: number }[];
  /** Referrer origins; `''` for sessions without a referrer. */
  referrers: { origin: string; sessions: number }[];
  devices: { device: string | null; sessions: number }[];
  browsers: { browser: string | null; sessions: number }[];
  /** Sessions that reached each goal, and their share of all sessions. */
  goals: { goal: string | null; sessions: number; rate: number }[];
  /** Sessions with any signal, their share, and sessions with each kind. */
  frustration: { sessions: number; rate: number } & SignalCountsRow;
};

/** The 200 of the overview. */
export type OverviewAnswer = {
  error: false;
  data: Overview;
  message: string;
};

// ---------------------------------------------------------------------------------------------------
// docs/contract.md, "Session visits" and "Session conversions"

/** What get-visits and get-conversions share. */
export type RelatedRequest = {
  /** `list` (default) or `count`. */
  key?: 'list' | 'count' | null;
  /** Only rows stored within these (the collector's clock), both included. */
  start_date?: DateTime | null;
  end_date?: DateTime | null;
  /** 1 to 500 integers, or strings of integers; repeats are ignored. */
  session_ids: (number | string)[];
};

/** The body of `POST /services/analytics/v1/sessions/get-visits`. */
export type VisitsRequest = RelatedRequest & {
  /** At most 1000: only these visits. */
  visit_ids?: (number | string)[] | null;
};

/** The body of `POST /services/analytics/v1/sessions/get-conversions`. */
export type ConversionsRequest = RelatedRequest & {
  /** At most 20, e.g. `["click", "url"]`. */
  conversion_types?: string[] | null;
};

/** A web vital of a visit (ours). */
export type VitalRow = {
  name: string;
  value: number;
  rating: string | null;
  delta: number | null;
  id: string | null;
  navigation_type: string | null;
  created_at: DateTime;
};

/** A visit: one page view (a page load, a bfcache restore, or an in-page navigation). */
export type VisitRow = {
  id: number;
  session_id: number;
  tab: number;
  url: string | null;
  title: string | null;
  referrer: string | null;
  navigation: string | null;
  /** Seconds: the largest `timer` among the visit's batches, rounded to 0.1 s. */
  time_spend: number;
  /** Epoch ms, the visitor's clock: the `visit` event's timestamp. */
  started_at: number;
  created_at: DateTime;
  /** (ours) */
  vitals: VitalRow[];
} & SignalCountsRow;

/** A conversion: a goal reached. */
export type ConversionRow = {
  id: number;
  session_id: number;
  visit_id: number | null;
  /** `click`, `url`, or `unknown` when the event had none. */
  type: string;
  goal: string | null;
  target: string | null;
  created_at: DateTime;
};

/** The 200 of get-visits or get-conversions with `key: list`. */
export type ListAnswer<Row> = {
  error: false;
  data: Row[];
};

/** The 200 of get-visits or get-conversions with `key: count`. */
export type CountAnswer = {
  error: false;
  data: number;
};

// ---------------------------------------------------------------------------------------------------
// docs/contract.md, "Session events"

/** The body of `POST /services/analytics/v1/sessions/get-events` (ours). */
export type EventsRequest = {
  session_id: number | string;
  /** Only that tab. */
  tab?: number | string | null;
  /** The previous page's `next_cursor`, unchanged. */
  cursor?: string | null;
};

/** get-events' session: the session row without `ip_address`; `irregular_traffic` on the first page only. */
export type EventsSessionRow = Omit<SessionRow, 'ip_address'>;

/** A `track(name, parameters)` call as stored. */
export type NamedEventRow = {
  id: number;
  tab: number;
  visit_id: number | null;
  name: string;
  /** `{}` when the event's parameters were not an object or too large. */
  parameters: unknown;
  /** The event's own time: epoch ms, the visitor's clock. */
  timestamp: number;
  created_at: DateTime;
};

/** One tab's events on a page, in timestamp order. */
export type EventsTab<Event = WireEvent> = {
  tab: number;
  events: Event[];
};

/** One page of get-events: whole stored batches after the cursor's position. */
export type EventsPage<Event = WireEvent> = {
  session: EventsSessionRow;
  /** On the first page only (`[]` on later ones). */
  named_events: NamedEventRow[];
  /** In tab order. */
  tabs: EventsTab<Event>[];
  /** null on the last page. */
  next_cursor: string | null;
};

/** The 200 of get-events. */
export type EventsAnswer<Event = WireEvent> = {
  error: false;
  data: EventsPage<Event>;
};
