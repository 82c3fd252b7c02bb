// The thread that computes overviews (overview-worker.ts). One thread, and at most 4 overviews waiting
// for it: past that the collector answers 503 with Retry-After (server/lib/worker-pool.ts), so that a
// dashboard refreshing a year of sessions cannot pile work up.
import { createWorkerPool, type WorkerPool, workerModule } from '../lib/worker-pool.js';
import type { OverviewRows } from './overview.js';
import type { OverviewTask } from './overview-worker.js';

export type OverviewPool = WorkerPool<OverviewTask, OverviewRows>;

// One pool per process: stores opened in one process (tests open many) share its thread, which exits
// when idle.
let shared: OverviewPool | null = null;

export function sharedOverviewPool(): OverviewPool {
  shared ??= createWorkerPool<OverviewTask, OverviewRows>({
    worker: workerModule('overview-worker', import.meta.url),
    threads: 1,
    cost: () => 1,
    maxQueued: 4,
  });
  return shared;
}
