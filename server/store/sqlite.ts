// The SQLite engine: the embedded default, one process on one file. Programs (server/store/sql.ts)
// run synchronously on better-sqlite3; /track's writes join the group commit (server/store/writer.ts),
// and WAL checkpoints run in a worker (server/store/checkpointer.ts). The schema is
// server/store/migrations/sqlite.ts, counted in the database's user_version.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { startCheckpointer } from './checkpointer.js';
import { MIGRATIONS } from './migrations/sqlite.js';
import type { OverviewQuery } from './overview.js';
import { sharedOverviewPool } from './overview-pool.js';
import { createStore } from './queries.js';
import { type Engine, type Program, runSync, sqliteDialect } from './sql.js';
import { sqliteExecutor } from './sqlite-exec.js';
import { type Store, tokenHash } from './store.js';
import { createWriter, type WriterOptions } from './writer.js';

export interface StoreOptions {
  /** How /track writes are grouped into transactions (server/store/writer.ts); tests take over the timing. */
  writer?: WriterOptions;
  /** Milliseconds between WAL checkpoints (server/store/checkpointer.ts). @default 1000 */
  checkpointIntervalMs?: number;
  /** Where a failed checkpointer is reported. */
  logError?: (message: string, error: unknown) => void;
}

/** The SQLite store, with what only this engine has: for its own tests and diagnostics. */
export interface SqliteStore extends Store {
  readonly db: Database.Database;
  /** Runs a synchronous program in the next group commit (tests take over the group's timing). */
  write<T>(work: () => T): Promise<T>;
  /** Runs a program synchronously, outside any group (tests, the admin command). */
  runNow<T>(program: Program<T>): T;
  /**
   * EXPLAIN QUERY PLAN of every statement prepared so far (parameters bound to null), for tests and
   * diagnostics: which index each query uses, and whether one scans a whole table.
   */
  queryPlans(): { sql: string; plan: string[] }[];
  /** Writes queued for the next group commit. */
  readonly pendingWrites: number;
  /** Group commits so far. */
  readonly commitGroups: number;
}

/**
 * Creates the database file (and its folder) readable by the owner only before SQLite opens it: it
 * holds the recordings and each project's Flameup key (which the relay must send, so it cannot be
 * hashed; API tokens and sign-ins are kept hashed). The chmod states the mode whatever the umask, and
 * fixes a file an older version created with SQLite's default 0644.
 */
function ownerOnlyFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // 'a' creates the file if missing and never truncates one that exists; SQLite takes an empty file
  // for a new database.
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

export function openStore(file: string, options: StoreOptions = {}): SqliteStore {
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

  const { exec, statement: stmt, texts } = sqliteExecutor(db);
  const runNow = <T>(program: Program<T>): T => runSync(program, exec);
  // Outside a group: a transaction of its own, fsynced inside COMMIT (synchronous = FULL).
  const transaction = db.transaction(<T>(program: Program<T>): T => runNow(program));

  const engine: Engine = {
    dialect: sqliteDialect,
    read: (program) => {
      try {
        return Promise.resolve(runNow(program()));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    transact: (program) => {
      try {
        return Promise.resolve(transaction(program()) as never);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    group: (program) => writer.run(() => runNow(program())),
    durable: () => writer.durable(),
    migrate(component, migrations) {
      // A table per component (the relay's is `flameup_migrations`): user_version is the store's own.
      const table = `${component}_migrations`;
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)`,
      );
      const applied = (
        db.prepare(`SELECT COALESCE(MAX(version), 0) AS v FROM ${table}`).get() as { v: number }
      ).v;
      for (let v = applied; v < migrations.length; v++) {
        db.transaction(() => {
          db.exec(migrations[v] as string);
          db.prepare(`INSERT INTO ${table} (version, applied_ms) VALUES (?, ?)`).run(v + 1, Date.now());
        })();
      }
      return Promise.resolve();
    },
    healthy: () => {
      try {
        return Promise.resolve(db.open && (stmt('SELECT 1 AS ok').get() as { ok: number }).ok === 1);
      } catch {
        return Promise.resolve(false);
      }
    },
    /**
     * Commits the writes still queued, closes the database, and resolves once the checkpointer's
     * connection is closed too (the last connection to close checkpoints the WAL into the file).
     */
    async close() {
      if (db.open) {
        writer.drain();
        db.close();
      }
      await Promise.all([writer.close(), checkpointer?.stop()]);
    },
  };

  // The overview reads every session of its range: a database file is read by a worker thread with a
  // connection of its own (overview-worker.ts), so the event loop never waits on it; a memory database
  // has no file to share and is read here.
  const extras =
    file === ':memory:'
      ? {}
      : { overview: (query: OverviewQuery) => sharedOverviewPool().run({ file, query }) };
  const store = Object.assign(createStore(engine, extras), {
    db,
    write: <T>(work: () => T): Promise<T> => writer.run(work),
    runNow,
    queryPlans(): { sql: string; plan: string[] }[] {
      return texts().map((sql) => {
        // A '?' inside a string literal (the overview's URL expressions) is text, not a parameter.
        const params = new Array<null>((sql.replace(/'[^']*'/g, '').match(/\?/g) ?? []).length).fill(null);
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
        return { sql, plan: rows.map((r) => r.detail) };
      });
    },
  });
  // Getters, not values copied once (Object.assign would copy them).
  return Object.defineProperties(store, {
    pendingWrites: { get: () => writer.pending, enumerable: true },
    commitGroups: { get: () => writer.groups, enumerable: true },
  }) as SqliteStore;
}
