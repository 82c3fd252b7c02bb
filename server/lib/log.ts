// The collector's structured log: one JSON object a line (pino), for journald, Docker or any log
// shipper. What goes in is chosen at each call site: events, paths, statuses, origins, error stacks,
// never a request body, a token, a key or a session identifier. The paths below are redacted as well,
// in case an error object ever carries one of them.
import { destination, type Logger, pino, stdTimeFunctions } from 'pino';

export type { Logger };

const REDACT = [
  'apiToken',
  'api_token',
  'appKey',
  'key',
  'apiKey',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'sessionIdentifier',
  'body',
];

/** A logger writing JSON lines to `destination` (stdout by default); SPOOR_LOG_LEVEL sets the level. */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level || 'info',
      base: { service: 'spoor-collector' },
      redact: { paths: REDACT, censor: '[redacted]' },
      // ISO time reads better in a log viewer than epoch milliseconds, and sorts the same.
      timestamp: stdTimeFunctions.isoTime,
    },
    options.destination ?? destination({ dest: 1, sync: true }),
  );
}

/**
 * Calls `warn` once per key (e.g. once per refused origin), so that a misconfigured site shows up in
 * the log without a line per request. The set is bounded: past `max` keys nothing more is logged.
 */
export function oncePer(max = 1000): (key: string, warn: () => void) => void {
  const seen = new Set<string>();
  return (key, warn) => {
    if (seen.has(key) || seen.size >= max) return;
    seen.add(key);
    warn();
  };
}
