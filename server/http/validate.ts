// Laravel-style validation at the edge: each route declares its body schema; messages use Laravel's
// wording with the attribute name as the API documents spell it ("The start_date field is required.").
// Rules for one field stop at its first failure (Laravel's `bail`), so each field reports one message.
import { MAX_FIELD_ERRORS } from './errors.js';

/** One rule: null when the value passes, else the message. */
export type Check = (value: unknown, attribute: string, input: Record<string, unknown>) => string | null;

export interface FieldSpec {
  /** 'present' = the key must exist but may be empty (Laravel's `present`). */
  required?: boolean | 'present';
  nullable?: boolean;
  rules?: Check[];
  /** Rules for each element of an array value, reported as `field.N`. */
  each?: Check[];
}

export type Schema = Record<string, FieldSpec>;

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

function isNumeric(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  // "1e400" has a number's shape but no finite value: Infinity would poison sums and sorts.
  return (
    typeof value === 'string' &&
    /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) &&
    Number.isFinite(Number(value))
  );
}

export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** `YYYY-MM-DD[ HH:MM[:SS]]` as `YYYY-MM-DD HH:MM:SS`, or null when it is not a real date. */
export function normalizeDate(value: unknown, endOfDay = false): string | null {
  if (typeof value !== 'string') return null;
  const m = DATE.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const hh = h ?? (endOfDay ? '23' : '00');
  const mm = mi ?? (endOfDay ? '59' : '00');
  const ss = s ?? (endOfDay && h === undefined ? '59' : '00');
  const t = new Date(`${y}-${mo}-${d}T${hh}:${mm}:${ss}Z`);
  if (Number.isNaN(t.getTime()) || t.toISOString().slice(0, 19) !== `${y}-${mo}-${d}T${hh}:${mm}:${ss}`)
    return null;
  return `${y}-${mo}-${d} ${hh}:${mm}:${ss}`;
}

export const rules = {
  string: (): Check => (v, a) => (typeof v === 'string' ? null : `The ${a} field must be a string.`),
  numeric: (): Check => (v, a) => (isNumeric(v) ? null : `The ${a} field must be a number.`),
  integer: (): Check => (v, a) =>
    (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^[+-]?\d{1,15}$/.test(v))
      ? null
      : `The ${a} field must be an integer.`,
  array: (): Check => (v, a) => (Array.isArray(v) ? null : `The ${a} field must be an array.`),
  /** A JSON object (Laravel's `array` rule also accepts associative arrays). */
  object: (): Check => (v, a) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? null : `The ${a} field must be an array.`,
  oneOf:
    (values: readonly string[]): Check =>
    (v, a) =>
      typeof v === 'string' && values.includes(v) ? null : `The selected ${a} is invalid.`,
  min:
    (n: number): Check =>
    (v, a) =>
      toNumber(v) >= n ? null : `The ${a} field must be at least ${n}.`,
  max:
    (n: number): Check =>
    (v, a) =>
      toNumber(v) <= n ? null : `The ${a} field must not be greater than ${n}.`,
  maxLength:
    (n: number): Check =>
    (v, a) =>
      typeof v === 'string' && v.length > n
        ? `The ${a} field must not be greater than ${n} characters.`
        : null,
  date: (): Check => (v, a) => (normalizeDate(v) ? null : `The ${a} field must be a valid date.`),
  afterOrEqual:
    (other: string): Check =>
    (v, a, input) => {
      const mine = normalizeDate(v, true);
      const theirs = normalizeDate(input[other]);
      if (!mine || !theirs) return null;
      return mine >= theirs ? null : `The ${a} field must be a date after or equal to ${other}.`;
    },
  /** "1", "true", true, 1, "0", "false", false, 0 (and their empty forms, handled as absent). */
  booleanish: (): Check => (v, a) =>
    [true, false, 1, 0, '1', '0', 'true', 'false'].includes(v as never)
      ? null
      : `The ${a} field must be true or false.`,
};

/** Truthy as the API documents it: `"1"`, `"true"`, `true`, `1`. */
export function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

/** Every failing field's messages, in schema order; empty when the input passes. */
export function validate(input: Record<string, unknown>, schema: Schema): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  let count = 0;
  for (const [field, spec] of Object.entries(schema)) {
    // A 422 lists the first MAX_FIELD_ERRORS fields; looking further is work nobody reads.
    count = Object.keys(errors).length;
    if (count >= MAX_FIELD_ERRORS) break;
    const value = input[field];
    if (spec.required === 'present') {
      if (!(field in input)) {
        errors[field] = [`The ${field} field is required.`];
        continue;
      }
    } else if (spec.required && isEmpty(value)) {
      errors[field] = [`The ${field} field is required.`];
      continue;
    }
    if (value === undefined || (value === null && spec.nullable)) continue;
    if (spec.nullable && isEmpty(value)) continue;
    const failed = (spec.rules ?? []).map((check) => check(value, field, input)).find((m) => m !== null);
    if (failed) {
      errors[field] = [failed];
      continue;
    }
    if (spec.each && Array.isArray(value)) {
      for (let i = 0; i < value.length && count < MAX_FIELD_ERRORS; i++) {
        const name = `${field}.${i}`;
        const msg = spec.each.map((check) => check(value[i], name, input)).find((m) => m !== null);
        if (msg) {
          errors[name] = [msg];
          count++;
        }
      }
    }
  }
  return errors;
}
