// The overview's worker thread (overview-pool.ts): its own read-only connection to the database file
// runs the overview's aggregations (overview.ts), which read every session of the range and would
// otherwise hold the collector's event loop for as long (half a second for 100,000 sessions). WAL lets
// it read what is committed while /track goes on writing. Piscina calls the default export per task.
import Database from 'better-sqlite3';
import { type OverviewQuery, type OverviewRows, overviewProgram } from './overview.js';
import { runSync, sqliteDialect } from './sql.js';
import { type SqliteExecutor, sqliteExecutor } from './sqlite-exec.js';

export interface OverviewTask {
  file: string;
  query: OverviewQuery;
}

let open: { file: string; db: Database.Database; exec: SqliteExecutor['exec'] } | null = null;

export default function overviewTask(task: OverviewTask): OverviewRows {
  if (open?.file !== task.file) {
    open?.db.close();
    const db = new Database(task.file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    open = { file: task.file, db, exec: sqliteExecutor(db).exec };
  }
  return runSync(overviewProgram(sqliteDialect, task.query), open.exec);
}
