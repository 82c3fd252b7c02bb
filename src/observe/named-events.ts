import { byteLength } from '../lib/bytes';
import { customEvent, type WireEvent } from '../types';

/** The result of checking a `track` or `identify` call: the event to enqueue, or why the call is dropped. */
export type Checked = { ok: true; event: WireEvent } | { ok: false; error: Error };

/** Longest event name, in characters after trimming. */
export const MAX_NAME_LENGTH = 200;
/** Largest parameters object, in bytes of its UTF-8 JSON. */
export const MAX_PARAMETERS_BYTES = 8192;
/** Longest external id, in characters. */
export const MAX_EXTERNAL_ID_LENGTH = 255;
/** Deepest nesting of parameters; a guard against stack overflows on pathological objects. */
export const MAX_PARAMETERS_DEPTH = 32;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Checks a `track(name, parameters)` call and builds its `event` custom event. Never throws.
 *
 * The name is trimmed and must have 1..200 characters. Parameters are `undefined`/`null` (sent as `{}`)
 * or a plain object whose values are strings, finite numbers, booleans, null, arrays, plain objects
 * or Dates (sent as ISO 8601 strings). Properties that are `undefined` are left out, as JSON.stringify
 * does. The event holds a copy, so later changes to the caller's object do not reach the wire.
 */
export function trackEvent(name: unknown, parameters: unknown, now: number = Date.now()): Checked {
  return neverThrow('spoor.track', () => checkTrack(name, parameters, now));
}

function checkTrack(name: unknown, parameters: unknown, now: number): Checked {
  if (typeof name !== 'string')
    return fail(new TypeError(`spoor.track: the name must be a string, got ${kind(name)}`));
  const trimmed = name.trim();
  if (trimmed.length === 0) return fail(new TypeError('spoor.track: the name must not be empty'));
  if (trimmed.length > MAX_NAME_LENGTH) {
    return fail(
      new RangeError(`spoor.track: the name has ${trimmed.length} characters, at most ${MAX_NAME_LENGTH}`),
    );
  }
  let copy: { [key: string]: Json };
  try {
    if (parameters === undefined || parameters === null) {
      copy = {};
    } else if (!isPlainObject(parameters)) {
      return fail(new TypeError(`spoor.track: parameters must be a plain object, got ${kind(parameters)}`));
    } else {
      copy = toJson(parameters, 'parameters', [], 0) as { [key: string]: Json };
    }
  } catch (error) {
    // A getter that throws or a revoked Proxy lands here as well as our own messages.
    return fail(
      error instanceof ParameterError
        ? new TypeError(`spoor.track: ${error.message}`)
        : new TypeError(`spoor.track: reading the parameters failed: ${safeString(error)}`),
    );
  }
  const bytes = byteLength(JSON.stringify(copy));
  if (bytes > MAX_PARAMETERS_BYTES) {
    return fail(
      new RangeError(`spoor.track: parameters are ${bytes} bytes as JSON, at most ${MAX_PARAMETERS_BYTES}`),
    );
  }
  return { ok: true, event: customEvent('event', { name: trimmed, parameters: copy }, now) };
}

/**
 * Checks an `identify(externalId)` call and builds its `identify` custom event. Never throws.
 * The id is a string of 1..255 characters that is not only white space, sent unchanged (ids must match
 * exactly elsewhere), or a finite number, sent as its decimal string.
 */
export function identifyEvent(externalId: unknown, now: number = Date.now()): Checked {
  return neverThrow('spoor.identify', () => checkIdentify(externalId, now));
}

function checkIdentify(externalId: unknown, now: number): Checked {
  let id: string;
  if (typeof externalId === 'number') {
    if (!Number.isFinite(externalId)) {
      return fail(new TypeError(`spoor.identify: the id must be a finite number, got ${externalId}`));
    }
    id = String(externalId);
  } else if (typeof externalId === 'string') {
    id = externalId;
  } else {
    return fail(
      new TypeError(`spoor.identify: the id must be a string or a number, got ${kind(externalId)}`),
    );
  }
  if (id.trim().length === 0) return fail(new TypeError('spoor.identify: the id must not be empty'));
  if (id.length > MAX_EXTERNAL_ID_LENGTH) {
    return fail(
      new RangeError(`spoor.identify: the id has ${id.length} characters, at most ${MAX_EXTERNAL_ID_LENGTH}`),
    );
  }
  return { ok: true, event: customEvent('identify', { externalId: id }, now) };
}

/** A problem with one value inside the parameters; its message names the path to that value. */
class ParameterError extends Error {}

function toJson(value: unknown, path: string, ancestors: object[], depth: number): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON.stringify would silently send null for these.
      if (!Number.isFinite(value)) throw new ParameterError(`${path} is ${value}; numbers must be finite`);
      return value;
    case 'object':
      break;
    default:
      throw new ParameterError(`${path} is ${kind(value)}, which JSON cannot carry`);
  }
  if (value === null) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ParameterError(`${path} is an invalid Date`);
    return value.toISOString();
  }
  if (ancestors.includes(value)) throw new ParameterError(`${path} refers back to itself (a cycle)`);
  if (depth >= MAX_PARAMETERS_DEPTH) {
    throw new ParameterError(`${path} is nested deeper than ${MAX_PARAMETERS_DEPTH} levels`);
  }
  ancestors.push(value);
  let out: Json;
  if (Array.isArray(value)) {
    out = value.map((item, i) =>
      item === undefined ? null : toJson(item, `${path}[${i}]`, ancestors, depth + 1),
    );
  } else if (isPlainObject(value)) {
    const obj: { [key: string]: Json } = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) obj[key] = toJson(item, `${path}.${key}`, ancestors, depth + 1);
    }
    out = obj;
  } else {
    throw new ParameterError(`${path} is ${kind(value)}; only plain objects, arrays and Dates are allowed`);
  }
  ancestors.pop();
  return out;
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short description of a value's type for error messages; never the value itself. */
function kind(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return `a ${typeof value}`;
  try {
    if (Array.isArray(value)) return 'an array';
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor
      ?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object';
  } catch {
    // A revoked Proxy throws even here.
    return 'an object';
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'an error that cannot be shown';
  }
}

/** The last line of defence of "never throw into the page": an unexpected throw becomes an error result. */
function neverThrow(prefix: string, check: () => Checked): Checked {
  try {
    return check();
  } catch (error) {
    return fail(new TypeError(`${prefix}: the call could not be checked: ${safeString(error)}`));
  }
}

function fail(error: Error): Checked {
  return { ok: false, error };
}
