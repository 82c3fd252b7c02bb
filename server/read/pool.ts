// The worker thread that builds get-events pages (page.ts). One thread: reads are few (a token holder
// replaying a session) and /track's own workers need the other cores. At most 16 pages wait for it.
import { createWorkerPool, type WorkerPool, workerModule } from '../lib/worker-pool.js';
import type { PageResult, PageTask } from './page.js';

export type PagePool = WorkerPool<PageTask, PageResult>;

export function createPagePool(options: { threads?: number; maxQueued?: number } = {}): PagePool {
  return createWorkerPool<PageTask, PageResult>({
    worker: workerModule('worker', import.meta.url),
    threads: options.threads ?? 1,
    cost: () => 1,
    maxQueued: options.maxQueued ?? 16,
  });
}

// One pool per process: apps made in one process (tests make many) share its thread.
let shared: PagePool | null = null;

export function sharedPagePool(): PagePool {
  shared ??= createPagePool();
  return shared;
}
