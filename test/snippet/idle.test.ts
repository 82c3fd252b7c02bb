// An idle page sends nothing: the timer's progress rides on batches with events, on visits and on page
// hide, or goes alone at most once a minute while the page is visible and focused.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Options, resolveConfig } from '../../src/config';
import type { Environment } from '../../src/entry/bootstrap';
import { createBoundary } from '../../src/lib/boundary';
import { createDebug } from '../../src/lib/debug';
import { createTracker, type Loaders } from '../../src/tracker';
import { allowAutomation, endpoint, fakePage, names } from './fake-page';

function startCore(options: Partial<Options>, loaders: Loaders, env: Environment) {
  const config = resolveConfig({ endpoint, allowAutomation, project: 'pk', compress: false, ...options });
  return createTracker(config, {
    loaders,
    env,
    debug: createDebug(false, env.now),
    boundary: createBoundary(undefined, false),
  });
}

let visible: DocumentVisibilityState = 'visible';
let focused = true;
const hide = () => {
  visible = 'hidden';
  document.dispatchEvent(new Event('visibilitychange'));
};

describe('an idle page', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    visible = 'visible';
    focused = true;
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visible });
    document.hasFocus = () => focused;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the timer alone at most once a minute while visible and focused, and with the next event', async () => {
    const { net, env, loaders } = fakePage();
    const tracker = startCore({}, loaders, env);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(net.tracks().map(names)).toEqual([['visit']]);
    // 55 s more: the first minute since the last batch is not over, nothing goes.
    await vi.advanceTimersByTimeAsync(55_000 - 1);
    expect(net.tracks()).toHaveLength(1);
    // Three minutes after the first batch: one timer-only request a minute, each a larger timer.
    await vi.advanceTimersByTimeAsync(125_000 + 1);
    const idle = net.tracks().slice(1);
    expect(idle).toHaveLength(3);
    for (const body of idle) expect(body.events).toEqual([]);
    const timers = net.tracks().map((body) => body.timer as number);
    expect(timers).toEqual([...timers].sort((a, b) => a - b));
    expect(new Set(timers).size).toBe(timers.length);
    expect(timers[3]).toBeGreaterThanOrEqual(184.9);
    // An event goes at the next flush, with the timer's progress since.
    await vi.advanceTimersByTimeAsync(20_000);
    tracker.track('back');
    await vi.advanceTimersByTimeAsync(5_000);
    const last = net.tracks().at(-1);
    expect(names(last)).toEqual(['back']);
    expect(last.timer).toBeGreaterThan(timers[3] as number);
    tracker.stop();
  });

  it('sends nothing while visible but not focused, since its timer does not move', async () => {
    const { net, env, loaders } = fakePage();
    const tracker = startCore({}, loaders, env);
    await vi.advanceTimersByTimeAsync(5_000);
    focused = false;
    window.dispatchEvent(new Event('blur'));
    await vi.advanceTimersByTimeAsync(180_000);
    expect(net.tracks()).toHaveLength(1);
    tracker.stop();
  });

  it('sends the progress once at page hide and nothing while hidden until it has an event to send', async () => {
    const { net, env, loaders } = fakePage();
    const tracker = startCore({}, loaders, env);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(net.tracks()).toHaveLength(1);
    hide();
    await vi.advanceTimersByTimeAsync(10);
    const atHide = net.tracks();
    expect(atHide).toHaveLength(2);
    expect(atHide[1].events).toEqual([]);
    expect(atHide[1].timer).toBeGreaterThanOrEqual(29.9);
    // Five hidden minutes: silence.
    await vi.advanceTimersByTimeAsync(300_000);
    expect(net.tracks()).toHaveLength(2);
    tracker.track('while hidden');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(net.tracks().map(names).at(-1)).toEqual(['while hidden']);
    expect(net.tracks()).toHaveLength(3);
    tracker.stop();
  });

  it('still sends the timer of a finished visit at once when the next visit starts', async () => {
    const { net, env, loaders } = fakePage();
    const tracker = startCore({}, loaders, env);
    await vi.advanceTimersByTimeAsync(20_000);
    history.pushState({}, '', '/next-route');
    await vi.advanceTimersByTimeAsync(10);
    const bodies = net.tracks();
    // The first batch went at 5 s; the visit's last 15 s leave with the route change, alone.
    expect(bodies.map(names)).toEqual([['visit'], []]);
    expect(bodies[1].timer).toBeGreaterThanOrEqual(19.9);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(net.tracks().map(names).at(-1)).toEqual(['visit']);
    tracker.stop();
  });
});
