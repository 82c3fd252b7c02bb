// The stand-in for the Flameup mirror while its file loads: a fake startFlameup that records what it
// is given. flameup-wired.test.ts covers the real mirror wired into the tracker.
import { describe, expect, it, vi } from 'vitest';
import type { Flameup, FlameupOptions } from '../../src/flameup/flameup';
import { loadFlameup } from '../../src/flameup/loader';
import type { DropReason } from '../../src/types';

type Start = (opts: FlameupOptions) => Flameup;

function setup(apiKey = 'fl_key') {
  // The file's load, settled by the test; the loader's callbacks on it run before a continuation the
  // test registers after them, so awaiting it is enough to see their effect.
  let resolveLoad!: (start: Start) => void;
  let rejectLoad!: (error: unknown) => void;
  const loading = new Promise<Start>((resolve, reject) => {
    resolveLoad = resolve;
    rejectLoad = reject;
  });
  const load = vi.fn(() => loading);
  const settled = () =>
    loading.then(
      () => {},
      () => {},
    );
  // What the loaded mirror was asked, and the options it was started with.
  const mirrored: unknown[][] = [];
  const mirror = {
    mirror: vi.fn((...event: unknown[]) => void mirrored.push(event)),
    wake: vi.fn(),
    stop: vi.fn(),
  };
  let started: FlameupOptions | undefined;
  const start: Start = (opts) => {
    started = opts;
    return mirror;
  };
  const report = vi.fn();
  const drops: [DropReason, number, string][] = [];
  const standIn = loadFlameup(
    { apiKey, url: 'https://f.example/track' },
    load,
    (...drop) => drops.push(drop),
    {
      getExternalId: () => 'visitor-1',
      report,
      onDrop: (why, detail) => drops.push([why, 1, detail]),
      fetch: vi.fn(),
      now: () => 0,
      random: () => 0.5,
    },
  );
  return {
    standIn,
    load,
    mirror,
    mirrored,
    report,
    drops,
    started: () => started,
    loaded: async () => {
      resolveLoad(start);
      await settled();
    },
    failed: async () => {
      rejectLoad(new Error('no such file'));
      await settled();
    },
  };
}

describe('the Flameup loader', () => {
  it('mirrors the events tracked while the mirror loads, in order, once it has, and the later ones at once', async () => {
    const s = setup();
    s.standIn?.mirror('first', { a: 1 }, 1);
    s.standIn?.mirror('second', {}, 2);
    expect(s.mirrored).toEqual([]);
    await s.loaded();
    expect(s.mirrored).toEqual([
      ['first', { a: 1 }, 1],
      ['second', {}, 2],
    ]);
    s.standIn?.mirror('third', {}, 3);
    expect(s.mirrored.at(-1)).toEqual(['third', {}, 3]);
    expect(s.started()).toMatchObject({ apiKey: 'fl_key', url: 'https://f.example/track' });
    expect(s.started()?.getExternalId()).toBe('visitor-1');
  });

  it('passes wake() and stop() on to the loaded mirror, and gives it no external id once stopped', async () => {
    const s = setup();
    await s.loaded();
    s.standIn?.wake();
    expect(s.mirror.wake).toHaveBeenCalledTimes(1);
    s.standIn?.stop();
    expect(s.mirror.stop).toHaveBeenCalledTimes(1);
    expect(s.started()?.getExternalId()).toBeUndefined();
  });

  it('never starts a mirror whose file arrives after stop()', async () => {
    const s = setup();
    s.standIn?.mirror('early', {}, 1);
    s.standIn?.stop();
    await s.loaded();
    expect(s.started()).toBeUndefined();
    expect(s.mirrored).toEqual([]);
  });

  it('reports a file that failed to load, counts the events it held as dropped, and keeps no more', async () => {
    const s = setup();
    s.standIn?.mirror('one', {}, 1);
    s.standIn?.mirror('two', {}, 2);
    await s.failed();
    expect(s.report).toHaveBeenCalledWith(expect.objectContaining({ message: 'no such file' }));
    expect(s.drops).toEqual([['load-failed', 2, 'flameup: the mirror did not load']]);
    s.standIn?.mirror('three', {}, 3);
    s.standIn?.stop();
    expect(s.drops).toHaveLength(1);
    expect(s.started()).toBeUndefined();
  });

  it('reports an option without an apiKey and neither loads nor stands in', () => {
    const s = setup('');
    expect(s.standIn).toBeUndefined();
    expect(s.load).not.toHaveBeenCalled();
    expect(s.report).toHaveBeenCalledWith(
      expect.objectContaining({ message: expect.stringContaining('apiKey') }),
    );
  });
});
