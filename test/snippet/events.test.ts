import { describe, expect, it } from 'vitest';
import { type Checked, identifyEvent, trackEvent } from '../../src/observe/named-events';

function payloadOf(checked: Checked): unknown {
  if (!checked.ok) throw new Error(`expected ok, got ${checked.error.message}`);
  return (checked.event.data as { payload: unknown }).payload;
}

function errorOf(checked: Checked): string {
  if (checked.ok) throw new Error('expected an error');
  return checked.error.message;
}

describe('trackEvent', () => {
  it('builds an event custom event with the trimmed name, the parameters and the given time', () => {
    const checked = trackEvent(
      '  signup  ',
      { plan: 'pro', seats: 3, trial: true, tags: ['a', null] },
      1700000000000,
    );
    expect(checked).toEqual({
      ok: true,
      event: {
        type: 5,
        timestamp: 1700000000000,
        data: {
          tag: 'event',
          payload: { name: 'signup', parameters: { plan: 'pro', seats: 3, trial: true, tags: ['a', null] } },
        },
      },
    });
  });

  it('sends {} for undefined and null parameters', () => {
    expect(payloadOf(trackEvent('a', undefined))).toEqual({ name: 'a', parameters: {} });
    expect(payloadOf(trackEvent('a', null))).toEqual({ name: 'a', parameters: {} });
  });

  it('accepts names of 1 and 200 characters and rejects empty, blank, 201-character and non-string names', () => {
    expect(trackEvent('x', {}).ok).toBe(true);
    expect(trackEvent('x'.repeat(200), {}).ok).toBe(true);
    expect(errorOf(trackEvent('', {}))).toBe('spoor.track: the name must not be empty');
    expect(errorOf(trackEvent('   ', {}))).toBe('spoor.track: the name must not be empty');
    expect(errorOf(trackEvent('x'.repeat(201), {}))).toBe(
      'spoor.track: the name has 201 characters, at most 200',
    );
    expect(errorOf(trackEvent(42, {}))).toBe('spoor.track: the name must be a string, got a number');
    expect(errorOf(trackEvent(undefined, {}))).toBe('spoor.track: the name must be a string, got undefined');
  });

  it('rejects parameters that are not a plain object', () => {
    expect(errorOf(trackEvent('a', [1, 2]))).toBe(
      'spoor.track: parameters must be a plain object, got an array',
    );
    expect(errorOf(trackEvent('a', 'plan=pro'))).toBe(
      'spoor.track: parameters must be a plain object, got a string',
    );
    expect(errorOf(trackEvent('a', new Map()))).toBe(
      'spoor.track: parameters must be a plain object, got a Map',
    );
    expect(trackEvent('a', Object.create(null)).ok).toBe(true);
  });

  it('rejects functions, symbols, BigInts, non-finite numbers and class instances anywhere, naming the path', () => {
    expect(errorOf(trackEvent('a', { cb: () => 1 }))).toContain('parameters.cb is a function');
    expect(errorOf(trackEvent('a', { s: Symbol('x') }))).toContain('parameters.s is a symbol');
    expect(errorOf(trackEvent('a', { n: { big: 10n } }))).toContain('parameters.n.big is a bigint');
    expect(errorOf(trackEvent('a', { list: [1, Number.NaN] }))).toContain('parameters.list[1] is NaN');
    expect(errorOf(trackEvent('a', { el: new URL('https://a.example/') }))).toContain(
      'parameters.el is a URL',
    );
  });

  it('rejects a cycle but accepts the same object twice side by side', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(errorOf(trackEvent('a', { cyclic }))).toContain('parameters.cyclic.self refers back to itself');
    const shared = { x: 1 };
    expect(payloadOf(trackEvent('a', { one: shared, two: shared }))).toEqual({
      name: 'a',
      parameters: { one: { x: 1 }, two: { x: 1 } },
    });
  });

  it('sends Dates as ISO strings, leaves out undefined properties and rejects an invalid Date', () => {
    const payload = payloadOf(
      trackEvent('a', { at: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)), gone: undefined }),
    );
    expect(payload).toEqual({ name: 'a', parameters: { at: '2025-01-02T03:04:05.000Z' } });
    expect(errorOf(trackEvent('a', { at: new Date('nope') }))).toContain('parameters.at is an invalid Date');
  });

  it('accepts parameters of 8192 bytes of JSON and rejects 8193, counting UTF-8 bytes', () => {
    // {"v":"..."} is 8 bytes around the string.
    expect(trackEvent('a', { v: 'x'.repeat(8184) }).ok).toBe(true);
    expect(errorOf(trackEvent('a', { v: 'x'.repeat(8185) }))).toBe(
      'spoor.track: parameters are 8193 bytes as JSON, at most 8192',
    );
    // 'é' is two bytes in UTF-8: 4093 of them make 8186 + 8 bytes.
    expect(errorOf(trackEvent('a', { v: 'é'.repeat(4093) }))).toContain('8194 bytes');
  });

  it('copies the parameters, so later changes by the caller do not reach the event', () => {
    const parameters = { plan: 'pro', nested: { seats: 1 } };
    const checked = trackEvent('a', parameters);
    parameters.plan = 'free';
    parameters.nested.seats = 99;
    expect(payloadOf(checked)).toEqual({ name: 'a', parameters: { plan: 'pro', nested: { seats: 1 } } });
  });

  it('returns an error instead of throwing for a getter that throws, deep nesting or a revoked Proxy', () => {
    const getter = {
      get boom() {
        throw new Error('getter failed');
      },
    };
    expect(() => trackEvent('a', getter)).not.toThrow();
    expect(errorOf(trackEvent('a', getter))).toContain('getter failed');
    let root: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) root = { next: root };
    expect(errorOf(trackEvent('a', root))).toContain('nested deeper than 32 levels');
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(trackEvent('a', proxy).ok).toBe(false);
    expect(trackEvent(proxy, {}).ok).toBe(false);
  });
});

describe('identifyEvent', () => {
  it('builds an identify custom event with the id unchanged', () => {
    expect(identifyEvent('user-42', 1700000000000)).toEqual({
      ok: true,
      event: {
        type: 5,
        timestamp: 1700000000000,
        data: { tag: 'identify', payload: { externalId: 'user-42' } },
      },
    });
    expect(payloadOf(identifyEvent(' spaced '))).toEqual({ externalId: ' spaced ' });
  });

  it('converts a finite number to its decimal string', () => {
    expect(payloadOf(identifyEvent(42))).toEqual({ externalId: '42' });
    expect(payloadOf(identifyEvent(-1.5))).toEqual({ externalId: '-1.5' });
  });

  it('accepts 255 characters and rejects 256, empty, blank, non-finite and other types', () => {
    expect(identifyEvent('x'.repeat(255)).ok).toBe(true);
    expect(errorOf(identifyEvent('x'.repeat(256)))).toBe(
      'spoor.identify: the id has 256 characters, at most 255',
    );
    expect(errorOf(identifyEvent(''))).toBe('spoor.identify: the id must not be empty');
    expect(errorOf(identifyEvent('  '))).toBe('spoor.identify: the id must not be empty');
    expect(errorOf(identifyEvent(Number.NaN))).toBe(
      'spoor.identify: the id must be a finite number, got NaN',
    );
    expect(errorOf(identifyEvent(null))).toBe(
      'spoor.identify: the id must be a string or a number, got null',
    );
    expect(errorOf(identifyEvent({ id: 1 }))).toBe(
      'spoor.identify: the id must be a string or a number, got an object',
    );
  });
});
