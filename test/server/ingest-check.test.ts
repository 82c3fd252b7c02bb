import { describe, expect, it } from 'vitest';
import { mintIdentifier } from '../../server/crypto/identifier.js';
import {
  type CheckLimits,
  type CheckResult,
  checkBatch,
  MAX_FIELD_ERRORS,
  TIMESTAMP_FUTURE_MS,
  TIMESTAMP_PAST_MS,
} from '../../server/ingest/check.js';

const KEY = Buffer.alloc(32, 7);
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const LIMITS: CheckLimits = { maxDepth: 512, maxEvents: 1000, maxCustomEvents: 10 };
const ID = mintIdentifier({ p: 1, s: 2, w: 1, iat: Math.floor(NOW / 1000) }, KEY);

function check(body: unknown, limits: CheckLimits = LIMITS): CheckResult {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return checkBatch({ bytes: Buffer.from(text), key: KEY, nowMs: NOW, limits });
}

function errorsOf(result: CheckResult): Record<string, string[]> {
  if (result.ok || result.status !== 422) throw new Error(`expected a 422, got ${JSON.stringify(result)}`);
  return result.errors;
}

const move = (timestamp: number) => ({ type: 3, data: { source: 1, positions: [] }, timestamp });

describe('checkBatch', () => {
  it('summarises a valid batch: hash, claims, first and last timestamps, interactions and custom rows', () => {
    const result = check({
      sessionIdentifier: ID,
      timer: '12.5',
      userAgent: 'UA',
      events: [
        {
          type: 5,
          data: { tag: 'visit', payload: { url: 'https://shop.test/', navigation: 'load' } },
          timestamp: NOW,
        },
        move(NOW + 10),
        { type: 3, data: { source: 2 }, timestamp: NOW + 20 },
        {
          type: 5,
          data: { tag: 'event', payload: { name: 'buy', parameters: { sku: 'A' } } },
          timestamp: NOW + 30,
        },
      ],
    });
    if (!result.ok) throw new Error(JSON.stringify(result));
    const s = result.summary;
    expect(s.hash).toHaveLength(32);
    expect(s.claims).toMatchObject({ p: 1, s: 2, w: 1 });
    expect([s.timer, s.userAgent, s.eventCount, s.firstTs, s.lastTs]).toEqual([12.5, 'UA', 4, NOW, NOW + 30]);
    expect([s.interactionCount, s.inputTimes]).toEqual([2, [NOW + 20]]);
    expect(s.custom.map((r) => r.tag)).toEqual(['visit', 'event']);
    expect(s.custom[1]).toMatchObject({ name: 'buy', parameters: '{"sku":"A"}', invalid: null });
  });

  it('checks the identifier before walking the events: a bad one is the only error, however bad the events', () => {
    const events = new Array(900).fill(0);
    expect(errorsOf(check({ sessionIdentifier: 'x', events }))).toEqual({
      sessionIdentifier: ['The session identifier is invalid or has expired.'],
    });
  });

  it(`reports at most ${MAX_FIELD_ERRORS} field errors, even when one event fails twice`, () => {
    const events = new Array(900).fill({ type: 999, data: {}, timestamp: 0 });
    expect(Object.keys(errorsOf(check({ sessionIdentifier: ID, events })))).toHaveLength(MAX_FIELD_ERRORS);
  });

  it(`reports at most ${MAX_FIELD_ERRORS} field errors and stops walking there`, () => {
    const errors = errorsOf(check({ sessionIdentifier: ID, events: new Array(900).fill(0) }));
    expect(Object.keys(errors)).toHaveLength(MAX_FIELD_ERRORS);
    expect(errors['events.0']).toEqual(['The events.0 field must be an array.']);
    expect(errors[`events.${MAX_FIELD_ERRORS}`]).toBeUndefined();
  });

  it('answers 413 for more events than the limit before looking at any of them', () => {
    const result = check({ sessionIdentifier: 'not even checked', events: new Array(1001).fill(0) });
    expect(result).toEqual({ ok: false, status: 413, message: 'A batch may hold at most 1000 events.' });
  });

  it('answers 413 for more custom events than the limit', () => {
    const events = Array.from({ length: 11 }, (_, i) => ({
      type: 5,
      data: { tag: 'event', payload: { name: `e${i}` } },
      timestamp: NOW + i,
    }));
    expect(check({ sessionIdentifier: ID, events })).toMatchObject({ ok: false, status: 413 });
    expect(check({ sessionIdentifier: ID, events: events.slice(0, 10) }).ok).toBe(true);
  });

  it('refuses a timer that is not finite or longer than a session can last', () => {
    for (const timer of [1e308, 86_400.5, '86401']) {
      expect(errorsOf(check({ sessionIdentifier: ID, timer }))).toEqual({
        timer: ['The timer field must not be greater than 86400.'],
      });
    }
    // JSON's 1e400 parses to Infinity, and "1e400" reads as it: no finite number at all.
    for (const body of [
      `{"sessionIdentifier":${JSON.stringify(ID)},"timer":1e400}`,
      { sessionIdentifier: ID, timer: '1e400' },
    ]) {
      expect(errorsOf(check(body))).toEqual({ timer: ['The timer field must be a number.'] });
    }
    expect(check({ sessionIdentifier: ID, timer: 86_400 }).ok).toBe(true);
  });

  it("refuses timestamps outside the session's lifetime and its clock skew, and unknown event types", () => {
    const earliest = NOW - TIMESTAMP_PAST_MS;
    const latest = NOW + TIMESTAMP_FUTURE_MS;
    const errors = errorsOf(
      check({
        sessionIdentifier: ID,
        events: [
          move(0),
          move(32_503_680_000_000),
          move(-1e15),
          move(earliest - 1),
          move(latest + 1),
          { type: 999, data: {}, timestamp: NOW },
        ],
      }),
    );
    expect(errors).toEqual({
      'events.0.timestamp': ["The events.0.timestamp field must be within the session's lifetime."],
      'events.1.timestamp': ["The events.1.timestamp field must be within the session's lifetime."],
      'events.2.timestamp': ["The events.2.timestamp field must be within the session's lifetime."],
      'events.3.timestamp': ["The events.3.timestamp field must be within the session's lifetime."],
      'events.4.timestamp': ["The events.4.timestamp field must be within the session's lifetime."],
      'events.5.type': ['The selected events.5.type is invalid.'],
    });
    expect(
      check({
        sessionIdentifier: ID,
        events: [move(earliest), move(latest), { type: 7, data: {}, timestamp: NOW }],
      }).ok,
    ).toBe(true);
  });

  it('keeps no parameters of a named event over 64 KB, and says why', () => {
    const result = check({
      sessionIdentifier: ID,
      events: [
        {
          type: 5,
          data: { tag: 'event', payload: { name: 'big', parameters: { x: 'y'.repeat(70_000) } } },
          timestamp: NOW,
        },
      ],
    });
    if (!result.ok) throw new Error(JSON.stringify(result));
    expect(result.summary.custom[0]).toMatchObject({
      name: 'big',
      parameters: null,
      invalid: 'parameters over 65536 characters',
    });
  });

  it('answers 422 on body for JSON that is not an object, is malformed or nests too deep', () => {
    expect(errorsOf(check('[1]'))).toEqual({ body: ['The request body must be a JSON object.'] });
    expect(errorsOf(check('{"a":'))).toEqual({ body: ['The request body must be valid JSON.'] });
    expect(errorsOf(check(`{"a":${'['.repeat(600)}${']'.repeat(600)}}`))).toEqual({
      body: ['The request body must not be nested deeper than 512 levels.'],
    });
  });
});
