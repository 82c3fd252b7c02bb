// Group commit for the /track path. One transaction per request made every request wait for its own
// fsync, in a line, on the event loop (better-sqlite3 is synchronous). Here a write joins a queue; the
// queue commits as one transaction, each write in a savepoint of its own so that one that throws rolls
// back its own rows and nothing of its neighbours'; then the WAL is fsynced on libuv's thread pool, and
// only then does each write's promise settle. Writes that arrive meanwhile wait for that fsync and
// form the next group: one fsync per group however many requests it holds.
//
// Durability. The connection runs with synchronous = FULL: every other commit (a new session, a tab)
// is fsynced inside COMMIT as before. A group commits with synchronous = NORMAL, which in WAL mode
// writes its frames to the WAL and skips the fsync, and the writer then calls fdatasync on the WAL
// itself before anyone is answered. What survives:
// - a process crash (SIGKILL, OOM): everything committed, answered or not (the OS holds the writes);
// - a power loss: every group whose writes were answered (their frames were on disk first); a group
//   still waiting for its fdatasync may be lost as a whole (WAL frames are checksummed: recovery keeps
//   whole transactions only), and none of its requests was answered, so their senders retry.
// NORMAL still syncs the WAL before a checkpoint copies it into the database file, so no answered
// frame is overwritten before it is in the synced file.
import { close as closeFd, fdatasync, openSync } from 'node:fs';
import type Database from 'better-sqlite3';

/** What one group did: for tests and diagnostics. */
export interface GroupInfo {
  /** Writes in the group. */
  jobs: number;
  /** Writes that threw (rolled back to their savepoint) or failed with the commit or the fsync. */
  failed: number;
}

export interface WriterOptions {
  /** Most writes per transaction, so that one group cannot hold the loop for long. @default 128 */
  maxGroup?: number;
  /**
   * How a group is scheduled once a write is queued and no fsync is in flight. The default,
   * setImmediate, lets every request whose body was read in the same turn of the loop join. Tests
   * pass their own to decide when a group commits.
   */
  schedule?: (commit: () => void) => void;
  /** Called once each group is settled. */
  onGroup?: (info: GroupInfo) => void;
}

export interface Writer {
  /**
   * Runs `work` inside the next group's transaction, in its own savepoint. Resolves with its result
   * once the group is durable; rejects with its error (its writes undone) or the group's.
   * `work` must be synchronous: the group's transaction is open only while it runs.
   */
  run<T>(work: () => T): Promise<T>;
  /**
   * Resolves once everything committed so far is durable (rejects if that fsync failed): a reader
   * that found a row written by a group must wait for this before promising anything about it.
   */
  durable(): Promise<void>;
  /** Commits everything queued, now, fsynced inside COMMIT (the database is about to close). */
  drain(): void;
  /** Closes the writer's handle on the WAL once the fsync in flight, if any, is done. */
  close(): Promise<void>;
  /** Writes queued and not yet committed. */
  readonly pending: number;
  /** Groups committed (or failed) so far. */
  readonly groups: number;
}

interface Job {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * @param walFile the database's `-wal` file, fsynced after each group; null when the database is not
 *   in WAL mode (in memory): groups then commit with the connection's own synchronous setting.
 */
export function createWriter(
  db: Database.Database,
  walFile: string | null,
  options: WriterOptions = {},
): Writer {
  const maxGroup = options.maxGroup ?? 128;
  const schedule = options.schedule ?? ((commit: () => void) => setImmediate(commit));
  // Called inside an open transaction, better-sqlite3's transaction function is a SAVEPOINT: it is
  // rolled back to and released when the work throws, and the error is rethrown.
  const savepoint = db.transaction((work: () => unknown) => work());
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const relaxed = db.prepare('PRAGMA synchronous = NORMAL');
  const strict = db.prepare('PRAGMA synchronous = FULL');
  /** Writes waiting for the next group, in arrival order. */
  const queue: Job[] = [];
  /** A group is scheduled and has not run yet. */
  let scheduled = false;
  /** The fsync of the last committed group, while it is in flight. */
  let syncing: Promise<void> | null = null;
  /** The WAL, opened at the first fsync (it exists once a transaction has committed in WAL mode). */
  let walFd: number | null = null;
  let groups = 0;

  const syncWal = (): Promise<void> =>
    new Promise((resolve, reject) => {
      try {
        walFd ??= openSync(walFile as string, 'r');
      } catch (error) {
        reject(error);
        return;
      }
      // fdatasync on any descriptor of the file flushes the file's pages, whoever wrote them (Linux).
      fdatasync(walFd, (error) => (error ? reject(error) : resolve()));
    });

  /** Runs the jobs in one transaction; the outcome of each, or the error that undid them all. */
  const transact = (jobs: Job[], fsyncInside: boolean): { outcomes: Outcome[]; lost: unknown } => {
    const outcomes: Outcome[] = [];
    try {
      if (!fsyncInside) relaxed.run();
      begin.run();
    } catch (error) {
      if (!fsyncInside && db.open) strict.run();
      return { outcomes, lost: error };
    }
    let lost: unknown = null;
    for (const [i, job] of jobs.entries()) {
      let outcome: Outcome;
      try {
        outcome = { ok: true, value: savepoint(job.work) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      outcomes.push(outcome);
      if (!db.inTransaction) {
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction, not only the
        // savepoint: the writes before this one are gone too. They fail; the rest wait for a new group.
        lost = outcome.ok ? new Error('The transaction was rolled back.') : outcome.error;
        queue.unshift(...jobs.splice(i + 1));
        break;
      }
    }
    if (lost === null) {
      try {
        commit.run();
      } catch (error) {
        lost = error;
        try {
          if (db.inTransaction) db.exec('ROLLBACK');
        } catch {
          // the connection is unusable; the next BEGIN reports it to its writes
        }
      }
    }
    if (!fsyncInside) strict.run();
    return { outcomes, lost };
  };

  const settle = (jobs: Job[], outcomes: Outcome[], groupError: unknown): void => {
    let failed = 0;
    jobs.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome && !outcome.ok) {
        failed++;
        job.reject(outcome.error);
      } else if (groupError !== null || !outcome) {
        failed++;
        job.reject(groupError);
      } else job.resolve(outcome.value);
    });
    groups++;
    options.onGroup?.({ jobs: jobs.length, failed });
  };

  const commitGroup = (): void => {
    scheduled = false;
    const jobs = queue.splice(0, maxGroup);
    if (jobs.length === 0) return;
    const { outcomes, lost } = transact(jobs, walFile === null);
    if (lost !== null || walFile === null || !outcomes.some((o) => o.ok)) {
      settle(jobs, outcomes, lost);
      next();
      return;
    }
    const sync = syncWal();
    syncing = sync;
    sync.then(
      () => settle(jobs, outcomes, null),
      (error) => settle(jobs, outcomes, error),
    );
    sync
      .catch(() => undefined)
      .then(() => {
        syncing = null;
        next();
      });
  };

  const next = (): void => {
    if (queue.length > 0 && !scheduled && syncing === null) {
      scheduled = true;
      schedule(commitGroup);
    }
  };

  return {
    run<T>(work: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        next();
      });
    },
    durable(): Promise<void> {
      return syncing ?? Promise.resolve();
    },
    drain(): void {
      while (queue.length > 0) {
        const jobs = queue.splice(0, maxGroup);
        const { outcomes, lost } = transact(jobs, true);
        settle(jobs, outcomes, lost);
      }
    },
    async close(): Promise<void> {
      await syncing?.catch(() => undefined);
      if (walFd !== null) {
        const fd = walFd;
        walFd = null;
        await new Promise<void>((resolve) => closeFd(fd, () => resolve()));
      }
    },
    get pending() {
      return queue.length;
    },
    get groups() {
      return groups;
    },
  };
}
