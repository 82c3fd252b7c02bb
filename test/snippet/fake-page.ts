// A fake page for the tracker and bootstrap tests: a collector answering from a script, storage in
// memory, an in-memory outbox, and lazily loaded parts that record whether they were asked for.

import { vi } from 'vitest';
import type { Outbox } from '../../src/deliver/outbox';
import type { Environment } from '../../src/entry/bootstrap';
import { createStorage, type KeyValue } from '../../src/state/storage';
import type { Loaders } from '../../src/tracker';
import { fakeFetch, fakeOutbox, type Reply } from './fake-network';

export const endpoint = 'https://c.example/api';
// happy-dom reports navigator.webdriver = true, which would opt the tests out as automation.
export const allowAutomation = true;
// Identifiers minted so far, across pages, so that each is new.
let minted = 0;

export function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    length: 0,
    clear: () => map.clear(),
    getItem: (k: string) => map.get(k) ?? null,
    key: () => null,
    removeItem: (k: string) => void map.delete(k),
    setItem: (k: string, v: string) => void map.set(k, v),
  };
}

export interface PageOptions {
  /** Answers to /track requests, by their index. */
  track?: (index: number) => Reply;
  /** Answers to /session requests, by their index; by default a fresh identifier. */
  session?: (index: number) => Reply | undefined;
  /** Holds every /session request until `gate.release()`. */
  gated?: boolean;
  /** What an earlier page load left: pass them to model the next page load of the same browser. */
  local?: KeyValue;
  tabStore?: KeyValue;
  outbox?: Outbox;
}

export function fakePage(opts: PageOptions = {}) {
  let trackIndex = 0;
  let sessionIndex = 0;
  const net = fakeFetch((url) => {
    if (url.endsWith('/session')) {
      const scripted = opts.session?.(sessionIndex++);
      if (scripted) return scripted;
      return {
        status: 200,
        body: JSON.stringify({ status: true, sessionIdentifier: `sid-${++minted}`, tab: 1 }),
      };
    }
    return (opts.track ?? (() => ({ status: 200 })))(trackIndex++);
  });
  const gate = { open: !opts.gated, release: () => {} };
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith('/session') && !gate.open) {
      await new Promise<void>((resolve) => {
        gate.release = () => {
          gate.open = true;
          resolve();
        };
      });
    }
    return net.fetch(input, init);
  }) as typeof globalThis.fetch;
  const snapshot = vi.fn();
  const recorderStarted = vi.fn();
  const recorderStopped = vi.fn();
  const recorderLoaded = vi.fn();
  const vitalsLoaded = vi.fn();
  const flameupLoaded = vi.fn();
  const loaders: Loaders = {
    recorder: async () => {
      recorderLoaded();
      return (options) => {
        recorderStarted(options);
        return { takeFullSnapshot: snapshot, stop: recorderStopped };
      };
    },
    vitals: async () => {
      vitalsLoaded();
      return () => () => {};
    },
    flameup: async () => {
      flameupLoaded();
      return (await import('../../src/flameup/flameup')).startFlameup;
    },
  };
  const env: Environment = {
    win: window,
    fetch,
    local: opts.local ?? createStorage(memoryStorage),
    tabStore: opts.tabStore ?? createStorage(memoryStorage),
    outbox: opts.outbox ?? fakeOutbox(),
    now: Date.now,
    random: () => 0.5,
  };
  return {
    net,
    env,
    loaders,
    snapshot,
    recorderStarted,
    recorderStopped,
    recorderLoaded,
    vitalsLoaded,
    flameupLoaded,
    gate,
  };
}

type Body = { sessionIdentifier: string; events: { data: { tag: string; payload: { name?: string } } }[] };

/** A /track body's events by name: the custom event's tag, or the tracked event's name. */
export const names = (body: Body) =>
  body.events.map((e) => (e.data.tag === 'event' ? e.data.payload.name : e.data.tag));
