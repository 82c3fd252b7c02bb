import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type _Backend,
  _createOutboxOn,
  _localStorageBackend,
  _memoryBackend,
  createOutbox,
  LEASE_MS,
} from '../../src/deliver/outbox';
import { batch, freshNamespace } from './outbox-fixtures';

// happy-dom has no IndexedDB, so createOutbox lands on localStorage here; outbox-indexeddb.test.ts runs
// the IndexedDB backend on fake-indexeddb, and e2e/ in real Chromium.

function outbox(namespace: string, maxBytes = 1_000, drops: Array<[number, number]> = []) {
  return createOutbox({ namespace, maxBytes, onDrop: (count, bytes) => drops.push([count, bytes]) });
}

/** A Storage where every call throws, as in browsers that block site data. */
function throwingStorage(): Storage {
  const fail = () => {
    throw new DOMException('The operation is insecure.', 'SecurityError');
  };
  return {
    get length(): number {
      return fail();
    },
    key: fail,
    getItem: fail,
    setItem: fail,
    removeItem: fail,
    clear: fail,
  };
}

/** A Storage that holds up to `capacity` characters and then throws QuotaExceededError, like a full
 *  localStorage. */
function smallStorage(capacity: number): Storage {
  const items = new Map<string, string>();
  const used = () => [...items].reduce((sum, [k, v]) => sum + k.length + v.length, 0);
  return {
    get length() {
      return items.size;
    },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => {
      const before = items.get(k);
      const next = used() - (before === undefined ? 0 : k.length + before.length) + k.length + v.length;
      if (next > capacity) throw new DOMException('full', 'QuotaExceededError');
      items.set(k, v);
    },
    removeItem: (k) => {
      items.delete(k);
    },
    clear: () => items.clear(),
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

beforeEach(() => {
  localStorage.clear();
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('outbox storage', () => {
  it('lists kept batches oldest first, whatever order they were put in', async () => {
    const box = outbox(freshNamespace());
    await box.put(batch('b', 2_000));
    await box.put(batch('c', 3_000));
    await box.put(batch('a', 1_000));
    expect((await box.list()).map((b) => b.id)).toEqual(['a', 'b', 'c']);
  });

  it('orders batches made in the same millisecond by when they were put', async () => {
    const box = outbox(freshNamespace());
    for (const id of ['9', '10', 'x', '2']) await box.put(batch(id, 5_000));
    expect((await box.list()).map((b) => b.id)).toEqual(['9', '10', 'x', '2']);
  });

  it('gives back the exact body text it was given', async () => {
    const box = outbox(freshNamespace());
    const body = '{"events":[{"type":3,"data":{"text":"é\\u2028 \\"q\\""},"timestamp":1}] ,"timer":1.0}';
    await box.put(batch('a', 1, body.length, body));
    expect(await box.list()).toEqual([{ id: 'a', body, createdAt: 1, bytes: body.length }]);
  });

  it('replaces a batch put again with the same id instead of keeping two', async () => {
    const box = outbox(freshNamespace());
    await box.put(batch('a', 1, 10, 'first'));
    await box.put(batch('b', 2, 10));
    await box.put(batch('a', 1, 10, 'second'));
    expect(await box.list()).toEqual([batch('a', 1, 10, 'second'), batch('b', 2, 10)]);
    expect(await box.size()).toEqual({ batches: 2, bytes: 20 });
  });

  it('removes a batch by id and reports the size of what is left', async () => {
    const box = outbox(freshNamespace());
    await box.put(batch('a', 1, 100));
    await box.put(batch('b', 2, 250));
    await box.remove('a');
    await box.remove('missing');
    expect(await box.size()).toEqual({ batches: 1, bytes: 250 });
    expect((await box.list()).map((b) => b.id)).toEqual(['b']);
  });

  it('survives a new outbox instance on the same storage, as after a reload', async () => {
    const namespace = freshNamespace();
    const before = outbox(namespace);
    await before.put(batch('a', 1, 10, 'body-a'));
    await before.put(batch('b', 2, 20, 'body-b'));
    const after = outbox(namespace);
    expect(await after.list()).toEqual([batch('a', 1, 10, 'body-a'), batch('b', 2, 20, 'body-b')]);
    expect(Object.keys(localStorage).filter((k) => k.startsWith('spoor-outbox:'))).toHaveLength(2);
  });

  it('keeps namespaces apart, even when one is a prefix of another', async () => {
    const namespace = freshNamespace();
    await outbox(namespace).put(batch('a', 1));
    await outbox(`${namespace}:b`).put(batch('b', 1));
    expect((await outbox(namespace).list()).map((b) => b.id)).toEqual(['a']);
    expect((await outbox(`${namespace}:b`).list()).map((b) => b.id)).toEqual(['b']);
  });

  it('ignores unreadable entries left in storage', async () => {
    const namespace = freshNamespace();
    localStorage.setItem(`spoor-outbox:${namespace}:junk`, '{not json');
    localStorage.setItem(`spoor-outbox:${namespace}:half`, '{"id":"half"}');
    const box = outbox(namespace);
    await box.put(batch('a', 1));
    expect((await box.list()).map((b) => b.id)).toEqual(['a']);
  });

  it('serialises concurrent calls so that none sees a half-done put', async () => {
    const box = outbox(freshNamespace(), 30);
    await Promise.all([box.put(batch('a', 1)), box.put(batch('b', 2)), box.put(batch('c', 3))]);
    const [listed, size] = await Promise.all([box.list(), box.size()]);
    expect(listed.map((b) => b.id)).toEqual(['a', 'b', 'c']);
    expect(size).toEqual({ batches: 3, bytes: 30 });
  });
});

describe('outbox bound', () => {
  it('drops the oldest batches first when a new one overflows, and reports how many and their bytes', async () => {
    const drops: Array<[number, number]> = [];
    const box = outbox(freshNamespace(), 100, drops);
    await box.put(batch('a', 1, 30));
    await box.put(batch('b', 2, 30));
    await box.put(batch('c', 3, 30));
    expect(drops).toEqual([]);
    await box.put(batch('d', 4, 50));
    expect(drops).toEqual([[2, 60]]);
    expect((await box.list()).map((b) => b.id)).toEqual(['c', 'd']);
    expect(await box.size()).toEqual({ batches: 2, bytes: 80 });
  });

  it('evicts by age, not by the order batches were put in', async () => {
    const drops: Array<[number, number]> = [];
    const box = outbox(freshNamespace(), 50, drops);
    await box.put(batch('new', 200, 20));
    await box.put(batch('old', 100, 20));
    await box.put(batch('next', 300, 20));
    expect(drops).toEqual([[1, 20]]);
    expect((await box.list()).map((b) => b.id)).toEqual(['new', 'next']);
  });

  it('keeps a batch that exactly fills the bound', async () => {
    const drops: Array<[number, number]> = [];
    const box = outbox(freshNamespace(), 100, drops);
    await box.put(batch('a', 1, 40));
    await box.put(batch('b', 2, 60));
    expect(drops).toEqual([]);
    expect(await box.size()).toEqual({ batches: 2, bytes: 100 });
  });

  it('drops a single batch bigger than the bound itself and keeps the others', async () => {
    const drops: Array<[number, number]> = [];
    const box = outbox(freshNamespace(), 100, drops);
    await box.put(batch('a', 1, 40));
    await box.put(batch('huge', 2, 101));
    expect(drops).toEqual([[1, 101]]);
    expect((await box.list()).map((b) => b.id)).toEqual(['a']);
  });

  it('does not count a replaced batch twice against the bound', async () => {
    const drops: Array<[number, number]> = [];
    const box = outbox(freshNamespace(), 100, drops);
    await box.put(batch('a', 1, 40));
    await box.put(batch('b', 2, 50));
    await box.put(batch('b', 2, 50));
    expect(drops).toEqual([]);
    expect(await box.size()).toEqual({ batches: 2, bytes: 90 });
  });

  it('still stores the batch when the drop callback throws', async () => {
    const box = createOutbox({
      namespace: freshNamespace(),
      maxBytes: 10,
      onDrop: () => {
        throw new Error('listener bug');
      },
    });
    await box.put(batch('a', 1, 10));
    await expect(box.put(batch('b', 2, 10))).resolves.toBeUndefined();
    expect((await box.list()).map((b) => b.id)).toEqual(['b']);
  });
});

describe('outbox fallbacks', () => {
  it('falls back to memory when storage throws, keeping every batch for the page', async () => {
    vi.stubGlobal('localStorage', throwingStorage());
    const namespace = freshNamespace();
    const box = outbox(namespace);
    await expect(box.put(batch('a', 1))).resolves.toBeUndefined();
    await box.put(batch('b', 2));
    expect((await box.list()).map((b) => b.id)).toEqual(['a', 'b']);
    await expect(box.remove('a')).resolves.toBeUndefined();
    expect(await box.size()).toEqual({ batches: 1, bytes: 10 });
    // A second outbox in the same page (a re-init) still finds it.
    expect((await outbox(namespace).list()).map((b) => b.id)).toEqual(['b']);
  });

  it('falls back to memory when even reading localStorage throws', async () => {
    const original = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
    Object.defineProperty(globalThis, 'localStorage', {
      configurable: true,
      get: () => {
        throw new DOMException('blocked', 'SecurityError');
      },
    });
    try {
      const box = outbox(freshNamespace());
      await box.put(batch('a', 1));
      expect((await box.list()).map((b) => b.id)).toEqual(['a']);
      expect(await box.withLock(async () => 'ran')).toBe('ran');
    } finally {
      if (original) Object.defineProperty(globalThis, 'localStorage', original);
    }
  });

  it('moves on to memory when localStorage fills up, and still lists everything oldest first', async () => {
    const storage = smallStorage(300);
    vi.stubGlobal('localStorage', storage);
    const namespace = freshNamespace();
    const box = outbox(namespace, 10_000);
    for (let i = 0; i < 6; i++) await box.put(batch(`b${i}`, i, 10, 'x'.repeat(40)));
    expect((await box.list()).map((b) => b.id)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
    const inStorage = (await _localStorageBackend(storage, namespace).readAll()).map((b) => b.id).sort();
    const inMemory = (await _memoryBackend(namespace).readAll()).map((b) => b.id).sort();
    expect(inStorage.length).toBeGreaterThan(0);
    expect(inMemory.length).toBeGreaterThan(0);
    expect([...inStorage, ...inMemory]).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
  });

  it('falls back to localStorage when opening IndexedDB throws', async () => {
    vi.stubGlobal('indexedDB', {
      open: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    const namespace = freshNamespace();
    await outbox(namespace).put(batch('a', 1));
    vi.unstubAllGlobals();
    expect((await outbox(namespace).list()).map((b) => b.id)).toEqual(['a']);
  });

  it('reads batches an earlier page load left in a lower backend and writes new ones above', async () => {
    const namespace = freshNamespace();
    const calls: string[] = [];
    const flaky: _Backend = {
      kind: 'indexeddb',
      readAll: async () => {
        throw new Error('unreadable');
      },
      write: async (b) => {
        calls.push(`write ${b.id}`);
        throw new Error('broken');
      },
      delete: async () => {},
    };
    await outbox(namespace).put(batch('earlier', 1));
    const box = _createOutboxOn(
      [flaky, _localStorageBackend(localStorage, namespace), _memoryBackend(namespace)],
      localStorage,
      { namespace, maxBytes: 1_000, onDrop: () => {} },
    );
    await box.put(batch('a', 2));
    await box.put(batch('b', 3));
    // After one failed write the broken backend is skipped for the page's life.
    expect(calls).toEqual(['write a']);
    expect((await box.list()).map((b) => b.id)).toEqual(['earlier', 'a', 'b']);
  });
});

describe('outbox lock', () => {
  it('excludes a second holder, in this tab and in another outbox on the same storage', async () => {
    const namespace = freshNamespace();
    const first = outbox(namespace);
    const gate = deferred();
    const held = first.withLock(async () => {
      await gate.promise;
      return 'first';
    });
    await new Promise((r) => setTimeout(r, 60));
    const secondFn = vi.fn(async () => 'second');
    expect(await first.withLock(secondFn)).toBeUndefined();
    expect(await outbox(namespace).withLock(secondFn)).toBeUndefined();
    expect(secondFn).not.toHaveBeenCalled();
    gate.resolve();
    expect(await held).toBe('first');
    expect(await outbox(namespace).withLock(secondFn)).toBe('second');
  });

  it('lets only one of two simultaneous claimants in', async () => {
    const namespace = freshNamespace();
    const results = await Promise.all([
      outbox(namespace).withLock(async () => 'x'),
      outbox(namespace).withLock(async () => 'y'),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it('does not hold other namespaces', async () => {
    const gate = deferred();
    const held = outbox(freshNamespace()).withLock(() => gate.promise);
    expect(await outbox(freshNamespace()).withLock(async () => 'other')).toBe('other');
    gate.resolve();
    await held;
  });

  it('is released after the holder throws, and passes the error on', async () => {
    const box = outbox(freshNamespace());
    await expect(
      box.withLock(async () => {
        throw new Error('drain failed');
      }),
    ).rejects.toThrow('drain failed');
    expect(Object.keys(localStorage).filter((k) => k.startsWith('spoor-outbox-lock:'))).toEqual([]);
    expect(await box.withLock(async () => 'again')).toBe('again');
  });

  it('backs off when another tab overwrote its claim before the re-check', async () => {
    const namespace = freshNamespace();
    const fn = vi.fn(async () => 'mine');
    const claim = outbox(namespace).withLock(fn);
    // The other tab saw the lock free at the same moment and wrote its lease just after ours.
    localStorage.setItem(
      `spoor-outbox-lock:${namespace}`,
      JSON.stringify({ owner: 'other-tab', expires: Date.now() + LEASE_MS }),
    );
    expect(await claim).toBeUndefined();
    expect(fn).not.toHaveBeenCalled();
  });

  it('respects a live lease of another tab and takes over an expired one', async () => {
    const namespace = freshNamespace();
    const key = `spoor-outbox-lock:${namespace}`;
    localStorage.setItem(key, JSON.stringify({ owner: 'other-tab', expires: Date.now() + 5_000 }));
    expect(await outbox(namespace).withLock(async () => 'mine')).toBeUndefined();
    localStorage.setItem(key, JSON.stringify({ owner: 'crashed-tab', expires: Date.now() - 1 }));
    expect(await outbox(namespace).withLock(async () => 'mine')).toBe('mine');
    expect(localStorage.getItem(key)).toBeNull();
  });

  it('renews its lease while the holder runs past the lease time', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const namespace = freshNamespace();
    const key = `spoor-outbox-lock:${namespace}`;
    const gate = deferred();
    const held = outbox(namespace).withLock(() => gate.promise);
    await vi.advanceTimersByTimeAsync(LEASE_MS * 3);
    const lease = JSON.parse(localStorage.getItem(key) ?? 'null') as { expires: number };
    expect(lease.expires).toBeGreaterThan(Date.now());
    expect(await outbox(namespace).withLock(async () => 'intruder')).toBeUndefined();
    gate.resolve();
    await held;
  });

  it('uses Web Locks with ifAvailable when the browser has them', async () => {
    const requests: Array<{ name: string; ifAvailable: boolean | undefined }> = [];
    const heldNames = new Set<string>();
    const locks = {
      request: async (
        name: string,
        options: { ifAvailable?: boolean },
        callback: (lock: { name: string } | null) => Promise<unknown>,
      ) => {
        requests.push({ name, ifAvailable: options.ifAvailable });
        if (heldNames.has(name)) return callback(null);
        heldNames.add(name);
        try {
          return await callback({ name });
        } finally {
          heldNames.delete(name);
        }
      },
    };
    vi.stubGlobal('navigator', { locks });
    const namespace = freshNamespace();
    const box = outbox(namespace);
    const gate = deferred();
    const held = box.withLock(async () => {
      await gate.promise;
      return 1;
    });
    expect(await box.withLock(async () => 2)).toBeUndefined();
    gate.resolve();
    expect(await held).toBe(1);
    await expect(
      box.withLock(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await box.withLock(async () => 3)).toBe(3);
    expect(requests[0]).toEqual({ name: `spoor-outbox:${namespace}`, ifAvailable: true });
    // Web Locks did the excluding: no lease was written.
    expect(Object.keys(localStorage).filter((k) => k.startsWith('spoor-outbox-lock:'))).toEqual([]);
  });

  it('falls back to the storage lease when Web Locks refuse the request', async () => {
    vi.stubGlobal('navigator', {
      locks: {
        request: async () => {
          throw new DOMException('opaque origin', 'SecurityError');
        },
      },
    });
    const namespace = freshNamespace();
    localStorage.setItem(
      `spoor-outbox-lock:${namespace}`,
      JSON.stringify({ owner: 'other-tab', expires: Date.now() + 5_000 }),
    );
    expect(await outbox(namespace).withLock(async () => 'mine')).toBeUndefined();
  });

  it('still excludes a second holder in the page when storage throws', async () => {
    vi.stubGlobal('localStorage', throwingStorage());
    const namespace = freshNamespace();
    const gate = deferred();
    const held = outbox(namespace).withLock(() => gate.promise);
    expect(await outbox(namespace).withLock(async () => 'second')).toBeUndefined();
    gate.resolve();
    await held;
    expect(await outbox(namespace).withLock(async () => 'third')).toBe('third');
  });
});
