// The Flameup relay's persisted forwarding queue. A second store module on purpose: the collector's
// store (store.ts) keeps all of the analytics SQL, and this one keeps the SQL of one other concern, so
// that the collector's schema never learns about Flameup and this module can be left out whole. It
// follows the same habits (STYLE.md 12): named methods, prepared statements, ordered migrations, here
// recorded in a table of its own (`flameup_migrations`) because `user_version` belongs to store.ts.
// It declares no foreign keys into store.ts's tables, so neither module's migrations depend on the
// other's order.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/** A project's Flameup setting. */
export interface FlameupSetting {
  apiKey: string;
  /** Flameup's track URL. */
  url: string;
  /** Names of events to forward; null forwards every name. */
  events: string[] | null;
}

/** What ingest hands the store, already checked by the relay, in the order of the source batch. */
export type Incoming =
  | { kind: 'identify'; externalId: string; ts: number }
  | { kind: 'event'; source: string; event: string; parameters: string; ts: number }
  /** An event that can never be forwarded; kept as failed so its reason can be seen. */
  | { kind: 'invalid'; source: string; event: string; ts: number; reason: string };

/** The state of one source event: `held` waits for its session's identify. */
export type ForwardState = 'held' | 'pending' | 'sent' | 'failed';

/** The oldest pending event of one session, with the setting it is sent under. */
export interface Head {
  id: number;
  projectId: number;
  sessionId: number;
  externalId: string;
  event: string;
  parameters: string;
  ts: number;
  attempts: number;
  nextMs: number;
  createdMs: number;
  url: string;
  apiKey: string;
}

export interface ForwardRow {
  id: number;
  source: string;
  project_id: number;
  session_id: number;
  state: ForwardState;
  external_id: string | null;
  event: string;
  parameters: string;
  ts: number;
  attempts: number;
  next_ms: number;
  reason: string | null;
  flameup_id: string | null;
}

const MIGRATIONS: string[] = [
  `CREATE TABLE flameup_settings (
     project_id INTEGER PRIMARY KEY,
     api_key TEXT NOT NULL,
     url TEXT NOT NULL,
     events TEXT,
     -- SHA-256 of a key Flameup refused (401/403): nothing more is sent until the project is configured
     -- again (a new key, or the same one after a restart: one request per restart is no storm).
     refused_key TEXT,
     updated_ms INTEGER NOT NULL
   );
   CREATE TABLE flameup_identities (
     session_id INTEGER PRIMARY KEY,
     external_id TEXT NOT NULL,
     ts INTEGER NOT NULL
   );
   CREATE TABLE flameup_events (
     id INTEGER PRIMARY KEY,
     source TEXT NOT NULL UNIQUE,
     project_id INTEGER NOT NULL,
     session_id INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('held', 'pending', 'sent', 'failed')),
     external_id TEXT,
     event TEXT NOT NULL,
     parameters TEXT NOT NULL,
     ts INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_ms INTEGER NOT NULL DEFAULT 0,
     reason TEXT,
     flameup_id TEXT,
     created_ms INTEGER NOT NULL,
     done_ms INTEGER
   );
   CREATE INDEX flameup_events_queue ON flameup_events(state, session_id, id);`,
  // A row Flameup has acknowledged is deleted from then on (the event lives at Flameup); rows kept
  // as 'sent' by an earlier version go too.
  `DELETE FROM flameup_events WHERE state = 'sent';`,
];

/** Hex SHA-256 of a key: enough to recognise it again, useless to anyone who reads the database. */
export function keyHash(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

export type FlameupStore = ReturnType<typeof openFlameupStore>;

/** Migrates and prepares the relay's tables on the collector's database handle. */
export function openFlameupStore(db: Database.Database) {
  db.exec(
    'CREATE TABLE IF NOT EXISTS flameup_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)',
  );
  const applied = (
    db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM flameup_migrations').get() as { v: number }
  ).v;
  for (let v = applied; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.prepare('INSERT INTO flameup_migrations (version, applied_ms) VALUES (?, ?)').run(v + 1, Date.now());
    })();
  }

  const q = {
    setting: db.prepare(
      'SELECT api_key, url, events, refused_key FROM flameup_settings WHERE project_id = ?',
    ),
    upsertSetting: db.prepare(
      `INSERT INTO flameup_settings (project_id, api_key, url, events, refused_key, updated_ms)
       VALUES (@projectId, @apiKey, @url, @events, NULL, @nowMs)
       ON CONFLICT(project_id) DO UPDATE SET api_key = excluded.api_key, url = excluded.url,
         events = excluded.events, updated_ms = excluded.updated_ms, refused_key = NULL`,
    ),
    deleteSetting: db.prepare('DELETE FROM flameup_settings WHERE project_id = ?'),
    refuse: db.prepare('UPDATE flameup_settings SET refused_key = ? WHERE project_id = ? AND api_key = ?'),
    identity: db.prepare('SELECT external_id, ts FROM flameup_identities WHERE session_id = ?'),
    // The latest identify by the event's own time wins, so a retried older batch cannot undo a newer one.
    identify: db.prepare(
      `INSERT INTO flameup_identities (session_id, external_id, ts) VALUES (?, ?, ?)
       ON CONFLICT(session_id) DO UPDATE SET external_id = excluded.external_id, ts = excluded.ts
       WHERE excluded.ts >= flameup_identities.ts`,
    ),
    release: db.prepare(
      "UPDATE flameup_events SET state = 'pending', external_id = ? WHERE session_id = ? AND state = 'held'",
    ),
    insert: db.prepare(
      `INSERT OR IGNORE INTO flameup_events
         (source, project_id, session_id, state, external_id, event, parameters, ts, reason, created_ms, done_ms)
       VALUES (@source, @projectId, @sessionId, @state, @externalId, @event, @parameters, @ts, @reason, @nowMs, @doneMs)`,
    ),
    // The oldest pending event of each session whose project has a key that was not refused.
    heads: db.prepare(
      `SELECT e.id, e.project_id AS projectId, e.session_id AS sessionId, e.external_id AS externalId, e.event,
         e.parameters, e.ts, e.attempts, e.next_ms AS nextMs, e.created_ms AS createdMs, s.url, s.api_key AS apiKey
       FROM flameup_events e JOIN flameup_settings s ON s.project_id = e.project_id
       WHERE e.state = 'pending'
         AND e.id = (SELECT MIN(f.id) FROM flameup_events f WHERE f.session_id = e.session_id AND f.state = 'pending')
         AND s.refused_key IS NULL
       ORDER BY e.next_ms, e.id LIMIT ?`,
    ),
    // Acknowledged by Flameup: the row has done its job and is personal data no longer needed here.
    sent: db.prepare('DELETE FROM flameup_events WHERE id = ?'),
    // The IN over every state lets the delete use the queue's index (state, session_id, id).
    forgetEvents: db.prepare(
      "DELETE FROM flameup_events WHERE state IN ('held', 'pending', 'sent', 'failed') AND session_id = ?",
    ),
    forgetIdentity: db.prepare('DELETE FROM flameup_identities WHERE session_id = ?'),
    tableCounts: db.prepare(
      'SELECT (SELECT COUNT(*) FROM flameup_events) AS events, (SELECT COUNT(*) FROM flameup_identities) AS identities',
    ),
    failed: db.prepare("UPDATE flameup_events SET state = 'failed', reason = ?, done_ms = ? WHERE id = ?"),
    retry: db.prepare('UPDATE flameup_events SET attempts = ?, next_ms = ?, reason = ? WHERE id = ?'),
    rows: db.prepare('SELECT * FROM flameup_events ORDER BY id'),
    counts: db.prepare('SELECT state, COUNT(*) AS n FROM flameup_events GROUP BY state'),
    forgetProjectEvents: db.prepare('DELETE FROM flameup_events WHERE project_id = ?'),
  };

  const ingestTx = db.transaction(
    (projectId: number, sessionId: number, items: Incoming[], nowMs: number) => {
      let externalId =
        (q.identity.get(sessionId) as { external_id: string } | undefined)?.external_id ?? null;
      for (const item of items) {
        if (item.kind === 'identify') {
          q.identify.run(sessionId, item.externalId, item.ts);
          externalId = (q.identity.get(sessionId) as { external_id: string }).external_id;
          q.release.run(externalId, sessionId);
          continue;
        }
        const invalid = item.kind === 'invalid';
        q.insert.run({
          source: item.source,
          projectId,
          sessionId,
          state: invalid ? 'failed' : externalId === null ? 'held' : 'pending',
          externalId,
          event: item.event,
          parameters: invalid ? '{}' : item.parameters,
          ts: item.ts,
          reason: invalid ? item.reason : null,
          nowMs,
          doneMs: invalid ? nowMs : null,
        });
      }
    },
  );

  return {
    setting(projectId: number): (FlameupSetting & { refused: boolean }) | undefined {
      const row = q.setting.get(projectId) as
        | { api_key: string; url: string; events: string | null; refused_key: string | null }
        | undefined;
      if (!row) return undefined;
      return {
        apiKey: row.api_key,
        url: row.url,
        events: row.events === null ? null : (JSON.parse(row.events) as string[]),
        refused: row.refused_key !== null,
      };
    },

    /** Sets or removes a project's setting; configuring again lifts an earlier refusal of the key. */
    configure(projectId: number, setting: FlameupSetting | null, nowMs: number): void {
      if (!setting) {
        q.deleteSetting.run(projectId);
        return;
      }
      q.upsertSetting.run({
        projectId,
        apiKey: setting.apiKey,
        url: setting.url,
        events: setting.events === null ? null : JSON.stringify(setting.events),
        nowMs,
      });
    },

    /** Stops sending under this key until the project's key changes. */
    refuseKey(projectId: number, apiKey: string): void {
      q.refuse.run(keyHash(apiKey), projectId, apiKey);
    },

    /** Records one batch's identifies and events in one transaction; a source seen before is ignored. */
    ingest(projectId: number, sessionId: number, items: Incoming[], nowMs: number): void {
      ingestTx(projectId, sessionId, items, nowMs);
    },

    /** The oldest pending event of each session, earliest due first. */
    heads(limit: number): Head[] {
      return q.heads.all(limit) as Head[];
    },

    /** Flameup acknowledged the event (a 2xx): its row is deleted. */
    markSent(id: number): void {
      q.sent.run(id);
    },

    /** Deletes every row of these sessions (erasure, retention): queued events and identities. */
    forgetSessions(sessionIds: readonly number[]): void {
      for (const id of sessionIds) {
        q.forgetEvents.run(id);
        q.forgetIdentity.run(id);
      }
    },

    /** Rows in the relay's two per-session tables, for tests and diagnostics. */
    tableCounts(): { flameup_events: number; flameup_identities: number } {
      const r = q.tableCounts.get() as { events: number; identities: number };
      return { flameup_events: r.events, flameup_identities: r.identities };
    },

    markFailed(id: number, reason: string, nowMs: number): void {
      q.failed.run(reason, nowMs, id);
    },

    reschedule(id: number, attempts: number, nextMs: number, reason: string): void {
      q.retry.run(attempts, nextMs, reason, id);
    },

    /** Every row, oldest first (tests and diagnostics). */
    rows(): ForwardRow[] {
      return q.rows.all() as ForwardRow[];
    },

    /**
     * Deletes a project's setting, queued events and its sessions' identities (the caller names the
     * sessions: this module knows no other module's tables); rows deleted.
     */
    forgetProject(projectId: number, sessionIds: readonly number[]): number {
      return db.transaction(() => {
        let n = q.forgetProjectEvents.run(projectId).changes + q.deleteSetting.run(projectId).changes;
        for (const id of sessionIds) n += q.forgetIdentity.run(id).changes;
        return n;
      })();
    },

    counts(): Record<ForwardState, number> {
      const out: Record<ForwardState, number> = { held: 0, pending: 0, sent: 0, failed: 0 };
      for (const r of q.counts.all() as { state: ForwardState; n: number }[]) out[r.state] = r.n;
      return out;
    },
  };
}
