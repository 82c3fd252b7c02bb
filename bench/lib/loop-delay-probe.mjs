// Loaded with `--import` (after tsx) into the collector process that bench/hostile.mjs starts: samples
// that process's own event loop (server/lib/loop-delay.ts) and answers the bench over the IPC channel.
import { startLoopDelayProbe } from '../../server/lib/loop-delay.ts';

startLoopDelayProbe();
