// The ingest worker's entry: piscina calls the default export with each task (server/ingest/pool.ts).
import { type CheckResult, type CheckTask, checkBatch } from './check.js';

export default function checkTask(task: CheckTask): CheckResult {
  return checkBatch(task);
}
