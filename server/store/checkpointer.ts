// WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside the COMMIT that
// pushes the WAL past 1000 pages: that request (and, since better-sqlite3 is synchronous, every other
// one) waited while megabytes were copied into the database file and fsynced. Here the store turns
// the automatic checkpoint off and a worker thread with its own connection runs a PASSIVE checkpoint
// on a timer: PASSIVE never takes the writer's lock, so commits go on meanwhile, on another core.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface Checkpointer {
  /** Stops the timer and closes the worker's connection (the store then closes its own). */
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  /** @default 1000 */
  intervalMs?: number;
  /** When the worker cannot run (it failed to start or its connection failed). */
  onError: (error: unknown) => void;
}

// Plain CommonJS for `eval`: the worker must not depend on the TypeScript loader of its parent.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // SQLITE_BUSY: another checkpoint is running (the store's own, on close); try again next time.
    if (error && error.code !== 'SQLITE_BUSY') throw error;
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(file: string, options: CheckpointerOptions): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: { file, driver, intervalMs: options.intervalMs ?? 1000 },
    // The parent's --import (tsx) is not needed and would only slow the worker's start.
    execArgv: [],
  });
  // A checkpointer alone must not keep the process alive.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping = false;
  worker.on('error', (error) => {
    if (!stopping) options.onError(error);
  });
  return {
    stop(): Promise<void> {
      if (!stopping) {
        stopping = true;
        worker.postMessage('stop');
      }
      return exited;
    },
  };
}
