// The store's queries and writes, written once for both engines as programs (server/store/sql.ts).
// A program yields SQL text with `?` placeholders; the few fragments the dialects disagree on come from
// `d` (the engine's Dialect). Adding a query: write a program here, then a method in `createStore` that
// hands it to `engine.read`, `engine.transact` or `engine.group` (ARCHITECTURE.md, "Store engines").
import type { InteractionSummary } from '../lib/irregular.js';
import {
  hasSignals,
  type OverviewQuery,
  type OverviewRows,
  overviewProgram,
  prefixFilterSql,
  SIGNAL_FILTERS,
  SIGNAL_SQL,
  type SignalFilter,
  signalFilterSql,
  signalParams,
} from './overview.js';
import { all, type Dialect, type Engine, get, insert, type Program, placeholders, run } from './sql.js';
import {
  type BatchKey,
  type ConversionRow,
  type DashboardSession,
  type DeletedCounts,
  type EventBatch,
  type NamedEventRow,
  type NewBatch,
  type NewSession,
  type Project,
  parseParameters,
  type RelatedQuery,
  type SessionListRow,
  type SessionQuery,
  type SessionRecord,
  type SortKey,
  type Store,
  sqlDate,
  type TableCounts,
  tokenHash,
  type VisitRow,
  type VitalRow,
} from './store.js';

const SORT_COLUMNS: Record<SortKey, string> = {
  id: 's.id',
  browser: 's.browser',
  device: 's.device',
  platform_os: 's.platform_os',
  country: 's.country',
  time_spend: 's.time_spend',
  created_at: 's.created_at',
};

/** Tables holding a session's rows, children first: each is emptied before the row it points to. */
const SESSION_TABLES = ['batches', 'conversions', 'vitals', 'named_events', 'visits'] as const;

const toProject = (row: Record<string, unknown> | undefined): Project | undefined =>
  row
    ? {
        id: row.id as number,
        public_key: row.public_key as string,
        name: row.name as string,
        allowed_origins: row.allowed_origins ? (JSON.parse(row.allowed_origins as string) as string[]) : null,
      }
    : undefined;

function* latestVisitAt(sessionId: number, tab: number, ts: number): Program<number | null> {
  const row = yield* get<{ id: number }>(
    'SELECT id FROM visits WHERE session_id = ? AND tab = ? AND started_ts <= ? ORDER BY started_ts DESC, id DESC LIMIT 1',
    sessionId,
    tab,
    ts,
  );
  return row?.id ?? null;
}

function* latestVisit(sessionId: number, tab: number): Program<number | null> {
  const row = yield* get<{ id: number }>(
    'SELECT id FROM visits WHERE session_id = ? AND tab = ? ORDER BY started_ts DESC, id DESC LIMIT 1',
    sessionId,
    tab,
  );
  return row?.id ?? null;
}

/** A visit that arrives after later batches of its tab (a retried batch) claims them back. */
function* claimForVisit(
  visitId: number,
  sessionId: number,
  tab: number,
  startedTs: number,
): Program<Set<number>> {
  const next = yield* get<{ t: number | null }>(
    'SELECT MIN(started_ts) AS t FROM visits WHERE session_id = ? AND tab = ? AND started_ts > ?',
    sessionId,
    tab,
    startedTs,
  );
  const end = next?.t ?? Number.MAX_SAFE_INTEGER;
  const touched = new Set<number>([visitId]);
  const previous = yield* all<{ visit_id: number }>(
    `SELECT DISTINCT visit_id FROM batches WHERE session_id = ? AND tab = ? AND first_ts >= ? AND first_ts < ?
         AND visit_id IS NOT NULL AND visit_id != ?`,
    sessionId,
    tab,
    startedTs,
    end,
    visitId,
  );
  for (const p of previous) touched.add(p.visit_id);
  yield* run(
    'UPDATE batches SET visit_id = ? WHERE session_id = ? AND tab = ? AND first_ts >= ? AND first_ts < ?',
    visitId,
    sessionId,
    tab,
    startedTs,
    end,
  );
  for (const table of ['conversions', 'vitals', 'named_events']) {
    yield* run(
      `UPDATE ${table} SET visit_id = ? WHERE session_id = ? AND tab = ? AND ts >= ? AND ts < ?`,
      visitId,
      sessionId,
      tab,
      startedTs,
      end,
    );
  }
  return touched;
}

/** Stores one /track body: its hash claimed first, so that the same body is stored once, anywhere. */
export function* insertBatch(
  d: Dialect,
  b: NewBatch,
  also?: (batchId: number) => Program<void>,
): Program<{ duplicate: boolean; batchId: number | null }> {
  // The unique key is the claim: a concurrent transaction claiming the same hash (another instance)
  // makes this one wait for its outcome, then answers 0 rows if it committed.
  const claimed = yield* run('INSERT INTO batch_hashes (hash) VALUES (?) ON CONFLICT DO NOTHING', b.hash);
  if (claimed === 0) return { duplicate: true, batchId: null };
  const now = sqlDate(b.nowMs);
  const touched = new Set<number>();

  const { summary } = b;
  // Visits first: the batch that opens a visit starts with its visit event (docs/contract.md, "Events").
  for (const row of summary.custom) {
    if (row.tag !== 'visit') continue;
    const opened = yield* insert(
      `INSERT INTO visits (session_id, tab, url, title, referrer, navigation, started_ts, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      b.sessionId,
      b.tab,
      row.url,
      row.title,
      row.referrer,
      row.navigation,
      row.ts,
      now,
    );
    for (const id of yield* claimForVisit(opened, b.sessionId, b.tab, row.ts)) touched.add(id);
  }

  const first = summary.firstTs;
  const visitId =
    first === null ? yield* latestVisit(b.sessionId, b.tab) : yield* latestVisitAt(b.sessionId, b.tab, first);

  const batchId = yield* insert(
    `INSERT INTO batches (session_id, tab, visit_id, first_ts, last_ts, event_count, timer, events,
         interaction_count, input_times, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
  yield* run('UPDATE batch_hashes SET batch_id = ? WHERE hash = ?', batchId, b.hash);
  // Signal counts (server/store/overview.ts): the batch's, added to its visit and its session. A visit
  // that gained or lost batches is recounted from them below instead.
  const signals = summary.signals;
  if (hasSignals(signals)) {
    yield* run(SIGNAL_SQL.batch, ...signalParams(signals), batchId);
    if (visitId !== null && !touched.has(visitId)) {
      yield* run(SIGNAL_SQL.addToVisit, ...signalParams(signals), visitId);
    }
    yield* run(SIGNAL_SQL.addToSession, ...signalParams(signals), b.sessionId);
  }

  // Custom events of the known tags get their own rows so that reads never decompress batches.
  for (const row of summary.custom) {
    if (row.tag === 'visit') continue;
    if (row.tag === 'identify') {
      yield* run('UPDATE sessions SET external_id = ? WHERE id = ?', row.externalId, b.sessionId);
      continue;
    }
    const at = yield* latestVisitAt(b.sessionId, b.tab, row.ts);
    switch (row.tag) {
      case 'conversion':
        yield* run(
          `INSERT INTO conversions (session_id, tab, visit_id, type, goal, target, ts, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          b.sessionId,
          b.tab,
          at,
          row.type,
          row.goal,
          row.target,
          row.ts,
          now,
        );
        break;
      case 'web-vital':
        yield* run(
          `INSERT INTO vitals (session_id, tab, visit_id, name, value, rating, delta, metric_id, navigation_type, ts, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        yield* run(
          `INSERT INTO named_events (session_id, tab, visit_id, name, parameters, ts, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          b.sessionId,
          b.tab,
          at,
          row.name,
          row.parameters,
          row.ts,
          now,
        );
        break;
    }
  }

  // A visit's time_spend is the largest timer seen for it; a session's is the sum over its visits.
  // Visits that gained or lost batches to a new visit are recounted from their batches; the batch's
  // own visit otherwise only needs the new timer folded in (recounting it read every batch of the
  // visit, on every batch).
  for (const id of touched) {
    yield* run(
      'UPDATE visits SET time_spend = COALESCE((SELECT MAX(timer) FROM batches WHERE visit_id = ?), 0) WHERE id = ?',
      id,
      id,
    );
    yield* run(SIGNAL_SQL.recountVisit, id, id, id, id, id);
  }
  if (visitId !== null && !touched.has(visitId) && summary.timer !== null) {
    yield* run(
      `UPDATE visits SET time_spend = ${d.greatest('time_spend', '?')} WHERE id = ?`,
      summary.timer,
      visitId,
    );
  }
  yield* run(
    `UPDATE sessions SET
         time_spend = COALESCE((SELECT SUM(time_spend) FROM visits WHERE session_id = ?), 0),
         updated_at = ?, last_activity_ms = ${d.greatest('last_activity_ms', '?')},
         user_agent = COALESCE(user_agent, ?)
       WHERE id = ?`,
    b.sessionId,
    now,
    b.nowMs,
    summary.userAgent,
    b.sessionId,
  );
  if (also) yield* also(batchId);
  return { duplicate: false, batchId };
}

function sessionWhere(d: Dialect, q: SessionQuery): { sql: string; params: unknown[] } {
  const parts = ['s.project_id = ?', 's.created_at >= ?', 's.created_at <= ?'];
  const params: unknown[] = [q.projectId, q.start, q.end];
  if (q.readStatus) {
    parts.push('s.read_status = ?');
    params.push(q.readStatus);
  }
  const f = q.filters;
  // Devices are one of a few lowercase words (validated), so equal; the names below match by a
  // case-insensitive prefix ("chrome" finds "Chrome Headless"): docs/contract.md, "List sessions".
  if (f.device && f.device.length > 0) {
    parts.push(`s.device IN (${placeholders(f.device.length)})`);
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
    parts.push(d.likeNoCase('s.entry_url'));
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
}

function relatedWhere(q: RelatedQuery, alias: string, onlyColumn: string) {
  const parts = [`${alias}.session_id IN (${placeholders(q.sessionIds.length)})`];
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
    parts.push(`${alias}.${onlyColumn} IN (${placeholders(q.only.length)})`);
    params.push(...q.only);
  }
  return { sql: parts.join(' AND '), params };
}

function* count(sql: string, params: unknown[]): Program<number> {
  return ((yield* get<{ n: number }>(sql, ...params)) as { n: number }).n;
}

function* eraseChunk(sessionId: number, budget: number, also?: () => Program<void>): Program<boolean> {
  let left = budget;
  for (const table of SESSION_TABLES) {
    const pick = `SELECT id FROM ${table} WHERE session_id = ? ORDER BY id LIMIT ?`;
    if (table === 'batches') {
      yield* run(`DELETE FROM batch_hashes WHERE batch_id IN (${pick})`, sessionId, left);
    }
    left -= yield* run(`DELETE FROM ${table} WHERE id IN (${pick})`, sessionId, left);
    if (left <= 0) return false;
  }
  yield* run('DELETE FROM sessions WHERE id = ?', sessionId);
  if (also) yield* also();
  return true;
}

/** What an engine adds to the shared store: what only it can do. */
export interface EngineExtras {
  /** The overview run elsewhere than on the store's own connection (SQLite: a worker thread). */
  overview?: (q: OverviewQuery) => Promise<OverviewRows>;
  dropExpired?: (beforeMs: number) => Promise<number>;
  upkeep?: (nowMs: number) => Promise<void>;
}

/** The Store over an engine: every method is one program run the way its kind of work needs. */
export function createStore(engine: Engine, extras: EngineExtras = {}): Store {
  const d = engine.dialect;
  const read = engine.read.bind(engine);
  const transact = engine.transact.bind(engine);

  const store: Store = {
    engine,
    close: () => engine.close(),

    async ensureProject(p) {
      await transact(() =>
        run(
          `INSERT INTO projects (public_key, api_token_hash, name, allowed_origins, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(public_key) DO UPDATE SET api_token_hash = excluded.api_token_hash, name = excluded.name,
           allowed_origins = excluded.allowed_origins`,
          p.publicKey,
          tokenHash(p.apiToken),
          p.name,
          p.allowedOrigins ? JSON.stringify(p.allowedOrigins) : null,
          sqlDate(Date.now()),
        ),
      );
      return (await store.projectByKey(p.publicKey)) as Project;
    },

    async setProjectToken(projectId, apiToken) {
      await transact(function* () {
        yield* run('UPDATE projects SET api_token_hash = ? WHERE id = ?', tokenHash(apiToken), projectId);
        yield* run("DELETE FROM dashboard_sessions WHERE project_id = ? AND via = 'token'", projectId);
      });
    },

    async setProjectOrigins(projectId, allowedOrigins) {
      await transact(() =>
        run(
          'UPDATE projects SET allowed_origins = ? WHERE id = ?',
          allowedOrigins ? JSON.stringify(allowedOrigins) : null,
          projectId,
        ),
      );
    },

    deleteProject(projectId, also) {
      return transact(function* () {
        const sessions = 'SELECT id FROM sessions WHERE project_id = ?';
        const counts: DeletedCounts = {};
        if (also) counts.flameup = yield* also();
        counts.batch_hashes = yield* run(
          `DELETE FROM batch_hashes WHERE batch_id IN (SELECT id FROM batches WHERE session_id IN (${sessions}))`,
          projectId,
        );
        for (const table of ['named_events', 'vitals', 'conversions', 'batches', 'visits']) {
          counts[table] = yield* run(`DELETE FROM ${table} WHERE session_id IN (${sessions})`, projectId);
        }
        counts.sessions = yield* run('DELETE FROM sessions WHERE project_id = ?', projectId);
        counts.dashboard_sessions = yield* run(
          'DELETE FROM dashboard_sessions WHERE project_id = ?',
          projectId,
        );
        counts.projects = yield* run('DELETE FROM projects WHERE id = ?', projectId);
        return counts;
      });
    },

    async sessionIdsOf(projectId) {
      const rows = await read(() =>
        all<{ id: number }>('SELECT id FROM sessions WHERE project_id = ?', projectId),
      );
      return rows.map((r) => r.id);
    },

    async sessionCounts() {
      const rows = await read(() =>
        all<{ project_id: number; n: number }>(
          'SELECT project_id, COUNT(*) AS n FROM sessions GROUP BY project_id',
        ),
      );
      return new Map(rows.map((r) => [r.project_id, r.n]));
    },

    async createDashboardSession(cookieValue, s) {
      await transact(function* () {
        yield* run('DELETE FROM dashboard_sessions WHERE expires_ms <= ?', s.nowMs);
        yield* run(
          `INSERT INTO dashboard_sessions (token_hash, project_id, via, csrf_token, created_ms, expires_ms)
         VALUES (?, ?, ?, ?, ?, ?)`,
          tokenHash(cookieValue),
          s.projectId,
          s.via,
          s.csrfToken,
          s.nowMs,
          s.nowMs + s.ttlMs,
        );
      });
    },

    async dashboardSession(cookieValue, nowMs) {
      const row = await read(() =>
        get<{ project_id: number; via: DashboardSession['via']; csrf_token: string; expires_ms: number }>(
          `SELECT project_id, via, csrf_token, expires_ms FROM dashboard_sessions
         WHERE token_hash = ? AND expires_ms > ?`,
          tokenHash(cookieValue),
          nowMs,
        ),
      );
      return row
        ? { projectId: row.project_id, via: row.via, csrfToken: row.csrf_token, expiresMs: row.expires_ms }
        : undefined;
    },

    async deleteDashboardSession(cookieValue) {
      await transact(() =>
        run('DELETE FROM dashboard_sessions WHERE token_hash = ?', tokenHash(cookieValue)),
      );
    },

    async projectByKey(publicKey) {
      return toProject(await read(() => get('SELECT * FROM projects WHERE public_key = ?', publicKey)));
    },

    async projectById(id) {
      return toProject(await read(() => get('SELECT * FROM projects WHERE id = ?', id)));
    },

    async projectByToken(token) {
      return toProject(
        await read(() => get('SELECT * FROM projects WHERE api_token_hash = ?', tokenHash(token))),
      );
    },

    async projects() {
      const rows = await read(() => all<Record<string, unknown>>('SELECT * FROM projects ORDER BY id'));
      return rows.map((r) => toProject(r) as Project);
    },

    async createSession(s: NewSession) {
      const now = sqlDate(s.nowMs);
      const id = await transact(() =>
        insert(
          `INSERT INTO sessions (project_id, browser, device, platform_os, country, ip_address, user_agent, entry_url,
           referrer, created_at, updated_at, created_ms, last_activity_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        ),
      );
      return (await store.sessionById(id)) as SessionRecord;
    },

    async openTab(sessionId, nowMs) {
      const row = await transact(() =>
        get<{ tabs: number }>(
          `UPDATE sessions SET tabs = tabs + 1, last_activity_ms = ${d.greatest('last_activity_ms', '?')}, updated_at = ?
         WHERE id = ? RETURNING tabs`,
          nowMs,
          sqlDate(nowMs),
          sessionId,
        ),
      );
      return (row as { tabs: number }).tabs;
    },

    sessionById(id) {
      return read(() => get<SessionRecord>('SELECT * FROM sessions WHERE id = ?', id));
    },

    async sessionProjects(ids) {
      const out = new Map<number, number>();
      if (ids.length === 0) return out;
      const rows = await read(() =>
        all<{ id: number; project_id: number }>(
          `SELECT id, project_id FROM sessions WHERE id IN (${placeholders(ids.length)})`,
          ...ids,
        ),
      );
      for (const r of rows) out.set(r.id, r.project_id);
      return out;
    },

    async hasBatch(hash) {
      return (await read(() => get('SELECT 1 FROM batch_hashes WHERE hash = ?', hash))) !== undefined;
    },

    storeBatch(b, also) {
      return engine.group(() => insertBatch(d, b, also), b.sessionId);
    },

    durable: () => engine.durable(),

    async listSessions(q) {
      const where = sessionWhere(d, q);
      const dir = q.sortOrder === 'asc' ? 'ASC' : 'DESC';
      const column = SORT_COLUMNS[q.sortKey];
      const nulls = d.nulls(dir);
      const order = `${column} ${dir}${nulls}, s.id ${dir}`;
      return read(function* () {
        const total = yield* count(`SELECT COUNT(*) AS n FROM sessions s WHERE ${where.sql}`, where.params);
        // The page is chosen on the index alone (sessions_project_created_filters covers the filters and
        // sort keys but the URL and conversions); the table and the counts are read for its rows only.
        const rows = yield* all<SessionListRow>(
          `SELECT s.*,
           (SELECT COUNT(*) FROM visits v WHERE v.session_id = s.id) AS visits_count,
           (SELECT COUNT(*) FROM conversions c WHERE c.session_id = s.id) AS conversions_count
         FROM sessions s WHERE s.id IN (
           SELECT s.id FROM sessions s WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?
         ) ORDER BY ${order}`,
          ...where.params,
          q.limit,
          q.offset,
        );
        return { rows, total };
      });
    },

    overview(q) {
      if (extras.overview) return extras.overview(q);
      return read(() => overviewProgram(d, q));
    },

    visits(q) {
      const where = relatedWhere(q, 'v', 'id');
      return read(() =>
        all<VisitRow>(
          `SELECT v.id, v.session_id, v.tab, v.url, v.title, v.referrer, v.navigation, v.time_spend,
           v.started_ts AS started_at, v.created_at, v.rage_clicks, v.dead_clicks, v.errors, v.failed_requests
         FROM visits v WHERE ${where.sql} ORDER BY v.session_id, v.started_ts, v.id`,
          ...where.params,
        ),
      );
    },

    countVisits(q) {
      const where = relatedWhere(q, 'v', 'id');
      return read(() => count(`SELECT COUNT(*) AS n FROM visits v WHERE ${where.sql}`, where.params));
    },

    async vitalsOfVisits(visitIds) {
      if (visitIds.length === 0) return [];
      return read(() =>
        all<VitalRow>(
          `SELECT id, visit_id, session_id, name, value, rating, delta, metric_id, navigation_type, created_at
         FROM vitals WHERE visit_id IN (${placeholders(visitIds.length)}) ORDER BY ts, id`,
          ...visitIds,
        ),
      );
    },

    conversions(q) {
      const where = relatedWhere(q, 'c', 'type');
      return read(() =>
        all<ConversionRow>(
          `SELECT c.id, c.session_id, c.visit_id, c.type, c.goal, c.target, c.created_at
         FROM conversions c WHERE ${where.sql} ORDER BY c.session_id, c.ts, c.id`,
          ...where.params,
        ),
      );
    },

    countConversions(q) {
      const where = relatedWhere(q, 'c', 'type');
      return read(() => count(`SELECT COUNT(*) AS n FROM conversions c WHERE ${where.sql}`, where.params));
    },

    async namedEvents(sessionId, opts = {}) {
      const limit = opts.limit ?? 1000;
      const maxChars = opts.maxChars ?? 1024 * 1024;
      const byTab = opts.tab !== undefined && opts.tab !== null;
      const rows = await read(() =>
        all<Omit<NamedEventRow, 'parameters'> & { parameters: string | null }>(
          `SELECT id, tab, visit_id, name, parameters, ts AS timestamp, created_at FROM named_events
         WHERE session_id = ?${byTab ? ' AND tab = ?' : ''} ORDER BY ts, id LIMIT ?`,
          ...(byTab ? [sessionId, opts.tab, limit] : [sessionId, limit]),
        ),
      );
      const out: NamedEventRow[] = [];
      let chars = 0;
      for (const r of rows) {
        out.push({ ...r, parameters: parseParameters(r.parameters) });
        chars += r.name.length + (r.parameters?.length ?? 0);
        if (chars >= maxChars) break;
      }
      return out;
    },

    eventBatches(sessionId, tab, after: BatchKey | null, limit) {
      const sql = `SELECT id, tab, first_ts AS "firstTs", ${d.byteLength('events')} AS bytes FROM batches
         WHERE session_id = ? AND event_count > 0 AND first_ts IS NOT NULL${tab !== null ? ' AND tab = ?' : ''}${
           after ? ' AND (tab, first_ts, id) > (?, ?, ?)' : ''
         } ORDER BY tab, first_ts, id LIMIT ?`;
      const params: unknown[] = [sessionId];
      if (tab !== null) params.push(tab);
      if (after) params.push(after.tab, after.firstTs, after.id);
      params.push(limit);
      return read(() => all<EventBatch>(sql, ...params));
    },

    async batchBlob(batchId) {
      return (await read(() => get<{ events: Buffer }>('SELECT events FROM batches WHERE id = ?', batchId)))
        ?.events;
    },

    async markRead(sessionId) {
      await transact(() => run("UPDATE sessions SET read_status = 'read' WHERE id = ?", sessionId));
    },

    async interactionSummary(sessionId): Promise<InteractionSummary> {
      return read(function* () {
        const s = yield* get<{ user_agent: string | null }>(
          'SELECT user_agent FROM sessions WHERE id = ?',
          sessionId,
        );
        const rows = yield* all<{ interaction_count: number; input_times: string }>(
          'SELECT interaction_count, input_times FROM batches WHERE session_id = ? ORDER BY first_ts, id',
          sessionId,
        );
        let interactionCount = 0;
        const inputTimes: number[] = [];
        for (const r of rows) {
          interactionCount += r.interaction_count;
          inputTimes.push(...(JSON.parse(r.input_times) as number[]));
        }
        inputTimes.sort((a, b) => a - b);
        return { userAgent: s?.user_agent ?? null, interactionCount, inputTimes };
      });
    },

    async sessionsCreatedBefore(projectId, beforeMs, limit) {
      const rows = await read(() =>
        all<{ id: number }>(
          'SELECT id FROM sessions WHERE project_id = ? AND created_at < ? ORDER BY created_at, id LIMIT ?',
          projectId,
          sqlDate(beforeMs),
          limit,
        ),
      );
      return rows.map((r) => r.id);
    },

    async sessionsByExternalId(projectId, externalId, limit) {
      const rows = await read(() =>
        all<{ id: number }>(
          'SELECT id FROM sessions WHERE project_id = ? AND external_id = ? ORDER BY id LIMIT ?',
          projectId,
          externalId,
          limit,
        ),
      );
      return rows.map((r) => r.id);
    },

    eraseSessionChunk(sessionId, budget, also) {
      return engine.group(() => eraseChunk(sessionId, budget, also), sessionId);
    },

    dropExpired: (beforeMs) => extras.dropExpired?.(beforeMs) ?? Promise.resolve(0),

    upkeep: (nowMs) => extras.upkeep?.(nowMs) ?? Promise.resolve(),

    healthy: () => engine.healthy(),

    counts() {
      return read(function* () {
        const out: Partial<TableCounts> = {};
        for (const table of [
          'sessions',
          'batches',
          'batch_hashes',
          'visits',
          'conversions',
          'vitals',
          'named_events',
        ] as const) {
          out[table] = yield* count(`SELECT COUNT(*) AS n FROM ${table}`, []);
        }
        return out as TableCounts;
      });
    },
  };
  return store;
}
