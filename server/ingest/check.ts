// Checks one /track body and reduces it to what the store keeps apart from the body itself. It runs in
// a worker thread (worker.ts), so that parsing and walking a batch of up to the decompressed-size limit
// never holds up the collector's event loop; the main thread receives this small summary instead of
// the events. Order matters for cost: cheap checks first (size, depth, shape), then the identifier,
// and only then the events, with at most MAX_FIELD_ERRORS errors before the walk stops.
import { createHash } from 'node:crypto';
import { type IdentifierClaims, readIdentifier } from '../crypto/identifier.js';
import { jsonDepth } from '../http/body.js';
import { MAX_FIELD_ERRORS } from '../http/errors.js';
import { rules, validate } from '../http/validate.js';

export { MAX_FIELD_ERRORS };

/** The session's maximum age in seconds: no page can have been visible longer within one session. */
export const MAX_TIMER_S = 86_400;
/** Event timestamps may be this far before the identifier was minted: the snippet's outbox can send a
 *  batch it kept through days offline under an identifier minted when the page came back. */
export const TIMESTAMP_PAST_MS = 7 * 86_400_000;
/** ...and this far ahead of the collector's clock: visitors' clocks are wrong, sometimes by hours. */
export const TIMESTAMP_FUTURE_MS = 86_400_000;
/** rrweb's EventType: 0 DomContentLoaded ... 6 Plugin, 7 Asset. */
const MAX_EVENT_TYPE = 7;

// rrweb IncrementalSnapshot sources that only a present human (or a script posing as one) produces.
const INTERACTION_SOURCES = new Set([1, 2, 3, 5, 6]);
// Discrete inputs (MouseInteraction, Input): their timing is the visitor's, not a sampling clock's.
const DISCRETE_SOURCES = new Set([2, 5]);
const MAX_INPUT_TIMES_PER_BATCH = 100;

export interface CheckLimits {
  maxDepth: number;
  /** Events per batch; more is a 413, which the snippet answers by splitting the batch. */
  maxEvents: number;
  /** Custom events (type 5) per batch: each becomes rows of its own, written on the event loop. */
  maxCustomEvents: number;
}

export interface CheckTask {
  /** The body, decompressed. */
  bytes: Uint8Array;
  /** The collector's app key, to read the identifier. */
  key: Uint8Array;
  nowMs: number;
  limits: CheckLimits;
}

/** A custom event of a known tag, with every value already bounded for its column. */
export type CustomRow =
  | {
      tag: 'visit';
      ts: number;
      url: string | null;
      title: string | null;
      referrer: string | null;
      navigation: string | null;
    }
  | { tag: 'conversion'; ts: number; type: string; goal: string | null; target: string | null }
  | {
      tag: 'web-vital';
      ts: number;
      name: string;
      value: number;
      rating: string | null;
      delta: number | null;
      metricId: string | null;
      navigationType: string | null;
    }
  | {
      tag: 'event';
      ts: number;
      name: string;
      /** The parameters as JSON, or null with the reason they cannot be kept. */
      parameters: string | null;
      invalid: string | null;
    }
  | { tag: 'identify'; ts: number; externalId: string };

/** How many frustration and failure signals a batch holds (docs/contract.md, "Events"): counted here so
 *  that the store adds them to the batch's visit and session without reading the events. */
export interface SignalCounts {
  rage_clicks: number;
  dead_clicks: number;
  errors: number;
  failed_requests: number;
}

/** The custom-event tag of each signal and the count it adds to. */
const SIGNAL_TAGS: Record<string, keyof SignalCounts> = {
  rage_click: 'rage_clicks',
  dead_click: 'dead_clicks',
  error: 'errors',
  request_failed: 'failed_requests',
};

export interface BatchSummary {
  /** SHA-256 of the decompressed body: the same body twice is stored once. */
  hash: Uint8Array;
  claims: IdentifierClaims;
  timer: number | null;
  userAgent: string | null;
  eventCount: number;
  firstTs: number | null;
  lastTs: number | null;
  interactionCount: number;
  inputTimes: number[];
  custom: CustomRow[];
  signals: SignalCounts;
}

export type CheckResult =
  | { ok: true; summary: BatchSummary }
  | { ok: false; status: 413; message: string }
  | { ok: false; status: 422; errors: Record<string, string[]> };

const NAMED_PARAMETERS_MAX = 65_536;

const schema = {
  sessionIdentifier: { required: true, rules: [rules.string(), rules.maxLength(4096)] },
  timer: { nullable: true, rules: [rules.numeric(), rules.min(0), rules.max(MAX_TIMER_S)] },
  events: { nullable: true, rules: [rules.array()] },
  userAgent: { nullable: true, rules: [rules.string(), rules.maxLength(1024)] },
};

function str(v: unknown, max = 2048): string | null {
  if (v === undefined || v === null) return null;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? s.slice(0, max) : s;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function invalid(errors: Record<string, string[]>): CheckResult {
  return { ok: false, status: 422, errors };
}

/** The row a custom event's data (`{tag, payload}`) becomes, or null for tags not kept apart. */
export function customRow(data: Record<string, unknown>, ts: number): CustomRow | null {
  const p = obj(data.payload);
  switch (data.tag) {
    case 'visit':
      return {
        tag: 'visit',
        ts,
        url: str(p.url),
        title: str(p.title, 512),
        referrer: str(p.referrer),
        navigation: str(p.navigation, 16),
      };
    case 'conversion':
      return {
        tag: 'conversion',
        ts,
        type: str(p.type, 32) ?? 'unknown',
        goal: str(p.goal, 256),
        target: str(p.target),
      };
    case 'web-vital': {
      const value = num(p.value);
      if (value === null || typeof p.name !== 'string') return null;
      return {
        tag: 'web-vital',
        ts,
        name: p.name.slice(0, 16),
        value,
        rating: str(p.rating, 32),
        delta: num(p.delta),
        metricId: str(p.id, 128),
        navigationType: str(p.navigationType, 32),
      };
    }
    case 'event': {
      if (typeof p.name !== 'string') return null;
      const params = p.parameters ?? {};
      const isObject = typeof params === 'object' && params !== null && !Array.isArray(params);
      const json = isObject ? JSON.stringify(params) : null;
      const tooLarge = json !== null && json.length > NAMED_PARAMETERS_MAX;
      return {
        tag: 'event',
        ts,
        name: p.name.slice(0, 256),
        parameters: tooLarge ? null : json,
        invalid:
          p.name === ''
            ? 'the event has no name'
            : !isObject
              ? 'parameters is not an object'
              : tooLarge
                ? `parameters over ${NAMED_PARAMETERS_MAX} characters`
                : null,
      };
    }
    case 'identify': {
      const id = p.externalId;
      const valid =
        (typeof id === 'string' && id.trim() !== '') || (typeof id === 'number' && Number.isFinite(id));
      return valid ? { tag: 'identify', ts, externalId: String(id).slice(0, 256) } : null;
    }
  }
  return null;
}

/** Checks a decompressed /track body (docs/contract.md, "Store session recording data"). */
export function checkBatch(task: CheckTask): CheckResult {
  const { bytes, limits } = task;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (jsonDepth(text, limits.maxDepth) > limits.maxDepth) {
    return invalid({ body: [`The request body must not be nested deeper than ${limits.maxDepth} levels.`] });
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return invalid({ body: ['The request body must be valid JSON.'] });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return invalid({ body: ['The request body must be a JSON object.'] });
  }
  const input = parsed as Record<string, unknown>;
  const events = Array.isArray(input.events) ? (input.events as unknown[]) : [];
  // Cheapest refusal first: a batch with too many events is split by the snippet, not walked here.
  if (events.length > limits.maxEvents) {
    return { ok: false, status: 413, message: `A batch may hold at most ${limits.maxEvents} events.` };
  }
  const errors = validate(input, schema);
  if (Object.keys(errors).length > 0) return invalid(errors);

  const claims = readIdentifier(input.sessionIdentifier as string, Buffer.from(task.key));
  if (!claims) return invalid({ sessionIdentifier: ['The session identifier is invalid or has expired.'] });

  const earliest = claims.iat * 1000 - TIMESTAMP_PAST_MS;
  const latest = task.nowMs + TIMESTAMP_FUTURE_MS;
  const eventErrors: Record<string, string[]> = {};
  let errorCount = 0;
  // One event can fail on both its type and its timestamp: the cap holds per error, not per event.
  const fail = (name: string, message: string) => {
    if (errorCount >= MAX_FIELD_ERRORS) return;
    eventErrors[name] = [message];
    errorCount++;
  };
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  let interactionCount = 0;
  const inputTimes: number[] = [];
  const custom: CustomRow[] = [];
  let customCount = 0;
  const signals: SignalCounts = { rage_clicks: 0, dead_clicks: 0, errors: 0, failed_requests: 0 };

  for (let i = 0; i < events.length && errorCount < MAX_FIELD_ERRORS; i++) {
    const e = events[i];
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      fail(`events.${i}`, `The events.${i} field must be an array.`);
      continue;
    }
    const ev = e as Record<string, unknown>;
    const { type, timestamp } = ev;
    const typeName = `events.${i}.type`;
    if (type === undefined || type === null) fail(typeName, `The ${typeName} field is required.`);
    else if (typeof type !== 'number' || !Number.isSafeInteger(type))
      fail(typeName, `The ${typeName} field must be an integer.`);
    else if (type < 0 || type > MAX_EVENT_TYPE) fail(typeName, `The selected ${typeName} is invalid.`);
    const tsName = `events.${i}.timestamp`;
    if (timestamp === undefined || timestamp === null) fail(tsName, `The ${tsName} field is required.`);
    else if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) {
      fail(tsName, `The ${tsName} field must be an integer.`);
    } else if (timestamp < earliest || timestamp > latest) {
      fail(tsName, `The ${tsName} field must be within the session's lifetime.`);
    }
    if (errorCount > 0) continue;

    const ts = timestamp as number;
    if (firstTs === null || ts < firstTs) firstTs = ts;
    if (lastTs === null || ts > lastTs) lastTs = ts;
    if (type === 3) {
      const source = obj(ev.data).source;
      if (typeof source === 'number' && INTERACTION_SOURCES.has(source)) interactionCount++;
      if (
        typeof source === 'number' &&
        DISCRETE_SOURCES.has(source) &&
        inputTimes.length < MAX_INPUT_TIMES_PER_BATCH
      ) {
        inputTimes.push(ts);
      }
    } else if (type === 5) {
      if (++customCount > limits.maxCustomEvents) {
        return {
          ok: false,
          status: 413,
          message: `A batch may hold at most ${limits.maxCustomEvents} custom events.`,
        };
      }
      const data = obj(ev.data);
      const row = customRow(data, ts);
      if (row) custom.push(row);
      const tag = data.tag;
      if (typeof tag === 'string' && Object.hasOwn(SIGNAL_TAGS, tag))
        signals[SIGNAL_TAGS[tag] as keyof SignalCounts]++;
    }
  }
  if (errorCount > 0) return invalid(eventErrors);

  // An empty string passed as "no timer" (Laravel's nullable), so it is stored as none, not as 0.
  const raw = input.timer;
  const timer =
    raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '') ? null : Number(raw);
  return {
    ok: true,
    summary: {
      hash: createHash('sha256').update(bytes).digest(),
      claims,
      timer,
      userAgent: typeof input.userAgent === 'string' ? input.userAgent : null,
      eventCount: events.length,
      firstTs,
      lastTs,
      interactionCount,
      inputTimes,
      custom,
      signals,
    },
  };
}
