// The overview's worker thread (overview-pool.ts): its own read-only connection to the database file
// runs the overview's aggregations (overview.ts), which read every session of the range and would
// otherwise hold the collector's event loop for as long (half a second for 100,000 sessions). WAL lets
// it read what is committed while /track goes on writing. Piscina calls the default export per task.
import Database from 'better-sqlite3';
import { type OverviewQuery, type OverviewRows, overviewProgram } from './overview.js';
import { type Op, runSync, sqliteDialect } from './sql.js';

export interface OverviewTask {
  file: string;
  query: OverviewQuery;
}

let open: { file: string; db: Database.Database; cache: Map<string, Database.Statement> } | null = null;

export default function overviewTask(task: OverviewTask): OverviewRows {
  if (open?.file !== task.file) {
    open?.db.close();
    const db = new Database(task.file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    open = { file: task.file, db, cache: new Map() };
  }
  const { db, cache } = open;
  const stmt = (sql: string): Database.Statement => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const exec = (op: Op): unknown =>
    op.kind === 'get' ? stmt(op.sql).get(...op.params) : stmt(op.sql).all(...op.params);
  return runSync(overviewProgram(sqliteDialect, task.query), exec);
}
