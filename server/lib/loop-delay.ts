// How long the collector's event loop was held up, sampled inside the collector process with
// perf_hooks.monitorEventLoopDelay, for the hostile-input benchmark (bench/hostile.mjs). The bench starts
// the collector with an IPC channel and this probe loaded, and around each request asks it to reset and
// then to read the histogram. Nothing is served over HTTP, so there is nothing for a visitor to reach.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelayReading {
  /** The longest gap between two samples since the last reset, ms (an idle loop shows about `resolutionMs`). */
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  /** Samples since the last reset. */
  samples: number;
  resolutionMs: number;
}

/** Messages the parent sends; the probe answers each with `{ loopDelay: LoopDelayReading }`. */
export type LoopDelayRequest = { loopDelay: 'reset' | 'read' };

export function readLoopDelay(histogram: IntervalHistogram, resolutionMs: number): LoopDelayReading {
  const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
  return {
    maxMs: ms(histogram.max),
    p99Ms: ms(histogram.percentile(99)),
    meanMs: ms(histogram.mean),
    samples: histogram.count,
    resolutionMs,
  };
}

/**
 * Starts sampling and, when this process has an IPC channel, answers the parent's requests on it.
 * Returns a function that stops both.
 */
export function startLoopDelayProbe(resolutionMs = 5): () => void {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const send = process.send?.bind(process);
  if (!send) return () => histogram.disable();
  const onMessage = (message: unknown) => {
    const request = (message as Partial<LoopDelayRequest> | null)?.loopDelay;
    if (request === 'reset') histogram.reset();
    if (request === 'reset' || request === 'read')
      send({ loopDelay: readLoopDelay(histogram, resolutionMs) });
  };
  process.on('message', onMessage);
  // Listening refs the channel; the collector must still exit on SIGTERM once its work is done.
  process.channel?.unref();
  return () => {
    histogram.disable();
    process.off('message', onMessage);
  };
}
