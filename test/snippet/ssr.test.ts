// @vitest-environment node
// Server-side rendering (Next.js, Nuxt, SvelteKit, Astro), Deno, Bun and workers import the npm entry
// and may call it: there is no page there, so it must do nothing and throw nothing.
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('the npm entry where there is no page', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('imports in Node without touching window or document', async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    const module = await import('../../src/index');
    expect(typeof module.init).toBe('function');
  });

  it('answers init() with a tracker whose every call does nothing, sends nothing and throws nothing', async () => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    const onError = vi.fn();
    const { init } = await import('../../src/index');
    const tracker = init({ endpoint: 'https://c.example/api', project: 'pk', onError });
    expect(Object.keys(tracker).sort()).toEqual(['consent', 'flush', 'identify', 'onDebug', 'stop', 'track']);
    const heard = vi.fn();
    const off = tracker.onDebug(heard);
    tracker.track('signup', { plan: 'pro' });
    tracker.identify('user-42');
    tracker.consent(true);
    tracker.consent(false);
    await expect(tracker.flush()).resolves.toBeUndefined();
    tracker.stop();
    off();
    // Called twice, as a server renders every request.
    init({ endpoint: 'https://c.example/api' }).track('again');
    expect(fetch).not.toHaveBeenCalled();
    expect(heard).not.toHaveBeenCalled();
    expect(onError).not.toHaveBeenCalled();
  });

  it('does nothing where a window exists without a document (Deno 1.x) or in a worker (self, no window)', async () => {
    const { init } = await import('../../src/index');
    vi.stubGlobal('window', globalThis);
    expect(() => init({ endpoint: 'https://c.example/api' }).track('deno')).not.toThrow();
    vi.unstubAllGlobals();
    vi.stubGlobal('self', globalThis);
    vi.stubGlobal('importScripts', () => {});
    const tracker = init({ endpoint: 'https://c.example/api' });
    await expect(tracker.flush()).resolves.toBeUndefined();
  });

  it('lets the script-tag file run in a worker (importScripts) without a window, leaving nothing behind', async () => {
    vi.stubGlobal('self', globalThis);
    await expect(import('../../src/entry/script')).resolves.toBeDefined();
    expect((globalThis as { spoor?: unknown }).spoor).toBeUndefined();
  });
});
