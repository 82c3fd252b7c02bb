// All SQL lives here (STYLE.md 12): named methods, prepared statements, ordered migrations. Routes
// never write SQL; sort keys and filter fields reach SQL only through the whitelists below.
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ConversionRow, NamedEventRow, VisitRow as WireVisitRow } from '../../src/wire.js';
import type { BatchSummary } from '../ingest/check.js';
import type { InteractionSummary } from '../lib/irregular.js';
import { startCheckpointer } from './checkpointer.js';
import {
  hasSignals,
  type OverviewQuery,
  type OverviewRows,
  overviewRows,
  prefixFilterSql,
  SIGNAL_FILTERS,
  SIGNAL_SQL,
  SIGNALS_MIGRATION,
  type SignalFilter,
  signalFilterSql,
  signalParams,
} from './overview.js';
import { sharedOverviewPool } from './overview-pool.js';
import { createWriter, type WriterOptions } from './writer.js';

export interface Project {
  id: number;
  public_key: string;
  name: string;
  /** null: only the collector's own origin (same-origin pages). */
  allowed_origins: string[] | null;
}

export interface SessionRecord {
  id: number;
  project_id: number;
  browser: string | null;
  device: string | null;
  platform_os: string | null;
  country: string | null;
  ip_address: string | null;
  user_agent: string | null;
  entry_url: string | null;
  referrer: string | null;
  time_spend: number;
  tabs: number;
  read_status: 'read' | 'unread';
  external_id: string | null;
  created_at: string;
  updated_at: string;
  created_ms: number;
  last_activity_ms: number;
  /** Signal counts (server/store/overview.ts). */
  rage_clicks: number;
  dead_clicks: number;
  errors: number;
  failed_requests: number;
}

export interface NewSession {
  projectId: number;
  browser: string | null;
  device: string | null;
  platformOs: string | null;
  country: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  entryUrl: string | null;
  referrer: string | null;
  nowMs: number;
}

export interface IncomingEvent {
  type: number;
  data: unknown;
  timestamp: number;
}

export interface NewBatch {
  /** SHA-256 of the decompressed body: the same body twice is stored once. */
  hash: Buffer;
  sessionId: number;
  tab: number;
  /** What the ingest worker read from the body (server/ingest/check.ts). */
  summary: BatchSummary;
  /** The /track body, gzip-compressed (as it arrived, or compressed off the event loop): kept for replay. */
  body: Buffer;
  nowMs: number;
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

export const FILTER_KEYS = [
  'browser',
  'device',
  'platform_os',
  'country',
  'url',
  'min_time_spend',
  'has_conversions',
  ...(Object.keys(SIGNAL_FILTERS) as SignalFilter[]),
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface SessionFilters {
  browser?: string[];
  device?: string[];
  platform_os?: string[];
  country?: string[];
  /** entry URL contains */
  url?: string;
  min_time_spend?: number;
  has_conversions?: boolean;
  has_rage_clicks?: boolean;
  has_dead_clicks?: boolean;
  has_errors?: boolean;
  has_failed_requests?: boolean;
}

export interface SessionQuery {
  projectId: number;
  start: string;
  end: string;
  sortKey: SortKey;
  sortOrder: 'asc' | 'desc';
  readStatus: 'read' | 'unread' | null;
  filters: SessionFilters;
  limit: number;
  offset: number;
}

export interface SessionListRow extends SessionRecord {
  visits_count: number;
  conversions_count: number;
}

/** A visit as get-visits answers it, less the vitals it joins in (docs/contract.md, "Session visits"). */
export type VisitRow = Omit<WireVisitRow, 'vitals'>;

export interface VitalRow {
  id: number;
  visit_id: number | null;
  session_id: number;
  name: string;
  value: number;
  rating: string | null;
  delta: number | null;
  metric_id: string | null;
  navigation_type: string | null;
  created_at: string;
}

/** A conversion row is the wire's, as stored. */
export type { ConversionRow };

export interface RelatedQuery {
  sessionIds: number[];
  start: string | null;
  end: string | null;
  /** visits: only these visit ids; conversions: only these types */
  only: (number | string)[] | null;
}

const SORT_COLUMNS: Record<SortKey, string> = {
  id: 's.id',
  browser: 's.browser',
  device: 's.device',
  platform_os: 's.platform_os',
  country: 's.country',
  time_spend: 's.time_spend',
  created_at: 's.created_at',
};

const MIGRATIONS: string[] = [
  `CREATE TABLE projects (
     id INTEGER PRIMARY KEY,
     public_key TEXT NOT NULL UNIQUE,
     api_token TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     allowed_origins TEXT,
     created_at TEXT NOT NULL
   );
   CREATE TABLE sessions (
     id INTEGER PRIMARY KEY,
     project_id INTEGER NOT NULL REFERENCES projects(id),
     browser TEXT, device TEXT, platform_os TEXT, country TEXT,
     ip_address TEXT, user_agent TEXT, entry_url TEXT, referrer TEXT,
     time_spend REAL NOT NULL DEFAULT 0,
     tabs INTEGER NOT NULL DEFAULT 1,
     read_status TEXT NOT NULL DEFAULT 'unread',
     external_id TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     last_activity_ms INTEGER NOT NULL
   );
   CREATE INDEX sessions_project_created ON sessions(project_id, created_at);
   CREATE TABLE visits (
     id INTEGER PRIMARY KEY,
     session_id INTEGER NOT NULL REFERENCES sessions(id),
     tab INTEGER NOT NULL,
     url TEXT, title TEXT, referrer TEXT, navigation TEXT,
     time_spend REAL NOT NULL DEFAULT 0,
     started_ts INTEGER NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE INDEX visits_session_tab ON visits(session_id, tab, started_ts);
   CREATE TABLE batches (
     id INTEGER PRIMARY KEY,
     session_id INTEGER NOT NULL REFERENCES sessions(id),
     tab INTEGER NOT NULL,
     visit_id INTEGER REFERENCES visits(id),
     first_ts INTEGER, last_ts INTEGER,
     event_count INTEGER NOT NULL,
     timer REAL,
     events BLOB NOT NULL,
     interaction_count INTEGER NOT NULL,
     input_times TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE INDEX batches_session_tab ON batches(session_id, tab, first_ts);
   CREATE INDEX batches_visit ON batches(visit_id);
   CREATE TABLE batch_hashes (hash BLOB PRIMARY KEY, batch_id INTEGER) WITHOUT ROWID;
   CREATE TABLE conversions (
     id INTEGER PRIMARY KEY,
     session_id INTEGER NOT NULL REFERENCES sessions(id),
     tab INTEGER NOT NULL,
     visit_id INTEGER REFERENCES visits(id),
     type TEXT NOT NULL, goal TEXT, target TEXT,
     ts INTEGER NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE INDEX conversions_session ON conversions(session_id, tab, ts);
   CREATE TABLE vitals (
     id INTEGER PRIMARY KEY,
     session_id INTEGER NOT NULL REFERENCES sessions(id),
     tab INTEGER NOT NULL,
     visit_id INTEGER REFERENCES visits(id),
     name TEXT NOT NULL, value REAL NOT NULL, rating TEXT, delta REAL,
     metric_id TEXT, navigation_type TEXT,
     ts INTEGER NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE INDEX vitals_session ON vitals(session_id, tab, ts);
   CREATE TABLE named_events (
     id INTEGER PRIMARY KEY,
     session_id INTEGER NOT NULL REFERENCES sessions(id),
     tab INTEGER NOT NULL,
     visit_id INTEGER REFERENCES visits(id),
     name TEXT NOT NULL, parameters TEXT,
     ts INTEGER NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE INDEX named_events_session ON named_events(session_id, tab, ts);`,
  // get-visits reads the vitals of the visits it lists: without this, every call scanned all vitals.
  // The sessions list filters and sorts on these columns after its project and date range: with them in
  // the index, counting and choosing a page read the index alone, and only the page's rows are read
  // from the table. It replaces (project_id, created_at), its prefix. time_spend changes with every
  // batch, which costs /track one index entry moved within a page; the other columns are set once.
  // Batches stored from here on keep the whole gzip body as received (see server/read/page.ts).
  `CREATE INDEX vitals_visit ON vitals(visit_id);
   CREATE INDEX sessions_project_created_filters ON sessions(project_id, created_at, read_status, browser,
     device, platform_os, country, time_spend);
   DROP INDEX sessions_project_created;`,
  // Before timers were bounded (at most the session's maximum age, docs/contract.md "Limits"), a visitor
  // could store Infinity as time spent, which sorted first and passed every min_time_spend filter.
  `UPDATE batches SET timer = NULL WHERE NOT (timer BETWEEN 0 AND 86400);
   UPDATE visits SET time_spend = COALESCE((SELECT MAX(timer) FROM batches b WHERE b.visit_id = visits.id), 0)
     WHERE NOT (time_spend BETWEEN 0 AND 86400);
   UPDATE sessions SET time_spend = COALESCE((SELECT SUM(time_spend) FROM visits v WHERE v.session_id = sessions.id), 0)
     WHERE NOT (time_spend BETWEEN 0 AND 1e9);`,
  // API tokens are kept as their SHA-256 only ("tokenHash" below); the column keeps its UNIQUE index,
  // which every read request looks the hash up in. Dashboard sign-ins are server-side sessions, kept as
  // the hash of the cookie's value, so that a copy of the database signs no one in.
  `ALTER TABLE projects RENAME COLUMN api_token TO api_token_hash;
   UPDATE projects SET api_token_hash = spoor_sha256(api_token_hash);
   CREATE TABLE dashboard_sessions (
     token_hash TEXT PRIMARY KEY,
     project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
     via TEXT NOT NULL CHECK (via IN ('password', 'token', 'auto')),
     csrf_token TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     expires_ms INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX dashboard_sessions_project ON dashboard_sessions(project_id);
   CREATE INDEX dashboard_sessions_expires ON dashboard_sessions(expires_ms);`,
  // Erasure finds a visitor's sessions by the id given to identify(), and a deleted batch's hash by its
  // batch: without these, both read a whole table (docs/contract.md, "Retention and erasure").
  `CREATE INDEX sessions_external_id ON sessions(project_id, external_id) WHERE external_id IS NOT NULL;
   CREATE INDEX batch_hashes_batch ON batch_hashes(batch_id);`,
  // Frustration and failure signal counts per batch, visit and session (server/store/overview.ts).
  SIGNALS_MIGRATION,
];

/**
 * Hex SHA-256 of a secret that is only ever compared: API tokens and session cookies. They are 32
 * random bytes, so a fast unsalted hash is enough: no dictionary or brute force reaches 2^256, and the
 * lookup by hash needs no per-row salt. (The admin password, chosen by a person, is scrypt-hashed
 * instead: server/crypto/password.ts.)
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A dashboard sign-in, as the read routes see it. */
export interface DashboardSession {
  projectId: number;
  via: 'password' | 'token' | 'auto';
  csrfToken: string;
  expiresMs: number;
}

/** Rows deleted with a project, per table. */
export type DeletedCounts = Record<string, number>;

/** Tables holding a session's rows, children first: each is emptied before the row it points to. */
const SESSION_TABLES = ['batches', 'conversions', 'vitals', 'named_events', 'visits'] as const;

/** `YYYY-MM-DD HH:MM:SS` in UTC, the contract's date-time format. */
export function sqlDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A stored batch's place in the order get-events pages through: (tab, first_ts, id). */
export interface BatchKey {
  tab: number;
  firstTs: number;
  id: number;
}

/** A stored batch that holds events, without its blob. */
export interface EventBatch extends BatchKey {
  /** Bytes of the stored (compressed) blob. */
  bytes: number;
}

/** A named event as get-events answers it (docs/contract.md, "Session events"). */
export type { NamedEventRow };

/** Stored parameters are JSON text; rows written before their size was bounded may be cut short. */
function parseParameters(text: string | null): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}

export type Store = ReturnType<typeof openStore>;

export interface StoreOptions {
  /** How /track writes are grouped into transactions (server/store/writer.ts); tests take over the timing. */
  writer?: WriterOptions;
  /** Milliseconds between WAL checkpoints (server/store/checkpointer.ts). @default 1000 */
  checkpointIntervalMs?: number;
  /** Where a failed checkpointer is reported. */
  logError?: (message: string, error: unknown) => void;
}

/**
 * Creates the database file (and its folder) readable by the owner only before SQLite opens it: it
 * holds the recordings and each project's Flameup key (which the relay must send, so it cannot be
 * hashed; API tokens and sign-ins are kept hashed). The chmod states the mode whatever the umask, and fixes a file an
 * older version created with SQLite's default 0644.
 */
function ownerOnlyFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // 'a' creates the file if missing and never truncates one that exists; SQLite takes an empty file
  // for a new database.
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

export function openStore(file: string, options: StoreOptions = {}) {
  if (file !== ':memory:') ownerOnlyFile(file);
  const db = new Database(file);
  // A memory database has no WAL (the pragma answers 'memory').
  const wal = db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
  // SQLite creates -wal and -shm with the database file's mode; one left by an older version keeps
  // its own, so both are set now that the WAL is open.
  if (wal) {
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
    }
  }
  // FULL: a commit is on disk before its request is answered, even across a power cut, not only a
  // crash. /track's group commits keep that promise with one fsync per group (server/store/writer.ts).
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // SQLite's defaults (a 2 MB page cache, reads through read()) are sized for small devices: on a
  // database of a million sessions the read endpoints re-read the same index pages from the OS.
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
  // Sorts and DISTINCTs that need a temporary B-tree build it in memory, not in a temporary file.
  db.pragma('temp_store = MEMORY');
  // After a checkpoint has emptied the WAL, a WAL grown past this is truncated back (bytes).
  db.pragma('journal_size_limit = 67108864');

  const version = db.pragma('user_version', { simple: true }) as number;
  // Used by the migration that hashes stored API tokens.
  db.function('spoor_sha256', { deterministic: true }, (value: unknown) => tokenHash(String(value)));
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }

  const writer = createWriter(db, wal ? `${file}-wal` : null, options.writer);
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  // Checkpoints move to a worker thread, off the request path (server/store/checkpointer.ts).
  let checkpointer: ReturnType<typeof startCheckpointer> | null = null;
  if (wal) {
    db.pragma('wal_autocheckpoint = 0');
    checkpointer = startCheckpointer(file, {
      ...(options.checkpointIntervalMs !== undefined ? { intervalMs: options.checkpointIntervalMs } : {}),
      onError: (error) => {
        logError('WAL checkpointer failed; checkpointing in commits again', error);
        // Back to SQLite's own automatic checkpoint, so the WAL cannot grow without bound.
        if (db.open) db.pragma('wal_autocheckpoint = 1000');
      },
    });
  }

  // Statements built from whitelisted fragments are prepared once per distinct SQL text.
  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };

  const toProject = (row: Record<string, unknown> | undefined): Project | undefined =>
    row
      ? {
          id: row.id as number,
          public_key: row.public_key as string,
          name: row.name as string,
          allowed_origins: row.allowed_origins
            ? (JSON.parse(row.allowed_origins as string) as string[])
            : null,
        }
      : undefined;

  const latestVisitAt = (sessionId: number, tab: number, ts: number): number | null => {
    const row = stmt(
      'SELECT id FROM visits WHERE session_id = ? AND tab = ? AND started_ts <= ? ORDER BY started_ts DESC, id DESC LIMIT 1',
    ).get(sessionId, tab, ts) as { id: number } | undefined;
    return row?.id ?? null;
  };

  const latestVisit = (sessionId: number, tab: number): number | null => {
    const row = stmt(
      'SELECT id FROM visits WHERE session_id = ? AND tab = ? ORDER BY started_ts DESC, id DESC LIMIT 1',
    ).get(sessionId, tab) as { id: number } | undefined;
    return row?.id ?? null;
  };

  /** A visit that arrives after later batches of its tab (a retried batch) claims them back. */
  const claimForVisit = (visitId: number, sessionId: number, tab: number, startedTs: number): Set<number> => {
    const next = stmt(
      'SELECT MIN(started_ts) AS t FROM visits WHERE session_id = ? AND tab = ? AND started_ts > ?',
    ).get(sessionId, tab, startedTs) as { t: number | null };
    const end = next.t ?? Number.MAX_SAFE_INTEGER;
    const touched = new Set<number>([visitId]);
    const previous = stmt(
      `SELECT DISTINCT visit_id FROM batches WHERE session_id = ? AND tab = ? AND first_ts >= ? AND first_ts < ?
         AND visit_id IS NOT NULL AND visit_id != ?`,
    ).all(sessionId, tab, startedTs, end, visitId) as { visit_id: number }[];
    for (const p of previous) touched.add(p.visit_id);
    stmt(
      'UPDATE batches SET visit_id = ? WHERE session_id = ? AND tab = ? AND first_ts >= ? AND first_ts < ?',
    ).run(visitId, sessionId, tab, startedTs, end);
    for (const table of ['conversions', 'vitals', 'named_events']) {
      stmt(`UPDATE ${table} SET visit_id = ? WHERE session_id = ? AND tab = ? AND ts >= ? AND ts < ?`).run(
        visitId,
        sessionId,
        tab,
        startedTs,
        end,
      );
    }
    return touched;
  };

  const insertBatchTx = db.transaction((b: NewBatch): { duplicate: boolean; batchId: number | null } => {
    const claimed = stmt('INSERT OR IGNORE INTO batch_hashes (hash) VALUES (?)').run(b.hash);
    if (claimed.changes === 0) return { duplicate: true, batchId: null };
    const now = sqlDate(b.nowMs);
    const touched = new Set<number>();

    const { summary } = b;
    // Visits first: the batch that opens a visit starts with its visit event (docs/contract.md, "Events").
    for (const row of summary.custom) {
      if (row.tag !== 'visit') continue;
      const info = stmt(
        `INSERT INTO visits (session_id, tab, url, title, referrer, navigation, started_ts, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(b.sessionId, b.tab, row.url, row.title, row.referrer, row.navigation, row.ts, now);
      for (const id of claimForVisit(Number(info.lastInsertRowid), b.sessionId, b.tab, row.ts))
        touched.add(id);
    }

    const first = summary.firstTs;
    const visitId =
      first === null ? latestVisit(b.sessionId, b.tab) : latestVisitAt(b.sessionId, b.tab, first);

    const batch = stmt(
      `INSERT INTO batches (session_id, tab, visit_id, first_ts, last_ts, event_count, timer, events,
         interaction_count, input_times, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      b.sessionId,
      b.tab,
      visitId,
      first,
      summary.lastTs,
      summary.eventCount,
      summary.timer,
      b.body,
      summary.interactionCount,
      JSON.stringify(summary.inputTimes),
      now,
    );
    const batchId = Number(batch.lastInsertRowid);
    stmt('UPDATE batch_hashes SET batch_id = ? WHERE hash = ?').run(batchId, b.hash);
    // Signal counts (server/store/overview.ts): the batch's, added to its visit and its session.
    const signals = summary.signals;
    if (hasSignals(signals)) {
      stmt(SIGNAL_SQL.batch).run(...signalParams(signals), batchId);
      if (visitId !== null && !touched.has(visitId)) {
        stmt(SIGNAL_SQL.addToVisit).run(...signalParams(signals), visitId);
      }
      stmt(SIGNAL_SQL.addToSession).run(...signalParams(signals), b.sessionId);
    }

    // Custom events of the known tags get their own rows so that reads never decompress batches.
    for (const row of summary.custom) {
      if (row.tag === 'visit') continue;
      if (row.tag === 'identify') {
        stmt('UPDATE sessions SET external_id = ? WHERE id = ?').run(row.externalId, b.sessionId);
        continue;
      }
      const at = latestVisitAt(b.sessionId, b.tab, row.ts);
      switch (row.tag) {
        case 'conversion':
          stmt(
            `INSERT INTO conversions (session_id, tab, visit_id, type, goal, target, ts, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(b.sessionId, b.tab, at, row.type, row.goal, row.target, row.ts, now);
          break;
        case 'web-vital':
          stmt(
            `INSERT INTO vitals (session_id, tab, visit_id, name, value, rating, delta, metric_id, navigation_type, ts, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            b.sessionId,
            b.tab,
            at,
            row.name,
            row.value,
            row.rating,
            row.delta,
            row.metricId,
            row.navigationType,
            row.ts,
            now,
          );
          break;
        case 'event':
          stmt(
            `INSERT INTO named_events (session_id, tab, visit_id, name, parameters, ts, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          ).run(b.sessionId, b.tab, at, row.name, row.parameters, row.ts, now);
          break;
      }
    }

    // A visit's time_spend is the largest timer seen for it; a session's is the sum over its visits.
    // Visits that gained or lost batches to a new visit are recounted from their batches; the batch's
    // own visit otherwise only needs the new timer folded in (recounting it read every batch of the
    // visit, on every batch).
    for (const id of touched) {
      stmt(
        'UPDATE visits SET time_spend = COALESCE((SELECT MAX(timer) FROM batches WHERE visit_id = ?), 0) WHERE id = ?',
      ).run(id, id);
      stmt(SIGNAL_SQL.recountVisit).run(id, id, id, id, id);
    }
    if (visitId !== null && !touched.has(visitId) && summary.timer !== null) {
      stmt('UPDATE visits SET time_spend = MAX(time_spend, ?) WHERE id = ?').run(summary.timer, visitId);
    }
    stmt(
      `UPDATE sessions SET
         time_spend = COALESCE((SELECT SUM(time_spend) FROM visits WHERE session_id = ?), 0),
         updated_at = ?, last_activity_ms = MAX(last_activity_ms, ?),
         user_agent = COALESCE(user_agent, ?)
       WHERE id = ?`,
    ).run(b.sessionId, now, b.nowMs, summary.userAgent, b.sessionId);
    return { duplicate: false, batchId };
  });

  const sessionWhere = (q: SessionQuery): { sql: string; params: unknown[] } => {
    const parts = ['s.project_id = ?', 's.created_at >= ?', 's.created_at <= ?'];
    const params: unknown[] = [q.projectId, q.start, q.end];
    if (q.readStatus) {
      parts.push('s.read_status = ?');
      params.push(q.readStatus);
    }
    const f = q.filters;
    if (f.device && f.device.length > 0) {
      parts.push(`s.device IN (${f.device.map(() => '?').join(', ')})`);
      params.push(...f.device);
    }
    for (const key of ['browser', 'platform_os', 'country'] as const) {
      const values = f[key];
      if (!values || values.length === 0) continue;
      // `key` comes from the fixed tuple above, never from the request.
      const prefix = prefixFilterSql(key, values);
      parts.push(prefix.sql);
      params.push(...prefix.params);
    }
    for (const key of Object.keys(SIGNAL_FILTERS) as SignalFilter[]) {
      const has = f[key];
      if (has !== undefined) parts.push(signalFilterSql(key, has));
    }
    if (f.url !== undefined && f.url !== '') {
      parts.push("s.entry_url LIKE ? ESCAPE '\\'");
      params.push(`%${f.url.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    if (f.min_time_spend !== undefined) {
      parts.push('s.time_spend >= ?');
      params.push(f.min_time_spend);
    }
    if (f.has_conversions !== undefined) {
      parts.push(
        `${f.has_conversions ? '' : 'NOT '}EXISTS (SELECT 1 FROM conversions c WHERE c.session_id = s.id)`,
      );
    }
    return { sql: parts.join(' AND '), params };
  };

  const relatedWhere = (q: RelatedQuery, alias: string, onlyColumn: string) => {
    const parts = [`${alias}.session_id IN (${q.sessionIds.map(() => '?').join(', ')})`];
    const params: unknown[] = [...q.sessionIds];
    if (q.start) {
      parts.push(`${alias}.created_at >= ?`);
      params.push(q.start);
    }
    if (q.end) {
      parts.push(`${alias}.created_at <= ?`);
      params.push(q.end);
    }
    if (q.only && q.only.length > 0) {
      parts.push(`${alias}.${onlyColumn} IN (${q.only.map(() => '?').join(', ')})`);
      params.push(...q.only);
    }
    return { sql: parts.join(' AND '), params };
  };

  return {
    /**
     * Commits the writes still queued, closes the database, and resolves once the checkpointer's
     * connection is closed too (the last connection to close checkpoints the WAL into the file).
     */
    async close(): Promise<void> {
      if (db.open) {
        writer.drain();
        db.close();
      }
      await Promise.all([writer.close(), checkpointer?.stop()]);
    },

    /** The database handle, for the one other store module with tables of its own (flameup-store.ts). */
    db,

    /** Creates the project or updates its token and origins; keyed by the public key. */
    ensureProject(p: {
      publicKey: string;
      apiToken: string;
      name: string;
      allowedOrigins: string[] | null;
    }): Project {
      stmt(
        `INSERT INTO projects (public_key, api_token_hash, name, allowed_origins, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(public_key) DO UPDATE SET api_token_hash = excluded.api_token_hash, name = excluded.name,
           allowed_origins = excluded.allowed_origins`,
      ).run(
        p.publicKey,
        tokenHash(p.apiToken),
        p.name,
        p.allowedOrigins ? JSON.stringify(p.allowedOrigins) : null,
        sqlDate(Date.now()),
      );
      return this.projectByKey(p.publicKey) as Project;
    },

    /** Replaces a project's API token (kept hashed) and ends the dashboard sign-ins made with the old one. */
    setProjectToken(projectId: number, apiToken: string): void {
      db.transaction(() => {
        stmt('UPDATE projects SET api_token_hash = ? WHERE id = ?').run(tokenHash(apiToken), projectId);
        stmt("DELETE FROM dashboard_sessions WHERE project_id = ? AND via = 'token'").run(projectId);
      })();
    },

    setProjectOrigins(projectId: number, allowedOrigins: string[] | null): void {
      stmt('UPDATE projects SET allowed_origins = ? WHERE id = ?').run(
        allowedOrigins ? JSON.stringify(allowedOrigins) : null,
        projectId,
      );
    },

    /**
     * Deletes a project and everything recorded for it, in one transaction. Tables of other store
     * modules (the Flameup queue) are emptied by their own module first.
     */
    deleteProject(projectId: number): DeletedCounts {
      const sessions = 'SELECT id FROM sessions WHERE project_id = ?';
      const counts: DeletedCounts = {};
      db.transaction(() => {
        counts.batch_hashes = stmt(
          `DELETE FROM batch_hashes WHERE batch_id IN (SELECT id FROM batches WHERE session_id IN (${sessions}))`,
        ).run(projectId).changes;
        for (const table of ['named_events', 'vitals', 'conversions', 'batches', 'visits']) {
          counts[table] = stmt(`DELETE FROM ${table} WHERE session_id IN (${sessions})`).run(
            projectId,
          ).changes;
        }
        counts.sessions = stmt('DELETE FROM sessions WHERE project_id = ?').run(projectId).changes;
        counts.dashboard_sessions = stmt('DELETE FROM dashboard_sessions WHERE project_id = ?').run(
          projectId,
        ).changes;
        counts.projects = stmt('DELETE FROM projects WHERE id = ?').run(projectId).changes;
      })();
      return counts;
    },

    /** The ids of a project's sessions (to delete what other store modules keep of them). */
    sessionIdsOf(projectId: number): number[] {
      return stmt('SELECT id FROM sessions WHERE project_id = ?').pluck().all(projectId) as number[];
    },

    /** Sessions recorded per project (the admin command's list). */
    sessionCounts(): Map<number, number> {
      const rows = stmt('SELECT project_id, COUNT(*) AS n FROM sessions GROUP BY project_id').all() as {
        project_id: number;
        n: number;
      }[];
      return new Map(rows.map((r) => [r.project_id, r.n]));
    },

    /** Stores a dashboard sign-in under the hash of its cookie value; forgets expired ones on the way. */
    createDashboardSession(
      cookieValue: string,
      s: { projectId: number; via: DashboardSession['via']; csrfToken: string; nowMs: number; ttlMs: number },
    ): void {
      stmt('DELETE FROM dashboard_sessions WHERE expires_ms <= ?').run(s.nowMs);
      stmt(
        `INSERT INTO dashboard_sessions (token_hash, project_id, via, csrf_token, created_ms, expires_ms)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(tokenHash(cookieValue), s.projectId, s.via, s.csrfToken, s.nowMs, s.nowMs + s.ttlMs);
    },

    /** The live sign-in a cookie value names, or undefined (unknown or expired). */
    dashboardSession(cookieValue: string, nowMs: number): DashboardSession | undefined {
      const row = stmt(
        `SELECT project_id, via, csrf_token, expires_ms FROM dashboard_sessions
         WHERE token_hash = ? AND expires_ms > ?`,
      ).get(tokenHash(cookieValue), nowMs) as
        | { project_id: number; via: DashboardSession['via']; csrf_token: string; expires_ms: number }
        | undefined;
      return row
        ? { projectId: row.project_id, via: row.via, csrfToken: row.csrf_token, expiresMs: row.expires_ms }
        : undefined;
    },

    deleteDashboardSession(cookieValue: string): void {
      stmt('DELETE FROM dashboard_sessions WHERE token_hash = ?').run(tokenHash(cookieValue));
    },

    projectByKey(publicKey: string): Project | undefined {
      return toProject(
        stmt('SELECT * FROM projects WHERE public_key = ?').get(publicKey) as Record<string, unknown>,
      );
    },

    projectById(id: number): Project | undefined {
      return toProject(stmt('SELECT * FROM projects WHERE id = ?').get(id) as Record<string, unknown>);
    },

    projectByToken(token: string): Project | undefined {
      return toProject(
        stmt('SELECT * FROM projects WHERE api_token_hash = ?').get(tokenHash(token)) as Record<
          string,
          unknown
        >,
      );
    },

    projects(): Project[] {
      return (stmt('SELECT * FROM projects ORDER BY id').all() as Record<string, unknown>[]).map(
        (r) => toProject(r) as Project,
      );
    },

    createSession(s: NewSession): SessionRecord {
      const now = sqlDate(s.nowMs);
      const info = stmt(
        `INSERT INTO sessions (project_id, browser, device, platform_os, country, ip_address, user_agent, entry_url,
           referrer, created_at, updated_at, created_ms, last_activity_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        s.projectId,
        s.browser,
        s.device,
        s.platformOs,
        s.country,
        s.ipAddress,
        s.userAgent,
        s.entryUrl,
        s.referrer,
        now,
        now,
        s.nowMs,
        s.nowMs,
      );
      return this.sessionById(Number(info.lastInsertRowid)) as SessionRecord;
    },

    /** Opens another tab of a session: its number, counted from 1. */
    openTab(sessionId: number, nowMs: number): number {
      const row = stmt(
        `UPDATE sessions SET tabs = tabs + 1, last_activity_ms = MAX(last_activity_ms, ?), updated_at = ?
         WHERE id = ? RETURNING tabs`,
      ).get(nowMs, sqlDate(nowMs), sessionId) as { tabs: number };
      return row.tabs;
    },

    sessionById(id: number): SessionRecord | undefined {
      return stmt('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRecord | undefined;
    },

    /** Project of each existing session among `ids`. */
    sessionProjects(ids: number[]): Map<number, number> {
      const out = new Map<number, number>();
      if (ids.length === 0) return out;
      const rows = stmt(
        `SELECT id, project_id FROM sessions WHERE id IN (${ids.map(() => '?').join(', ')})`,
      ).all(...ids) as { id: number; project_id: number }[];
      for (const r of rows) out.set(r.id, r.project_id);
      return out;
    },

    /** Whether this body (by its hash) is already stored. */
    hasBatch(hash: Buffer): boolean {
      return stmt('SELECT 1 FROM batch_hashes WHERE hash = ?').get(hash) !== undefined;
    },

    /**
     * Stores one /track body (in a savepoint when inside `write`). Outside `write` it is a transaction
     * of its own, committed when this returns.
     */
    insertBatch(b: NewBatch): { duplicate: boolean; batchId: number | null } {
      return insertBatchTx(b);
    },

    /**
     * Runs `work` (synchronous, writing through this store's methods) in the next group commit, in a
     * savepoint of its own; resolves once the group is durably committed (server/store/writer.ts).
     */
    write<T>(work: () => T): Promise<T> {
      return writer.run(work);
    },

    /**
     * Resolves once every group committed so far is durable. A row a group wrote is visible as soon
     * as the group commits, a moment before its fsync: wait for this before answering on its strength.
     */
    durable(): Promise<void> {
      return writer.durable();
    },

    /** Writes queued for the next group commit. */
    get pendingWrites(): number {
      return writer.pending;
    },

    /** Group commits so far. */
    get commitGroups(): number {
      return writer.groups;
    },

    listSessions(q: SessionQuery): { rows: SessionListRow[]; total: number } {
      const where = sessionWhere(q);
      const total = (
        stmt(`SELECT COUNT(*) AS n FROM sessions s WHERE ${where.sql}`).get(...where.params) as { n: number }
      ).n;
      const dir = q.sortOrder === 'asc' ? 'ASC' : 'DESC';
      const column = SORT_COLUMNS[q.sortKey];
      const order = `${column} ${dir}, s.id ${dir}`;
      // The page is chosen on the index alone (sessions_project_created_filters covers the filters and
      // sort keys but the URL and conversions); the table and the counts are read for its rows only.
      const rows = stmt(
        `SELECT s.*,
           (SELECT COUNT(*) FROM visits v WHERE v.session_id = s.id) AS visits_count,
           (SELECT COUNT(*) FROM conversions c WHERE c.session_id = s.id) AS conversions_count
         FROM sessions s WHERE s.id IN (
           SELECT s.id FROM sessions s WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?
         ) ORDER BY ${order}`,
      ).all(...where.params, q.limit, q.offset) as SessionListRow[];
      return { rows, total };
    },

    /**
     * The dashboard's overview of the sessions created within a range (server/store/overview.ts). Its
     * work grows with the sessions in the range, so a database file is read by a worker thread with a
     * connection of its own (overview-worker.ts); only a memory database is read here.
     */
    async overview(q: OverviewQuery): Promise<OverviewRows> {
      if (file === ':memory:') return overviewRows(stmt, q);
      return sharedOverviewPool().run({ file, query: q });
    },

    visits(q: RelatedQuery): VisitRow[] {
      const where = relatedWhere(q, 'v', 'id');
      return stmt(
        `SELECT v.id, v.session_id, v.tab, v.url, v.title, v.referrer, v.navigation, v.time_spend,
           v.started_ts AS started_at, v.created_at, v.rage_clicks, v.dead_clicks, v.errors, v.failed_requests
         FROM visits v WHERE ${where.sql} ORDER BY v.session_id, v.started_ts, v.id`,
      ).all(...where.params) as VisitRow[];
    },

    countVisits(q: RelatedQuery): number {
      const where = relatedWhere(q, 'v', 'id');
      return (
        stmt(`SELECT COUNT(*) AS n FROM visits v WHERE ${where.sql}`).get(...where.params) as { n: number }
      ).n;
    },

    vitalsOfVisits(visitIds: number[]): VitalRow[] {
      if (visitIds.length === 0) return [];
      return stmt(
        `SELECT id, visit_id, session_id, name, value, rating, delta, metric_id, navigation_type, created_at
         FROM vitals WHERE visit_id IN (${visitIds.map(() => '?').join(', ')}) ORDER BY ts, id`,
      ).all(...visitIds) as VitalRow[];
    },

    conversions(q: RelatedQuery): ConversionRow[] {
      const where = relatedWhere(q, 'c', 'type');
      return stmt(
        `SELECT c.id, c.session_id, c.visit_id, c.type, c.goal, c.target, c.created_at
         FROM conversions c WHERE ${where.sql} ORDER BY c.session_id, c.ts, c.id`,
      ).all(...where.params) as ConversionRow[];
    },

    countConversions(q: RelatedQuery): number {
      const where = relatedWhere(q, 'c', 'type');
      return (
        stmt(`SELECT COUNT(*) AS n FROM conversions c WHERE ${where.sql}`).get(...where.params) as {
          n: number;
        }
      ).n;
    },

    /**
     * The session's first named events in time order (of one tab when given): at most `limit`, and
     * no more once their names and parameters reach `maxChars`, so that reading them stays bounded
     * whatever a session holds. Rows are read one at a time and the reading stops there.
     */
    namedEvents(
      sessionId: number,
      opts: { tab?: number | null; limit?: number; maxChars?: number } = {},
    ): NamedEventRow[] {
      const limit = opts.limit ?? 1000;
      const maxChars = opts.maxChars ?? 1024 * 1024;
      const byTab = opts.tab !== undefined && opts.tab !== null;
      const rows = stmt(
        `SELECT id, tab, visit_id, name, parameters, ts AS timestamp, created_at FROM named_events
         WHERE session_id = ?${byTab ? ' AND tab = ?' : ''} ORDER BY ts, id LIMIT ?`,
      ).iterate(...(byTab ? [sessionId, opts.tab, limit] : [sessionId, limit])) as IterableIterator<
        Omit<NamedEventRow, 'parameters'> & { parameters: string | null }
      >;
      const out: NamedEventRow[] = [];
      let chars = 0;
      for (const r of rows) {
        out.push({ ...r, parameters: parseParameters(r.parameters) });
        chars += r.name.length + (r.parameters?.length ?? 0);
        // Leaving the loop closes the statement's cursor (the iterator's return()).
        if (chars >= maxChars) break;
      }
      return out;
    },

    /**
     * Batches of the session that hold events (of one tab when given), in (tab, first_ts, id) order,
     * after `after` when given: at most `limit`, without their blobs (`batchBlob` reads one).
     */
    eventBatches(sessionId: number, tab: number | null, after: BatchKey | null, limit: number): EventBatch[] {
      const sql = `SELECT id, tab, first_ts AS firstTs, length(events) AS bytes FROM batches
         WHERE session_id = ? AND event_count > 0 AND first_ts IS NOT NULL${tab !== null ? ' AND tab = ?' : ''}${
           after ? ' AND (tab, first_ts, id) > (?, ?, ?)' : ''
         } ORDER BY tab, first_ts, id LIMIT ?`;
      const params: unknown[] = [sessionId];
      if (tab !== null) params.push(tab);
      if (after) params.push(after.tab, after.firstTs, after.id);
      params.push(limit);
      return stmt(sql).all(...params) as EventBatch[];
    },

    /** The stored blob of one batch (server/read/page.ts reads both of its forms). */
    batchBlob(batchId: number): Buffer | undefined {
      return (stmt('SELECT events FROM batches WHERE id = ?').get(batchId) as { events: Buffer } | undefined)
        ?.events;
    },

    markRead(sessionId: number): void {
      stmt("UPDATE sessions SET read_status = 'read' WHERE id = ?").run(sessionId);
    },

    interactionSummary(sessionId: number): InteractionSummary {
      const s = stmt('SELECT user_agent FROM sessions WHERE id = ?').get(sessionId) as
        | { user_agent: string | null }
        | undefined;
      const rows = stmt(
        'SELECT interaction_count, input_times FROM batches WHERE session_id = ? ORDER BY first_ts, id',
      ).all(sessionId) as { interaction_count: number; input_times: string }[];
      let interactionCount = 0;
      const inputTimes: number[] = [];
      for (const r of rows) {
        interactionCount += r.interaction_count;
        inputTimes.push(...(JSON.parse(r.input_times) as number[]));
      }
      inputTimes.sort((a, b) => a - b);
      return { userAgent: s?.user_agent ?? null, interactionCount, inputTimes };
    },

    /**
     * EXPLAIN QUERY PLAN of every statement prepared so far (parameters bound to null), for tests and
     * diagnostics: which index each query uses, and whether one scans a whole table.
     */
    queryPlans(): { sql: string; plan: string[] }[] {
      return [...cache.keys()].map((sql) => {
        // A '?' inside a string literal (the overview's URL expressions) is text, not a parameter.
        const params = new Array<null>((sql.replace(/'[^']*'/g, '').match(/\?/g) ?? []).length).fill(null);
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
        return { sql, plan: rows.map((r) => r.detail) };
      });
    },

    /** Sessions of the project created before `before` (ms), oldest first: at most `limit` ids. */
    sessionsCreatedBefore(projectId: number, beforeMs: number, limit: number): number[] {
      return (
        stmt(
          'SELECT id FROM sessions WHERE project_id = ? AND created_at < ? ORDER BY created_at, id LIMIT ?',
        ).all(projectId, sqlDate(beforeMs), limit) as { id: number }[]
      ).map((r) => r.id);
    },

    /** Sessions of the project that identify() gave this external id: at most `limit` ids. */
    sessionsByExternalId(projectId: number, externalId: string, limit: number): number[] {
      return (
        stmt('SELECT id FROM sessions WHERE project_id = ? AND external_id = ? ORDER BY id LIMIT ?').all(
          projectId,
          externalId,
          limit,
        ) as { id: number }[]
      ).map((r) => r.id);
    },

    /**
     * Deletes at most `budget` rows attached to the session (batches with their hashes, then
     * conversions, vitals, named events, visits) and, once none is left, the session itself. Call it
     * again until it answers true: each call is one short piece of work, so that erasing a session with
     * thousands of batches never holds the database (or the event loop) for long.
     */
    eraseSessionChunk(sessionId: number, budget: number): boolean {
      let left = budget;
      for (const table of SESSION_TABLES) {
        const pick = `SELECT id FROM ${table} WHERE session_id = ? ORDER BY id LIMIT ?`;
        if (table === 'batches') {
          stmt(`DELETE FROM batch_hashes WHERE batch_id IN (${pick})`).run(sessionId, left);
        }
        left -= stmt(`DELETE FROM ${table} WHERE id IN (${pick})`).run(sessionId, left).changes;
        if (left <= 0) return false;
      }
      stmt('DELETE FROM sessions WHERE id = ?').run(sessionId);
      return true;
    },

    /** Whether the database answers a query (GET /healthz). */
    healthy(): boolean {
      try {
        return db.open && (stmt('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
      } catch {
        return false;
      }
    },

    /** Rows per table, for tests and diagnostics. */
    counts(): Record<
      'sessions' | 'batches' | 'batch_hashes' | 'visits' | 'conversions' | 'vitals' | 'named_events',
      number
    > {
      const n = (table: string) => (stmt(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      return {
        sessions: n('sessions'),
        batches: n('batches'),
        batch_hashes: n('batch_hashes'),
        visits: n('visits'),
        conversions: n('conversions'),
        vitals: n('vitals'),
        named_events: n('named_events'),
      };
    },
  };
}
