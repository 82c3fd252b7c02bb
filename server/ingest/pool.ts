// The worker threads that check /track bodies (check.ts). JSON.parse of a few megabytes takes tens of
// milliseconds, and every other request would wait that long if it ran on the event loop; a worker
// takes it to another core. The queue is bounded by bytes, so bodies waiting cannot fill memory.
import { availableParallelism } from 'node:os';
import { createWorkerPool, type WorkerPool, workerModule } from '../lib/worker-pool.js';
import type { CheckResult, CheckTask } from './check.js';

export type IngestPool = WorkerPool<CheckTask, CheckResult>;

export function createIngestPool(options: { threads?: number; maxQueuedBytes?: number } = {}): IngestPool {
  return createWorkerPool<CheckTask, CheckResult>({
    worker: workerModule('worker', import.meta.url),
    threads: options.threads ?? Math.max(1, availableParallelism() - 1),
    cost: (task) => task.bytes.byteLength,
    maxQueued: options.maxQueuedBytes ?? 64 * 1024 * 1024,
  });
}

// One pool per process: apps made in one process (tests make many) share its threads.
let shared: IngestPool | null = null;

export function sharedIngestPool(): IngestPool {
  shared ??= createIngestPool();
  return shared;
}
