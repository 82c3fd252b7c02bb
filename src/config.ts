// The snippet's configuration: one typed object with documented defaults (STYLE.md 7). `init(options)`
// and the script tag's `data-*` attributes are merged over the same DEFAULTS.

import type { DebugEvent } from './lib/debug';
import type { Goal } from './observe/goals';

export type { Goal };

/** Whether the visitor agreed to be tracked. */
export type Consent = 'granted' | 'pending' | 'denied';

export interface Options {
  /** Base URL of the collector, e.g. `https://collector.example.com/api`. Required. */
  endpoint: string;
  /** Public project key, used to mint session identifiers. Not needed with `sessionIdentifier`.
   * @default '' */
  project?: string;
  /** A session identifier rendered into the page by a backend that shares the collector's key.
   * @default undefined (the snippet mints one) */
  sessionIdentifier?: string;
  /** Milliseconds between two flushes of the pending batch.
   * @default 5000 */
  flushInterval?: number;
  /** A batch is sent as soon as its size on the wire reaches this many bytes: gzip bytes when
   * compressing (estimated from the last batch's ratio), else its JSON. Its JSON stays within 1 MB.
   * @default 100000 */
  maxBatchBytes?: number;
  /** Gzip bodies over 1 KB with `CompressionStream` when the browser has it.
   * @default true */
  compress?: boolean;
  /** Compress in a worker where the page allows one (a same-origin `spoor.worker.min.js`, else a
   * `blob:` worker), else on the main thread. `false`: always on the main thread.
   * @default true */
  worker?: boolean;
  /** `text/plain` needs no CORS preflight; `application/json` sends uncompressed JSON with that header.
   * @default 'text/plain' */
  contentType?: 'text/plain' | 'application/json';
  /** Record the page with rrweb. `false`: analytics only (visits, goals, vitals, events).
   * @default true */
  record?: boolean;
  /** CSS selector of elements whose text is masked, added to the class `spoor-mask`.
   * @default '' */
  mask?: string;
  /** CSS selector of elements left out of the recording, added to the class `spoor-block`.
   * @default '' */
  block?: string;
  /** Mask the value of every input. Password fields are never recorded, whatever this says.
   * @default true */
  maskAllInputs?: boolean;
  /** `pending` loads, records, stores and sends nothing until `consent(true)`; `denied` loads nothing and
   * clears stored state.
   * @default 'granted' */
  consent?: Consent;
  /** Record nothing when the browser sends the Global Privacy Control signal: the recorder is never
   * loaded, while visits, conversions, vitals and named events are still sent.
   * @default true */
  respectGlobalPrivacyControl?: boolean;
  /** Track nothing at all (load nothing beyond the bootstrap) when the browser sends Do Not Track.
   * @default false */
  respectDoNotTrack?: boolean;
  /** Share of sessions tracked, 0..1, decided once per session.
   * @default 1 */
  sampleRate?: number;
  /** Track even when `navigator.webdriver` says the browser is automated.
   * @default false */
  allowAutomation?: boolean;
  /** Treat changes of `location.hash` as new visits (hash-routed single-page apps).
   * @default false */
  hashRoutes?: boolean;
  /** Conversion goals.
   * @default [] */
  goals?: Goal[];
  /** Report Core Web Vitals (loaded lazily as a second file).
   * @default true */
  vitals?: boolean;
  /** Record rage clicks (3 or more clicks within 1 s on the same spot) into the recording.
   * @default true */
  rageClicks?: boolean;
  /** Record dead clicks (a click on a link or button after which nothing changed within 1 s).
   * @default true */
  deadClicks?: boolean;
  /** Record the page's uncaught errors and unhandled rejections (once per visit each; not Spoor's own).
   * @default true */
  errors?: boolean;
  /** Record fetch/XMLHttpRequest calls answered 500 or more or failing on the network: method, URL,
   * status, duration; never bodies or headers.
   * @default true */
  failedRequests?: boolean;
  /** Keep query strings in the URLs of failed requests and error sources (they may hold personal data).
   * @default false */
  requestQueries?: boolean;
  /** Log debug events and errors to the console.
   * @default false */
  debug?: boolean;
  /** Called with every error the snippet catches; the snippet never throws into the page.
   * @default undefined */
  onError?: (error: unknown) => void;
  /** Called with every debug event (see `DebugEvent`).
   * @default undefined */
  onDebug?: (event: DebugEvent) => void;
  /** Bytes of undelivered batches kept for later pages; the oldest are dropped beyond it.
   * @default 5000000 */
  outboxMaxBytes?: number;
  /** Mirror `track()` events of identified visitors straight from the page to Flameup (direct mode),
   * on a queue of their own that never holds up `/track`. Warning: the API key is then in the page,
   * readable by anyone who opens it; prefer the collector's relay (`SPOOR_FLAMEUP_API_KEY`), which
   * keeps the key on the server. `url` defaults to `https://api.flameup.ai/api/v1/track`, `events`
   * (the names to mirror) to all. Script tag: `data-flameup` as JSON.
   * @default undefined (no mirroring from the page) */
  flameup?: FlameupOption;
}

/** The `flameup` option: direct mode of the Flameup mirror (src/flameup/flameup.ts). */
export interface FlameupOption {
  /** Flameup API key, sent as `Authorization: Bearer`. Readable by anyone who opens the page. */
  apiKey: string;
  /** Flameup's track URL.
   * @default 'https://api.flameup.ai/api/v1/track' */
  url?: string;
  /** Names of the events to mirror.
   * @default undefined (every named event) */
  events?: string[];
}

/** Options with every default filled in. */
export type Config = Required<Omit<Options, 'sessionIdentifier' | 'onError' | 'onDebug' | 'flameup'>> &
  Pick<Options, 'sessionIdentifier' | 'onError' | 'onDebug' | 'flameup'>;

export const DEFAULTS: Omit<Config, 'endpoint'> = {
  project: '',
  flushInterval: 5000,
  maxBatchBytes: 100000,
  compress: true,
  worker: true,
  contentType: 'text/plain',
  record: true,
  mask: '',
  block: '',
  maskAllInputs: true,
  consent: 'granted',
  respectGlobalPrivacyControl: true,
  respectDoNotTrack: false,
  sampleRate: 1,
  allowAutomation: false,
  hashRoutes: false,
  goals: [],
  vitals: true,
  rageClicks: true,
  deadClicks: true,
  errors: true,
  failedRequests: true,
  requestQueries: false,
  debug: false,
  outboxMaxBytes: 5000000,
};

/** Merges options over the defaults, ignoring `undefined` values, and strips a trailing slash. */
export function resolveConfig(options: Options): Config {
  const config = { ...DEFAULTS } as Config;
  for (const key in options) {
    const value = options[key as keyof Options];
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  config.endpoint = String(config.endpoint || '').replace(/\/+$/, '');
  return config;
}

/**
 * Reads options from a script element's `data-*` attributes (kebab-case: `data-flush-interval`).
 * Numbers and booleans are converted after the type of their default; `data-goals` and `data-flameup`
 * are JSON.
 */
export function readDataAttributes(element: HTMLElement): Options {
  const options: Record<string, unknown> = {};
  const data = element.dataset;
  for (const key in data) {
    const text = data[key] as string;
    const fallback = (DEFAULTS as Record<string, unknown>)[key];
    options[key] =
      typeof fallback === 'number'
        ? Number(text)
        : typeof fallback === 'boolean'
          ? text !== 'false' && text !== '0'
          : key === 'goals' || key === 'flameup'
            ? JSON.parse(text)
            : text;
  }
  return options as unknown as Options;
}
