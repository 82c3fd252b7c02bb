// Erasure and retention: deleting a visitor's sessions with every row attached to them, in the
// collector's tables and in the Flameup relay's queue. Nothing here runs a long transaction: a session
// is deleted a bounded number of rows at a time, each piece in a savepoint of the next group commit
// (server/store/writer.ts), so /track's writes keep interleaving with an erasure of any size
// (docs/contract.md, "Retention and erasure").
import type { Program } from './sql.js';
import type { Store } from './store.js';

/** Rows deleted per piece: a few milliseconds of work, even when the rows are large batches. */
const ROWS_PER_CHUNK = 200;

export interface Eraser {
  /** Erases these sessions whole; resolves with how many existed, once their deletion is durable. */
  erase(sessionIds: readonly number[]): Promise<number>;
}

export interface EraserOptions {
  store: Store;
  /** Deletes rows kept for the sessions elsewhere (the Flameup relay's queue), in the same savepoint. */
  forget?: (sessionIds: readonly number[]) => Program<void>;
  rowsPerChunk?: number;
}

export function createEraser(options: EraserOptions): Eraser {
  const { store } = options;
  const rows = options.rowsPerChunk ?? ROWS_PER_CHUNK;
  return {
    async erase(sessionIds) {
      let erased = 0;
      for (const id of new Set(sessionIds)) {
        if (!(await store.sessionById(id))) continue;
        const forget = options.forget;
        let done = false;
        while (!done) {
          done = await store.eraseSessionChunk(id, rows, forget ? () => forget([id]) : undefined);
        }
        erased++;
      }
      return erased;
    },
  };
}

export interface RetentionOptions {
  store: Store;
  eraser: Eraser;
  /** Sessions created more than this many days ago are erased; 0 keeps everything. */
  days: number;
  /** How often the sweep runs. @default one hour */
  intervalMs?: number;
  /** Wait before the first sweep after start, so that a start is not slowed by one. @default 10 s */
  firstDelayMs?: number;
  now?: () => number;
  /** Called after a sweep that erased something. */
  onSweep?: (erased: number) => void;
  onError?: (error: unknown) => void;
}

export interface Retention {
  /** One sweep now (tests; the timer calls the same); resolves with the sessions erased. */
  sweep(): Promise<number>;
  /** Stops the timer and waits for a sweep in progress to finish its current piece. */
  stop(): Promise<void>;
}

const SESSIONS_PER_QUERY = 100;

export function startRetention(options: RetentionOptions): Retention {
  const now = options.now ?? Date.now;
  let stopped = false;
  let running: Promise<number> | null = null;

  const sweepOnce = async (): Promise<number> => {
    // Whatever the retention, the engine's upkeep runs on the same timer (PostgreSQL's partitions).
    await options.store.upkeep(now());
    if (options.days <= 0) return 0;
    const cutoff = now() - options.days * 86_400_000;
    let erased = 0;
    // Recordings of whole months past the cutoff go first, a partition at a time where the engine
    // has them (PostgreSQL): the sessions they belong to are all older than the cutoff.
    await options.store.dropExpired(cutoff);
    for (const project of await options.store.projects()) {
      while (!stopped) {
        const ids = await options.store.sessionsCreatedBefore(project.id, cutoff, SESSIONS_PER_QUERY);
        if (ids.length === 0) break;
        erased += await options.eraser.erase(ids);
      }
    }
    if (erased > 0) options.onSweep?.(erased);
    return erased;
  };

  const sweep = (): Promise<number> => {
    running ??= sweepOnce().finally(() => {
      running = null;
    });
    return running;
  };

  const tick = () => {
    sweep().catch((error) => options.onError?.(error));
  };
  const first = setTimeout(tick, options.firstDelayMs ?? 10_000);
  const timer = setInterval(tick, options.intervalMs ?? 3_600_000);
  // The sweep must never be what keeps a stopping process alive.
  first.unref();
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
