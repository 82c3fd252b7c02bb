// The npm entry: `import { init } from 'spoor'`. The recorder and web-vitals sit behind dynamic
// import() so that bundlers split them into chunks loaded only when recording or vitals start.

import type { Options } from './config';
import { createTracker, type Tracker } from './tracker';

export type { Consent, Goal, Options } from './config';
export type { DebugEvent } from './debug';
export type { Tracker } from './tracker';
export type { DropReason } from './types';

/** Starts Spoor in this page and returns its tracker. Never throws. */
export function init(options: Options): Tracker {
  return createTracker(options, {
    recorder: () => import('./recorder').then((module) => module.startRecorder),
    vitals: () => import('./vitals').then((module) => module.startVitals),
  });
}
