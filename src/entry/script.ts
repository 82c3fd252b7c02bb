// spoor.min.js, the script-tag bootstrap: reads its options from the data-* attributes of its own
// <script> element, replays the calls queued by the one-line stub (docs/contract.md, "Installing the snippet") and then
// answers `spoor('track', ...)`, `spoor('debug', listener)` and the rest directly. The core
// (spoor.core.min.js) is loaded from the same directory only once the page is tracked (bootstrap.ts);
// calls made meanwhile are queued by the bootstrap and replayed in order.

import type { Tracker } from '../api';
import { type Options, readDataAttributes } from '../config';
import type { startCompressor } from '../deliver/compressor';
import { boot } from './bootstrap';
import {
  COMPRESS_GLOBAL,
  CORE_GLOBAL,
  FLAMEUP_GLOBAL,
  loadScript,
  RECORDER_GLOBAL,
  VITALS_GLOBAL,
} from './lazy';

type Command = 'init' | 'track' | 'identify' | 'flush' | 'stop' | 'consent' | 'debug';
type Spoor = ((command: Command, ...args: unknown[]) => unknown) & {
  q?: IArguments[] | unknown[][];
  version?: string;
};

(() => {
  // Loaded by importScripts() in a worker there is no page to observe, and no `window`.
  if (typeof window === 'undefined' || typeof document === 'undefined') return;
  const win = window as unknown as { spoor?: Spoor };
  // A second copy of the snippet in one page must not start a second tracker.
  if (win.spoor?.version) return;
  const script = (document.currentScript ||
    document.querySelector('script[src*="spoor.min.js"]')) as HTMLScriptElement | null;
  const base = script ? script.src.replace(/[^/]*$/, '') : '';
  const nonce = script?.nonce || script?.getAttribute('nonce') || '';
  const load = <T>(file: string, global: string) => loadScript<T>(`${base}${file}`, global, nonce);
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
    tracker ??= boot({ ...options, ...extra } as Options, () => load('spoor.core.min.js', CORE_GLOBAL), {
      recorder: () => load('spoor.recorder.min.js', RECORDER_GLOBAL),
      vitals: () => load('spoor.vitals.min.js', VITALS_GLOBAL),
      flameup: () => load('spoor.flameup.min.js', FLAMEUP_GLOBAL),
      // The worker file sits beside this one: same-origin when the site serves the snippet itself.
      compressor: (worker) =>
        load<typeof startCompressor>('spoor.compress.min.js', COMPRESS_GLOBAL).then((start) =>
          start(`${base}spoor.worker.min.js`, worker),
        ),
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
      if (command === 'consent') return tracker.consent(args[0] !== false && args[0] !== 'denied');
      const method = command === 'debug' ? 'onDebug' : command;
      if (Object.hasOwn(tracker, method)) return (tracker[method] as (...a: unknown[]) => unknown)(...args);
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
