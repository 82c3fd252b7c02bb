// Frustration and failure signals, started and stopped with the recorder (observe/recorder.ts): they
// emit custom events into the recording, so that the replay's timeline can mark them and the
// collector can count them per visit (docs/contract.md, "Events"). Each detector is switched by its
// own option; they ride in the recording's batches and cost no request of their own.
//
// Errors thrown before the recorder has loaded are not seen: the recorder loads right after the core,
// and a buffer in the first file would cost every page bytes for errors that the page's own console
// already shows (README, "Frustration and failure signals").

import type { Enqueue, ReportError, Stop } from '../../types';
import { startDeadClicks } from './dead';
import { startErrors } from './errors';
import { startRageClicks } from './rage';
import { startFailedRequests } from './requests';
import { capped, FLAMEUP_URL, type SignalOptions } from './shared';

export type { SignalOptions };

export function startSignals(win: Window, enqueue: Enqueue, report: ReportError, opts: SignalOptions): Stop {
  const emit = capped(enqueue);
  const stops: Stop[] = [];
  const start = (on: boolean, fn: () => Stop): void => {
    if (!on) return;
    try {
      stops.push(fn());
    } catch (error) {
      report(error);
    }
  };
  start(opts.rageClicks, () => startRageClicks(win.document, emit));
  start(opts.deadClicks, () => startDeadClicks(win, emit));
  start(opts.errors, () => startErrors(win, emit, opts.requestQueries));
  start(opts.failedRequests, () =>
    startFailedRequests(win, emit, {
      keepQuery: opts.requestQueries,
      own: [opts.endpoint, opts.flameup ? (opts.flameup.url ?? FLAMEUP_URL) : ''].filter(Boolean),
    }),
  );
  return () => {
    for (const stop of stops.splice(0)) {
      try {
        stop();
      } catch (error) {
        report(error);
      }
    }
  };
}
