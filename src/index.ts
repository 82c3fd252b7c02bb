// The npm entry: `import { init } from 'spoor'`. Only the bootstrap is in this file; the core, the
// recorder, web-vitals and the Flameup direct mode sit behind dynamic import() so that bundlers split
// them into chunks loaded only once the page is tracked (the core), records (the recorder), reports
// vitals or mirrors to Flameup (the `flameup` option).

import type { Tracker } from './api';
import type { Options } from './config';
import { bootPage } from './entry/bootstrap';
import { hasPage, inertTracker, onePerPage } from './entry/page';

export type { Tracker } from './api';
export type { Consent, FlameupOption, Goal, Options } from './config';
export type { DebugEvent } from './lib/debug';
export type { DropReason } from './types';

/** Starts Spoor in this page and returns its tracker at once; calls made before the core has loaded
 * are queued and replayed in order. Called again with equal options, returns the same tracker; with
 * other options, stops the first and starts anew. Where there is no page (server-side rendering,
 * workers) returns a tracker that does nothing. Never throws. */
export function init(options: Options): Tracker {
  if (!hasPage()) return inertTracker();
  try {
    return onePerPage(options, () =>
      bootPage(options, () => import('./tracker').then((module) => module.createTracker), {
        recorder: () => import('./observe/recorder').then((module) => module.startRecorder),
        vitals: () => import('./observe/vitals').then((module) => module.startVitals),
        flameup: () => import('./flameup/flameup').then((module) => module.startFlameup),
        // No worker file in a bundle, and a blob: worker would be refused (and reported) by a strict
        // CSP this package cannot see: gzip on the main thread.
        compressor: () => import('./deliver/compressor').then((module) => module.startCompressor()),
      }),
    );
  } catch (error) {
    // Only a hostile page gets here (a frozen window, a throwing getter); the page still gets a tracker.
    try {
      options?.onError?.(error);
    } catch {}
    return inertTracker();
  }
}
