// The tracker as the page sees it, and the seam between the bootstrap (the first file every page pays
// for) and the lazily loaded core: what the bootstrap hands the core and how the core loads the
// recorder, the vitals and the Flameup mirror. Types only, so that the bootstrap and the core both
// import them without importing each other, and importing them costs the first file nothing.

import type { Config } from './config';
import type { Compressor } from './deliver/compress';
import type { Outbox } from './deliver/outbox';
import type { Flameup, FlameupOptions } from './flameup/flameup';
import type { Boundary } from './lib/boundary';
import type { Debug, DebugEvent } from './lib/debug';
import type { StartRecorder } from './observe/recorder';
import type { Landing } from './observe/visits';
import type { KeyValue } from './state/storage';
import type { DropReason, Enqueue, ReportError, Stop } from './types';

export interface Tracker {
  /** Sends a named event with optional parameters (a plain JSON-like object). */
  track(name: string, parameters?: Record<string, unknown>): void;
  /** Ties the session to your own id for the visitor. */
  identify(externalId: string | number): void;
  /** Sends what is pending; settles once it is delivered, kept for later, or dropped. Never rejects. */
  flush(): Promise<void>;
  /** Stops tracking in this page after sending what is pending. */
  stop(): void;
  /** Grants or withdraws consent. Withdrawing stops everything and forgets stored state. */
  consent(granted: boolean): void;
  /** Calls listener with the last 200 debug events, then with every new one. Returns its removal. */
  onDebug(listener: (event: DebugEvent) => void): () => void;
}

export type StartVitals = (opts: {
  enqueue: Enqueue;
  report: ReportError;
  onDrop: (reason: DropReason, detail: string) => void;
}) => Stop;

/** startFlameup in flameup/flameup.ts, loaded only with the `flameup` option. */
export type StartFlameup = (opts: FlameupOptions) => Flameup;

/** How the lazily loaded parts arrive: dynamic import() for npm, a second script file for the script tag. */
export interface Loaders {
  recorder: () => Promise<StartRecorder>;
  vitals: () => Promise<StartVitals>;
  flameup: () => Promise<StartFlameup>;
  /** The gzip compressor (deliver/compressor.ts), in a worker when `worker` is true and the page allows
   *  one. Optional: without it bodies go uncompressed. */
  compressor?: (worker: boolean) => Promise<Compressor>;
}

/** What the core touches in the browser; tests pass fakes. */
export interface Environment {
  win: Window;
  fetch: typeof fetch;
  sendBeacon?: (url: string, data: BodyInit) => boolean;
  local: KeyValue;
  tabStore: KeyValue;
  outbox?: Outbox;
  now: () => number;
  random: () => number;
}

/** What the bootstrap hands the core. It crosses two separately minified files in the script-tag
 * build, so nothing in it may be `_`-prefixed (those names are mangled per file). */
export interface Context {
  loaders: Loaders;
  env: Environment;
  /** The bootstrap's debug log: listeners added before the core loaded keep their history. */
  debug: Debug;
  boundary: Boundary;
  /** Why analytics run but the recorder must never load (Global Privacy Control). */
  noRecording?: DropReason | undefined;
  /** The page when the bootstrap asked for the core: the first visit and the session's entry URL. */
  landing?: Landing | undefined;
}

/** The core's factory: `createTracker` in tracker.ts. */
export type CreateTracker = (config: Config, context: Context) => Tracker;
