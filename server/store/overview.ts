// The SQL of the frustration and failure signals and of the dashboard's overview (docs/contract.md,
// "Overview" and "List sessions"), kept apart from the store's other queries (queries.ts), which call
// into it. SQL text over the tables of migrations/, with positional `?` parameters, run on either engine
// as store programs (sql.ts).
//
// Portability: everything here is standard SQL that SQLite and PostgreSQL both run, except the position
// of a text in another, which the engine's Dialect spells (SQLite's instr, PostgreSQL's strpos: same
// arguments, same 1-based answer, 0 when absent). Dates are the contract's `YYYY-MM-DD HH:MM:SS` text
// on both engines, so a day is its first ten characters. Ties are broken bytewise with NULLs first, as
// SQLite sorts, so that both engines answer alike (a computed column takes its collation in the SELECT:
// PostgreSQL reads an ORDER BY name with COLLATE as the table's column, not the output's).
import type { SignalCounts } from '../ingest/check.js';
import { all, type Dialect, get, type Program } from './sql.js';

/** The signal columns, in the order of SignalCounts' keys: the same names on batches, visits and
 *  sessions. Fixed names, never from a request. */
export const SIGNAL_COLUMNS = ['rage_clicks', 'dead_clicks', 'errors', 'failed_requests'] as const;
export type SignalColumn = (typeof SIGNAL_COLUMNS)[number];

/**
 * Migration: signal counts per batch (so that a visit that claims batches back recounts exactly, as
 * time_spend does), per visit, and per session (what the list filters on). Counts of the custom events
 * `rage_click`, `dead_click`, `error`, `request_failed`, added at ingest from the worker's summary.
 * Standard ALTER TABLE ... ADD COLUMN, one column per statement (SQLite takes no list).
 */
export const SIGNALS_MIGRATION = ['batches', 'visits', 'sessions']
  .flatMap((table) =>
    SIGNAL_COLUMNS.map((column) => `ALTER TABLE ${table} ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0;`),
  )
  .join('\n');

const SET_ADD = SIGNAL_COLUMNS.map((c) => `${c} = ${c} + ?`).join(', ');

/** Write path: run only for a batch that holds at least one signal (most hold none). */
export const SIGNAL_SQL = {
  /** Params: the four counts, batch id. */
  batch: `UPDATE batches SET ${SIGNAL_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`,
  /** Params: the four counts, visit id. */
  addToVisit: `UPDATE visits SET ${SET_ADD} WHERE id = ?`,
  /** Params: the four counts, session id. */
  addToSession: `UPDATE sessions SET ${SET_ADD} WHERE id = ?`,
  /** A visit that gained or lost batches is recounted from them. Params: visit id ×4, visit id. */
  recountVisit: `UPDATE visits SET ${SIGNAL_COLUMNS.map(
    (c) => `${c} = COALESCE((SELECT SUM(${c}) FROM batches WHERE visit_id = ?), 0)`,
  ).join(', ')} WHERE id = ?`,
};

/** The four counts in column order, as statement parameters. */
export function signalParams(counts: SignalCounts): number[] {
  return [counts.rage_clicks, counts.dead_clicks, counts.errors, counts.failed_requests];
}

export function hasSignals(counts: SignalCounts): boolean {
  return signalParams(counts).some((n) => n > 0);
}

/** The list's `has_*` filters and the column each reads. */
export const SIGNAL_FILTERS = {
  has_rage_clicks: 'rage_clicks',
  has_dead_clicks: 'dead_clicks',
  has_errors: 'errors',
  has_failed_requests: 'failed_requests',
} as const satisfies Record<string, SignalColumn>;
export type SignalFilter = keyof typeof SIGNAL_FILTERS;

/** `s.<column> > 0` or `= 0`: the session has such a signal, or none. */
export function signalFilterSql(filter: SignalFilter, has: boolean): string {
  return `s.${SIGNAL_FILTERS[filter]} ${has ? '> 0' : '= 0'}`;
}

/**
 * A case-insensitive prefix match of one of the list's text columns against any of `values`:
 * `LOWER(s.browser) LIKE 'chrome%'` ("chrome" finds "Chrome Headless"). LIKE's wildcards in a value
 * are escaped, so a value matches only as typed. LOWER and LIKE ... ESCAPE are standard; PostgreSQL's
 * LIKE is case-sensitive, which the LOWER on both sides makes irrelevant.
 */
export function prefixFilterSql(column: 'browser' | 'platform_os' | 'country', values: string[]) {
  return {
    sql: `(${values.map(() => `LOWER(s.${column}) LIKE ? ESCAPE '\\'`).join(' OR ')})`,
    params: values.map((v) => `${v.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`),
  };
}

// ------------------------------------------------------------------------------------------------
// The overview

export interface OverviewQuery {
  projectId: number;
  /** Contract date-times, both included. */
  start: string;
  end: string;
  /** Rows per top list. */
  limit: number;
}

export interface OverviewRows {
  totals: {
    sessions: number;
    visits: number;
    avg_time_spend: number;
    converted_sessions: number;
  } & Record<SignalColumn | 'frustrated', number>;
  per_day: { day: string; sessions: number; frustrated: number }[];
  top_pages: { url: string; visits: number; sessions: number }[];
  entry_pages: { url: string; sessions: number }[];
  referrers: { origin: string; sessions: number }[];
  devices: { device: string | null; sessions: number }[];
  browsers: { browser: string | null; sessions: number }[];
  goals: { goal: string | null; sessions: number }[];
}

const RANGE = 's.project_id = ? AND s.created_at >= ? AND s.created_at <= ?';

/** A URL without its query string and fragment. */
function pageOf(d: Dialect, column: string): string {
  const noQuery = `substr(${column}, 1, ${d.position(`${column} || '?'`, "'?'")} - 1)`;
  return `substr(${noQuery}, 1, ${d.position(`${noQuery} || '#'`, "'#'")} - 1)`;
}

/** A URL's origin (`https://host:port`); '' for none (a direct visit). */
function originOf(d: Dialect, column: string): string {
  const page = pageOf(d, column);
  const scheme = d.position(page, "'//'");
  const afterScheme = `substr(${page}, ${scheme} + 2)`;
  return `CASE WHEN ${column} IS NULL OR ${column} = '' THEN '' WHEN ${scheme} = 0 THEN ${page}
    ELSE substr(${page}, 1, ${scheme} + ${d.position(`${afterScheme} || '/'`, "'/'")}) END`;
}

const FRUSTRATED = SIGNAL_COLUMNS.map((c) => `s.${c} > 0`).join(' OR ');

/** Statement texts of the overview in a dialect, each over the sessions of one project created within
 *  the range. */
export function overviewSql(d: Dialect) {
  return {
    totals: `SELECT COUNT(*) AS sessions, COALESCE(AVG(s.time_spend), 0) AS avg_time_spend,
      ${SIGNAL_COLUMNS.map((c) => `COALESCE(SUM(CASE WHEN s.${c} > 0 THEN 1 ELSE 0 END), 0) AS ${c}`).join(', ')},
      COALESCE(SUM(CASE WHEN ${FRUSTRATED} THEN 1 ELSE 0 END), 0) AS frustrated
    FROM sessions s WHERE ${RANGE}`,
    visits: `SELECT COUNT(*) AS visits FROM sessions s JOIN visits v ON v.session_id = s.id WHERE ${RANGE}`,
    converted: `SELECT COUNT(*) AS n FROM sessions s WHERE ${RANGE}
    AND EXISTS (SELECT 1 FROM conversions c WHERE c.session_id = s.id)`,
    perDay: `SELECT substr(s.created_at, 1, 10) AS day, COUNT(*) AS sessions,
      COALESCE(SUM(CASE WHEN ${FRUSTRATED} THEN 1 ELSE 0 END), 0) AS frustrated
    FROM sessions s WHERE ${RANGE} GROUP BY substr(s.created_at, 1, 10) ORDER BY day`,
    topPages: `SELECT ${d.bytewise(`(${pageOf(d, 'v.url')})`)} AS url, COUNT(*) AS visits, COUNT(DISTINCT v.session_id) AS sessions
    FROM sessions s JOIN visits v ON v.session_id = s.id WHERE ${RANGE} AND v.url IS NOT NULL
    GROUP BY ${pageOf(d, 'v.url')} ORDER BY visits DESC, url LIMIT ?`,
    entryPages: `SELECT ${d.bytewise(`(${pageOf(d, 's.entry_url')})`)} AS url, COUNT(*) AS sessions
    FROM sessions s WHERE ${RANGE} AND s.entry_url IS NOT NULL AND s.entry_url <> ''
    GROUP BY ${pageOf(d, 's.entry_url')} ORDER BY sessions DESC, url LIMIT ?`,
    referrers: `SELECT ${d.bytewise(`(${originOf(d, 's.referrer')})`)} AS origin, COUNT(*) AS sessions
    FROM sessions s WHERE ${RANGE} GROUP BY ${originOf(d, 's.referrer')} ORDER BY sessions DESC, origin LIMIT ?`,
    devices: `SELECT s.device AS device, COUNT(*) AS sessions FROM sessions s WHERE ${RANGE}
    GROUP BY s.device ORDER BY sessions DESC, ${d.bytewise('device')}${d.nulls('ASC')} LIMIT ?`,
    browsers: `SELECT s.browser AS browser, COUNT(*) AS sessions FROM sessions s WHERE ${RANGE}
    GROUP BY s.browser ORDER BY sessions DESC, ${d.bytewise('browser')}${d.nulls('ASC')} LIMIT ?`,
    goals: `SELECT c.goal AS goal, COUNT(DISTINCT c.session_id) AS sessions
    FROM sessions s JOIN conversions c ON c.session_id = s.id WHERE ${RANGE}
    GROUP BY c.goal ORDER BY sessions DESC, ${d.bytewise('goal')}${d.nulls('ASC')} LIMIT ?`,
  };
}

/** The overview as a store program (server/store/sql.ts): each engine runs it its own way. */
export function* overviewProgram(d: Dialect, q: OverviewQuery): Program<OverviewRows> {
  const sql = overviewSql(d);
  const range = [q.projectId, q.start, q.end];
  const top = [...range, q.limit];
  const totals = (yield* get(sql.totals, ...range)) as Omit<
    OverviewRows['totals'],
    'visits' | 'converted_sessions'
  >;
  const visits = ((yield* get(sql.visits, ...range)) as { visits: number }).visits;
  const converted = ((yield* get(sql.converted, ...range)) as { n: number }).n;
  return {
    totals: { ...totals, visits, converted_sessions: converted },
    per_day: yield* all<OverviewRows['per_day'][number]>(sql.perDay, ...range),
    top_pages: yield* all<OverviewRows['top_pages'][number]>(sql.topPages, ...top),
    entry_pages: yield* all<OverviewRows['entry_pages'][number]>(sql.entryPages, ...top),
    referrers: yield* all<OverviewRows['referrers'][number]>(sql.referrers, ...top),
    devices: yield* all<OverviewRows['devices'][number]>(sql.devices, ...top),
    browsers: yield* all<OverviewRows['browsers'][number]>(sql.browsers, ...top),
    goals: yield* all<OverviewRows['goals'][number]>(sql.goals, ...top),
  };
}
