// The SQLite schema, one entry per version, applied in order at open inside a transaction each; the
// database's user_version counts how many are applied (server/store/sqlite.ts). Never edit an entry
// that has shipped: add one. Its PostgreSQL twin is migrations/postgres.ts; a change to one is a
// change to both (ARCHITECTURE.md, "Store engines").
import { SIGNALS_MIGRATION } from '../overview.js';

export const MIGRATIONS: string[] = [
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
