// spoor.min.js, the script-tag build: reads its options from the data-* attributes of its own
// <script> element, replays the calls queued by the one-line stub (CONTRACT.md section 7) and then
// answers `spoor('track', ...)`, `spoor('debug', listener)` and the rest directly.

import { type Options, readDataAttributes } from './config';
import { loadScript, RECORDER_GLOBAL, VITALS_GLOBAL } from './lazy';
import { createTracker, type Tracker } from './tracker';

type Command = 'init' | 'track' | 'identify' | 'flush' | 'stop' | 'consent' | 'debug';
type Spoor = ((command: Command, ...args: unknown[]) => unknown) & {
  q?: IArguments[] | unknown[][];
  version?: string;
};

(() => {
  const win = window as unknown as { spoor?: Spoor };
  // A second copy of the snippet in one page must not start a second tracker.
  if (win.spoor?.version) return;
  const script = (document.currentScript ||
    document.querySelector('script[src*="spoor.min.js"]')) as HTMLScriptElement | null;
  const base = script ? script.src.replace(/[^/]*$/, '') : '';
  const nonce = script?.nonce || script?.getAttribute('nonce') || '';
  let options: Partial<Options> = {};
  try {
    if (script) options = readDataAttributes(script);
  } catch (error) {
    if (typeof console !== 'undefined') console.error('[spoor] unreadable data-* attribute', error);
  }
  // The tracker, once there is an endpoint (data-endpoint or spoor('init', options)).
  let tracker: Tracker | undefined;
  // Calls made before init, replayed after it.
  const early: unknown[][] = [];

  const init = (extra: Partial<Options>) => {
    tracker ??= createTracker({ ...options, ...extra } as Options, {
      recorder: () => loadScript(`${base}spoor.recorder.min.js`, RECORDER_GLOBAL, nonce),
      vitals: () => loadScript(`${base}spoor.vitals.min.js`, VITALS_GLOBAL, nonce),
    });
    for (const call of early.splice(0)) spoor(...(call as [Command, ...unknown[]]));
  };

  const spoor: Spoor = (command, ...args) => {
    try {
      if (command === 'init') return init((args[0] as Partial<Options>) || {});
      if (!tracker) {
        early.push([command, ...args]);
        return undefined;
      }
      switch (command) {
        case 'track':
          return tracker.track(args[0] as string, args[1] as Record<string, unknown>);
        case 'identify':
          return tracker.identify(args[0] as string);
        case 'flush':
          return tracker.flush();
        case 'stop':
          return tracker.stop();
        case 'consent':
          return tracker.consent(args[0] !== false && args[0] !== 'denied');
        case 'debug':
          return tracker.onDebug(args[0] as (event: unknown) => void);
      }
      throw new Error(`spoor: unknown command ${String(command)}`);
    } catch (error) {
      // The page's call is answered with nothing rather than an exception.
      options.onError?.(error);
      if (options.debug && typeof console !== 'undefined') console.error('[spoor]', error);
      return undefined;
    }
  };
  spoor.version = '1';
  const queued = win.spoor?.q ?? [];
  win.spoor = spoor;
  if (options.endpoint) init({});
  for (const call of Array.from(queued as ArrayLike<ArrayLike<unknown>>)) {
    spoor(...(Array.from(call) as [Command, ...unknown[]]));
  }
})();
