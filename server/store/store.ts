// The collector's storage, as the routes see it: one interface, two engines (ARCHITECTURE.md, "Store
// engines"). SQLite (server/store/sqlite.ts) is the embedded default; PostgreSQL
// (server/store/postgres.ts) serves any number of collector instances at once. Both run the same
// programs (server/store/queries.ts), so the read endpoints answer alike byte for byte. Routes never
// write SQL; sort keys and filter fields reach SQL only through the whitelists below.
import { createHash } from 'node:crypto';
import type { ConversionRow, NamedEventRow, VisitRow as WireVisitRow } from '../../src/wire.js';
import type { BatchSummary } from '../ingest/check.js';
import type { InteractionSummary } from '../lib/irregular.js';
import { type OverviewQuery, type OverviewRows, SIGNAL_FILTERS, type SignalFilter } from './overview.js';
import type { Engine, Program } from './sql.js';

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
export function parseParameters(text: string | null): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}

/** Rows per table, for tests and diagnostics. */
export type TableCounts = Record<
  'sessions' | 'batches' | 'batch_hashes' | 'visits' | 'conversions' | 'vitals' | 'named_events',
  number
>;

/**
 * Everything the collector keeps. Every method is asynchronous (PostgreSQL answers over a socket);
 * a write has committed, durably, when its promise resolves.
 */
export interface Store {
  /** How programs run: the Flameup queue (server/relay/queue.ts) runs its own on the same engine. */
  readonly engine: Engine;
  close(): Promise<void>;
  /** Creates the project or updates its token and origins; keyed by the public key. */
  ensureProject(p: {
    publicKey: string;
    apiToken: string;
    name: string;
    allowedOrigins: string[] | null;
  }): Promise<Project>;
  /** Replaces a project's API token (kept hashed) and ends the dashboard sign-ins made with the old one. */
  setProjectToken(projectId: number, apiToken: string): Promise<void>;
  setProjectOrigins(projectId: number, allowedOrigins: string[] | null): Promise<void>;
  /**
   * Deletes a project and everything recorded for it, in one transaction, with what `also` deletes
   * (the Flameup queue's rows) in the same transaction.
   */
  deleteProject(projectId: number, also?: () => Program<number>): Promise<DeletedCounts>;
  /** The ids of a project's sessions. */
  sessionIdsOf(projectId: number): Promise<number[]>;
  /** Sessions recorded per project (the admin command's list). */
  sessionCounts(): Promise<Map<number, number>>;
  /** Stores a dashboard sign-in under the hash of its cookie value; forgets expired ones on the way. */
  createDashboardSession(
    cookieValue: string,
    s: { projectId: number; via: DashboardSession['via']; csrfToken: string; nowMs: number; ttlMs: number },
  ): Promise<void>;
  /** The live sign-in a cookie value names, or undefined (unknown or expired). */
  dashboardSession(cookieValue: string, nowMs: number): Promise<DashboardSession | undefined>;
  deleteDashboardSession(cookieValue: string): Promise<void>;
  projectByKey(publicKey: string): Promise<Project | undefined>;
  projectById(id: number): Promise<Project | undefined>;
  projectByToken(token: string): Promise<Project | undefined>;
  projects(): Promise<Project[]>;
  createSession(s: NewSession): Promise<SessionRecord>;
  /** Opens another tab of a session: its number, counted from 1. */
  openTab(sessionId: number, nowMs: number): Promise<number>;
  sessionById(id: number): Promise<SessionRecord | undefined>;
  /** Project of each existing session among `ids`. */
  sessionProjects(ids: number[]): Promise<Map<number, number>>;
  /** Whether this body (by its hash) is already stored and committed. */
  hasBatch(hash: Buffer): Promise<boolean>;
  /**
   * Stores one /track body in the next group commit, with what `also` writes (the Flameup queue's
   * rows) in the same savepoint when the body is new; resolves once durable. A body stored already,
   * by this instance or another, is not stored again: `duplicate` says so.
   */
  storeBatch(
    b: NewBatch,
    also?: (batchId: number) => Program<void>,
  ): Promise<{ duplicate: boolean; batchId: number | null }>;
  /** Resolves once every write committed so far is durable. */
  durable(): Promise<void>;
  listSessions(q: SessionQuery): Promise<{ rows: SessionListRow[]; total: number }>;
  /**
   * The dashboard's overview of the sessions created within a range (server/store/overview.ts). Its
   * work grows with the sessions in the range: SQLite reads a database file in a worker thread with a
   * connection of its own (overview-worker.ts), so that the event loop never waits on it.
   */
  overview(q: OverviewQuery): Promise<OverviewRows>;
  visits(q: RelatedQuery): Promise<VisitRow[]>;
  countVisits(q: RelatedQuery): Promise<number>;
  vitalsOfVisits(visitIds: number[]): Promise<VitalRow[]>;
  conversions(q: RelatedQuery): Promise<ConversionRow[]>;
  countConversions(q: RelatedQuery): Promise<number>;
  /**
   * The session's first named events in time order (of one tab when given): at most `limit`, and
   * no more once their names and parameters reach `maxChars`.
   */
  namedEvents(
    sessionId: number,
    opts?: { tab?: number | null; limit?: number; maxChars?: number },
  ): Promise<NamedEventRow[]>;
  /**
   * Batches of the session that hold events (of one tab when given), in (tab, first_ts, id) order,
   * after `after` when given: at most `limit`, without their blobs (`batchBlob` reads one).
   */
  eventBatches(
    sessionId: number,
    tab: number | null,
    after: BatchKey | null,
    limit: number,
  ): Promise<EventBatch[]>;
  /** The stored blob of one batch (server/read/page.ts reads both of its forms). */
  batchBlob(batchId: number): Promise<Buffer | undefined>;
  markRead(sessionId: number): Promise<void>;
  interactionSummary(sessionId: number): Promise<InteractionSummary>;
  /** Sessions of the project created before `before` (ms), oldest first: at most `limit` ids. */
  sessionsCreatedBefore(projectId: number, beforeMs: number, limit: number): Promise<number[]>;
  /** Sessions of the project that identify() gave this external id: at most `limit` ids. */
  sessionsByExternalId(projectId: number, externalId: string, limit: number): Promise<number[]>;
  /**
   * Deletes at most `budget` rows attached to the session and, once none is left, the session itself
   * with what `also` deletes (the Flameup queue's rows), in one piece of the next group commit. Call
   * it again until it answers true: each call is short, so that /track's writes keep interleaving.
   */
  eraseSessionChunk(sessionId: number, budget: number, also?: () => Program<void>): Promise<boolean>;
  /**
   * Whatever the engine can drop whole instead of deleting row by row: PostgreSQL drops the monthly
   * partitions of recordings that are all older than `beforeMs`; SQLite has none. Answers how many.
   */
  dropExpired(beforeMs: number): Promise<number>;
  /**
   * The engine's own upkeep, run hourly by the retention sweep: PostgreSQL creates the monthly
   * partitions of recordings around `nowMs` before rows need them; SQLite has none.
   */
  upkeep(nowMs: number): Promise<void>;
  /** Whether the database answers a query (GET /healthz, /readyz). */
  healthy(): Promise<boolean>;
  /** Rows per table, for tests and diagnostics. */
  counts(): Promise<TableCounts>;
}
