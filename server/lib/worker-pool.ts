// Worker threads for CPU-heavy work that must not run on the event loop (parsing /track bodies,
// building get-events pages), behind a bounded queue: past the bound the collector answers 503 with
// Retry-After, which clients meet with their backoff, rather than pile work up in memory.
import { Piscina } from 'piscina';
import { httpError } from '../http/errors.js';

export interface WorkerPool<Task, Result> {
  run(task: Task): Promise<Result>;
  close(): Promise<void>;
}

export interface WorkerPoolOptions<Task> {
  /** The worker module, as a URL relative to the caller's `import.meta.url` (e.g. `./worker.ts`);
   *  a built collector runs the `.js` twin. */
  worker: URL;
  threads: number;
  /** What one task costs against `maxQueued` (1, or its bytes). */
  cost: (task: Task) => number;
  /** Cost of the tasks waiting for or in a worker beyond which a new one is refused. */
  maxQueued: number;
}

export function createWorkerPool<Task, Result>(options: WorkerPoolOptions<Task>): WorkerPool<Task, Result> {
  // When the collector runs from its TypeScript sources (tsx, Vitest), the worker needs the same loader.
  const fromSource = options.worker.pathname.endsWith('.ts');
  let queued = 0;
  // Started on first use: a collector that never needs this work never spawns the threads.
  let pool: Piscina | null = null;
  return {
    async run(task) {
      const cost = options.cost(task);
      if (queued > 0 && queued + cost > options.maxQueued) {
        throw httpError(503, 'The collector is busy; try again shortly.', { 'Retry-After': 1 });
      }
      if (!pool) {
        pool = new Piscina({
          filename: options.worker.href,
          minThreads: 0,
          maxThreads: options.threads,
          // An idle worker exits (and is unreferenced until then), so it never holds a process open.
          idleTimeout: 30_000,
          execArgv: fromSource ? ['--import', 'tsx'] : [],
        });
        // A worker that dies (it could not load, or ran out of memory) fails its task, which the route
        // answers with a 500; unhandled, Piscina's 'error' event would end the whole process.
        pool.on('error', (error: unknown) => console.error('worker thread failed', error));
      }
      queued += cost;
      try {
        return (await pool.run(task)) as Result;
      } finally {
        queued -= cost;
      }
    },
    async close() {
      const p = pool;
      pool = null;
      await p?.destroy();
    },
  };
}

/** The `.ts` module beside `base` while running from sources, else its compiled `.js` twin. */
export function workerModule(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
