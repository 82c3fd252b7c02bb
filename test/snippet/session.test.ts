import { describe, expect, it } from 'vitest';
import { createSession, SHARED_KEY, TAB_KEY } from '../../src/state/session';
import { createStorage, type KeyValue } from '../../src/state/storage';
import { fakeFetch } from './fake-network';

function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (k: string) => map.get(k) ?? null,
    key: (i: number) => [...map.keys()][i] ?? null,
    removeItem: (k: string) => void map.delete(k),
    setItem: (k: string, v: string) => void map.set(k, v),
  };
}

let counter = 0;
function collector() {
  return fakeFetch(() => ({
    status: 200,
    body: JSON.stringify({
      status: true,
      sessionIdentifier: `sid-${++counter}`,
      idleTimeout: 1800,
      maxAge: 86400,
      tab: counter,
    }),
  }));
}

function session(opts: {
  local: KeyValue;
  tab: KeyValue;
  fetch: typeof fetch;
  now?: () => number;
  explicit?: string;
}) {
  return createSession({
    explicit: opts.explicit,
    project: 'pk_test',
    endpoint: 'https://c.example/api',
    contentType: 'text/plain',
    local: opts.local,
    tabStore: opts.tab,
    fetch: opts.fetch,
    page: () => ({ url: 'https://site.example/', referrer: '', userAgent: 'test' }),
    onSession: () => {},
    ...(opts.now ? { now: opts.now } : {}),
  });
}

describe('session identifier', () => {
  it('uses an explicit identifier without calling /session', async () => {
    const net = collector();
    const s = session({
      local: createStorage(memoryStorage),
      tab: createStorage(memoryStorage),
      fetch: net.fetch,
      explicit: 'server-rendered',
    });
    expect(await s.acquire()).toBe('server-rendered');
    expect(net.requests).toHaveLength(0);
  });

  it('mints an identifier with the project key, then reuses it from sessionStorage after a reload', async () => {
    const net = collector();
    const local = createStorage(memoryStorage);
    const tabBacking = memoryStorage();
    const first = session({ local, tab: createStorage(() => tabBacking), fetch: net.fetch });
    const minted = await first.acquire();
    expect(net.requests).toHaveLength(1);
    expect(net.requests[0]?.url).toBe('https://c.example/api/services/analytics/v1/session');
    expect(JSON.parse(net.requests[0]?.text ?? '{}')).toMatchObject({
      project: 'pk_test',
      url: 'https://site.example/',
    });
    first.release(); // pagehide of a reload
    const reloaded = session({ local, tab: createStorage(() => tabBacking), fetch: net.fetch });
    expect(await reloaded.acquire()).toBe(minted);
    expect(net.requests).toHaveLength(1);
  });

  it('joins the shared session from another tab by passing its identifier to /session', async () => {
    const net = collector();
    const local = createStorage(memoryStorage);
    const tabA = session({ local, tab: createStorage(memoryStorage), fetch: net.fetch });
    const a = await tabA.acquire();
    const tabB = session({ local, tab: createStorage(memoryStorage), fetch: net.fetch });
    const b = await tabB.acquire();
    expect(b).not.toBe(a);
    expect(JSON.parse(net.requests[1]?.text ?? '{}').sessionIdentifier).toBe(a);
  });

  it('gives a duplicated tab its own identifier although sessionStorage was copied', async () => {
    const net = collector();
    const local = createStorage(memoryStorage);
    const original = memoryStorage();
    const tabA = session({ local, tab: createStorage(() => original), fetch: net.fetch });
    const a = await tabA.acquire();
    // The browser copies sessionStorage into the duplicate while the original still runs.
    const copy = memoryStorage();
    copy.setItem(TAB_KEY, original.getItem(TAB_KEY) as string);
    const duplicate = session({ local, tab: createStorage(() => copy), fetch: net.fetch });
    const d = await duplicate.acquire();
    expect(d).not.toBe(a);
    expect(JSON.parse(net.requests[1]?.text ?? '{}').sessionIdentifier).toBe(a);
    // And the original keeps its own.
    expect(tabA.current()).toBe(a);
  });

  it('starts a new session after 30 minutes without activity', async () => {
    const net = collector();
    let now = 1_000_000;
    const local = createStorage(memoryStorage);
    const tab = createStorage(memoryStorage);
    const s = session({ local, tab, fetch: net.fetch, now: () => now });
    const first = await s.acquire();
    now += 29 * 60_000;
    expect(s.touch()).toBe(false);
    now += 29 * 60_000; // 29 minutes after the last activity: still alive
    expect(s.touch()).toBe(false);
    now += 31 * 60_000;
    expect(s.touch()).toBe(true);
    const second = await s.renew();
    expect(second).not.toBe(first);
    // A new session is not joined to the expired one.
    expect(JSON.parse(net.requests[1]?.text ?? '{}').sessionIdentifier).toBeUndefined();
  });

  it('starts a new session after 24 hours even with constant activity', async () => {
    const net = collector();
    let now = 5_000_000;
    const s = session({
      local: createStorage(memoryStorage),
      tab: createStorage(memoryStorage),
      fetch: net.fetch,
      now: () => now,
    });
    await s.acquire();
    for (let minutes = 0; minutes < 24 * 60 - 10; minutes += 10) {
      now += 10 * 60_000;
      expect(s.touch()).toBe(false);
    }
    now += 20 * 60_000;
    expect(s.touch()).toBe(true);
  });

  it('keeps the sampling decision and external id with the shared session', async () => {
    const local = createStorage(memoryStorage);
    const a = session({ local, tab: createStorage(memoryStorage), fetch: collector().fetch });
    a.update({ sampled: false, externalId: 'user-1' });
    const b = session({ local, tab: createStorage(memoryStorage), fetch: collector().fetch });
    expect(b.shared()).toMatchObject({ sampled: false, externalId: 'user-1' });
  });

  it('falls back to memory when storage throws, and still works', async () => {
    const throwing = () => {
      throw new DOMException('denied', 'SecurityError');
    };
    const local = createStorage(throwing);
    const broken = memoryStorage();
    broken.setItem = () => {
      throw new DOMException('quota', 'QuotaExceededError');
    };
    const tab = createStorage(() => broken);
    const net = collector();
    const s = session({ local, tab, fetch: net.fetch });
    const sid = await s.acquire();
    expect(sid).toMatch(/^sid-/);
    expect(local.get(SHARED_KEY)).toContain(sid);
    expect(JSON.parse(tab.get(TAB_KEY) ?? '{}').id).toBe(sid);
  });

  it('mints a new identifier in place of a rejected one, once per call', async () => {
    const net = collector();
    const s = session({
      local: createStorage(memoryStorage),
      tab: createStorage(memoryStorage),
      fetch: net.fetch,
    });
    const first = await s.acquire();
    const second = await s.renew(first);
    expect(second).not.toBe(first);
    expect(s.current()).toBe(second);
    // A stale rejection of the old identifier does not throw away the new one.
    expect(await s.renew(first)).toBe(second);
  });

  it('rejects when /session fails, so the caller can retry later', async () => {
    const net = fakeFetch(() => ({ status: 422, body: '{"message":"unknown project"}' }));
    const s = session({
      local: createStorage(memoryStorage),
      tab: createStorage(memoryStorage),
      fetch: net.fetch,
    });
    await expect(s.acquire()).rejects.toThrow(/422/);
    expect(s.current()).toBeUndefined();
  });

  it("says 'origin not allowed' when the collector refuses the page's origin", async () => {
    const net = fakeFetch(() => ({
      status: 403,
      body: '{"error":true,"message":"This origin is not allowed for the project."}',
    }));
    const s = session({
      local: createStorage(memoryStorage),
      tab: createStorage(memoryStorage),
      fetch: net.fetch,
    });
    await expect(s.acquire()).rejects.toThrow(/^spoor: origin not allowed: /);
  });
});
