// How a better-sqlite3 connection runs the statements of a store program (server/store/sql.ts): each
// distinct SQL text is prepared once. The store's own connection (sqlite.ts) and the overview's
// read-only one in its worker thread (overview-worker.ts) run programs through this.
import type Database from 'better-sqlite3';
import type { Op } from './sql.js';

export interface SqliteExecutor {
  /** Runs one statement of a program: `get`, `all`, `run` (rows changed), `insert` (its rowid). */
  exec(op: Op): unknown;
  /** The statement for a SQL text, prepared on first use. */
  statement(sql: string): Database.Statement;
  /** Every SQL text prepared so far (EXPLAIN QUERY PLAN in tests and diagnostics). */
  texts(): string[];
}

export function sqliteExecutor(db: Database.Database): SqliteExecutor {
  // Statements built from whitelisted fragments are prepared once per distinct SQL text.
  const cache = new Map<string, Database.Statement>();
  const statement = (sql: string): Database.Statement => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  return {
    statement,
    texts: () => [...cache.keys()],
    exec(op) {
      const s = statement(op.sql);
      if (op.kind === 'get') return s.get(...op.params);
      if (op.kind === 'all') return s.all(...op.params);
      if (op.kind === 'insert') return Number(s.run(...op.params).lastInsertRowid);
      return s.run(...op.params).changes;
    },
  };
}
