// Seconds the current visit has been visible and focused (docs/contract.md, "Store session recording data", `timer`): one
// decimal, reset at each visit, never decreasing within a visit.

import type { Stop } from '../types';

export interface Timer {
  /** Active seconds of the current visit, rounded down to one decimal. */
  seconds(): number;
  /** Starts counting a new visit from zero. */
  reset(): void;
  stop: Stop;
}

export function startTimer(win: Window = window, now: () => number = () => performance.now()): Timer {
  const doc = win.document;
  // Milliseconds of active time banked before `since`.
  let banked = 0;
  // When the current active stretch began, or undefined while paused.
  let since: number | undefined;
  // The largest value handed out this visit: rounding must never make the value go down.
  let highest = 0;

  const active = () => {
    try {
      return doc.visibilityState === 'visible' && doc.hasFocus();
    } catch {
      return doc.visibilityState === 'visible';
    }
  };
  const elapsed = () => banked + (since === undefined ? 0 : now() - since);
  const update = (forceActive?: boolean) => {
    const on = forceActive ?? active();
    if (on && since === undefined) since = now();
    if (!on && since !== undefined) {
      banked = elapsed();
      since = undefined;
    }
  };
  // `focus` and `blur` of the window tell focus apart from visibility; pagehide/pageshow cover
  // the bfcache, where Safari does not always fire visibilitychange.
  const onFocus = () => update(doc.visibilityState === 'visible');
  const onBlur = () => update(false);
  const onChange = () => update();
  const listeners: [string, () => void][] = [
    ['focus', onFocus],
    ['blur', onBlur],
    ['pageshow', onChange],
    ['pagehide', onBlur],
  ];
  for (const [type, fn] of listeners) win.addEventListener(type, fn);
  doc.addEventListener('visibilitychange', onChange);
  update();

  return {
    seconds() {
      highest = Math.max(highest, Math.floor(elapsed() / 100) / 10);
      return highest;
    },
    reset() {
      banked = 0;
      highest = 0;
      since = undefined;
      update();
    },
    stop() {
      update(false);
      for (const [type, fn] of listeners) win.removeEventListener(type, fn);
      doc.removeEventListener('visibilitychange', onChange);
    },
  };
}
