// rrweb recording with privacy on by default, and the frustration and failure signals that go into it
// (observe/signals/). Loaded lazily, only once recording actually starts: by dynamic import() from the
// npm build and as spoor.recorder.min.js from the script tag.

import { record } from '@rrweb/record';
import type { Enqueue, ReportError, Stop } from '../types';
import { type SignalOptions, startSignals } from './signals/signals';

export interface RecorderOptions {
  enqueue: Enqueue;
  report: ReportError;
  /** The snippet's resolved options (config.ts), of which the recorder reads these: the core hands over
   *  the whole object, which costs its file fewer bytes than copying fields. */
  config: RecorderConfig;
}

/** The options the recorder reads: privacy, and which frustration and failure signals to record
 *  alongside (observe/signals/). */
export type RecorderConfig = SignalOptions & {
  /** CSS selectors added to the classes spoor-mask / spoor-block. */
  mask: string;
  block: string;
  maskAllInputs: boolean;
};

export interface Recorder {
  /** Starts the recording over with a full snapshot, so what follows replays after a lost batch. */
  takeFullSnapshot(): void;
  stop: Stop;
}

export type StartRecorder = (opts: RecorderOptions) => Recorder;

/** Password fields are never recorded, whatever maskAllInputs says: their input events are ignored and
 * their value masked in snapshots. */
const PASSWORD = 'input[type="password" i]';

/** The User Timing measure around rrweb's start, which takes the full snapshot: the longest task
 *  recording causes on a large page is rrweb's, and DevTools (and the bench) can tell it apart. */
export const SNAPSHOT_MEASURE = 'spoor: rrweb full snapshot';

export const startRecorder: StartRecorder = (opts) => {
  const { config } = opts;
  const started = performance.now();
  const stop = record({
    emit: (event) => opts.enqueue(event as Parameters<Enqueue>[0]),
    blockClass: 'spoor-block',
    ...(config.block ? { blockSelector: config.block } : {}),
    ignoreClass: 'spoor-ignore',
    ignoreSelector: PASSWORD,
    maskTextClass: 'spoor-mask',
    ...(config.mask ? { maskTextSelector: config.mask } : {}),
    maskAllInputs: config.maskAllInputs,
    maskInputOptions: { password: true },
    sampling: { mousemove: 50 },
    slimDOMOptions: 'all',
    recordCanvas: false,
    inlineImages: false,
    collectFonts: false,
    errorHandler: (error) => {
      opts.report(error);
      return true;
    },
  });
  try {
    performance.measure(SNAPSHOT_MEASURE, { start: started });
  } catch {
    // User Timing Level 3 is missing (Safari before 14.1): nothing to show.
  }
  // After rrweb has started, so that every signal lands after the full snapshot it refers to.
  const stopSignals = startSignals(window, opts.enqueue, opts.report, config);
  return {
    takeFullSnapshot() {
      try {
        record.takeFullSnapshot(true);
      } catch (error) {
        opts.report(error);
      }
    },
    stop() {
      stopSignals();
      stop?.();
    },
  };
};
