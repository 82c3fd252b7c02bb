import { describe, expect, it, vi } from 'vitest';
import { createBoundary } from '../../src/lib/boundary';
import { createDebug } from '../../src/lib/debug';

describe('error boundary', () => {
  it('catches what a guarded function throws and hands it to onError', () => {
    const onError = vi.fn();
    const boundary = createBoundary(onError, false);
    const failing = boundary.guard(() => {
      throw new Error('boom');
    });
    expect(() => failing()).not.toThrow();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' }));
  });

  it('reports a rejected promise returned by a guarded function', async () => {
    const onError = vi.fn();
    const boundary = createBoundary(onError, false);
    boundary.guard(() => Promise.reject(new Error('later')))();
    await new Promise((r) => setTimeout(r, 0));
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'later' }));
  });

  it('survives an onError that throws itself', () => {
    const boundary = createBoundary(() => {
      throw new Error('the page handler is broken');
    }, false);
    expect(() => boundary.report(new Error('x'))).not.toThrow();
  });

  it('logs to the console only when debug is on', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    createBoundary(undefined, false).report(new Error('quiet'));
    expect(spy).not.toHaveBeenCalled();
    createBoundary(undefined, true).report(new Error('loud'));
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });
});

describe('debug events', () => {
  it('replays the last 200 events to a late listener, then streams new ones', () => {
    const debug = createDebug(false, () => 42);
    for (let i = 0; i < 250; i++) debug.emit({ kind: 'timer', seconds: i });
    const seen: number[] = [];
    debug.subscribe((event) => {
      if (event.kind === 'timer') seen.push(event.seconds);
    });
    expect(seen).toHaveLength(200);
    expect(seen[0]).toBe(50);
    debug.emit({ kind: 'timer', seconds: 999 });
    expect(seen.at(-1)).toBe(999);
  });

  it('keeps calling other listeners when one throws', () => {
    const debug = createDebug(false);
    const good = vi.fn();
    debug.subscribe(() => {
      throw new Error('broken panel');
    });
    debug.subscribe(good);
    debug.emit({ kind: 'queue', events: 1, bytes: 2 });
    expect(good).toHaveBeenCalledWith(expect.objectContaining({ kind: 'queue', events: 1, bytes: 2 }));
  });
});
