// Batches that could not be delivered yet, kept across reloads so a network spell, a 5xx or a 429 loses
// nothing. Storage is IndexedDB, else localStorage, else memory for the page's life.
// The outbox never throws: a store that fails is skipped and the batch goes to the next one.

import { randomId } from '../lib/random';
// Shared with stored.ts, which clears every outbox without creating one (consent denied).
import { OUTBOX_DB as DB_NAME, OUTBOX_KEY_PREFIX as KEY_PREFIX } from '../state/keys';

/** One undelivered batch. `body` is the exact JSON text of the first attempt: the collector recognises a
 *  repeated body by its bytes, so a retry must not re-serialise (the collector stores a body once by its hash). */
export interface OutboxBatch {
  id: string;
  body: string;
  createdAt: number;
  bytes: number;
}

export interface Outbox {
  /** Stores the batch (replacing one with the same id), dropping the oldest batches if it overflows. */
  put(b: OutboxBatch): Promise<void>;
  /** Every kept batch, oldest first. */
  list(): Promise<OutboxBatch[]>;
  remove(id: string): Promise<void>;
  size(): Promise<{ batches: number; bytes: number }>;
  /** Keeps the batch at once, in this task, where storage is synchronous (localStorage): for the page
   *  that is going away, whose asynchronous writes (IndexedDB) may never run. Best effort; never throws. */
  keepNow(b: OutboxBatch): void;
  /** Runs `fn` while holding this namespace's lock, one tab at a time; undefined when another holder has
   *  it (nothing is awaited). An error thrown by `fn` is passed on, after the lock is released. */
  withLock<T>(fn: () => Promise<T>): Promise<T | undefined>;
}

export interface OutboxOptions {
  /** Separates outboxes of different projects or endpoints on one origin. */
  namespace: string;
  /** Upper bound of the sum of `bytes` of kept batches. */
  maxBytes: number;
  /** Told how many batches (and their bytes) were dropped to stay within `maxBytes`. */
  onDrop: (count: number, bytes: number) => void;
  /** Told when a storage refuses a write (or never opens) and the next one takes the batches from
   *  then on: a broken IndexedDB must show in the debug log, not hide behind localStorage. */
  onFallback?: (from: _Backend['kind'], to: _Backend['kind'], error: unknown) => void;
}

/** A stored batch plus its insertion order, which breaks ties between batches made in the same ms. */
export interface _StoredBatch extends OutboxBatch {
  seq: number;
}

/** One place batches can be kept. Methods may reject; the outbox turns that into a fallback. */
export interface _Backend {
  readonly kind: 'indexeddb' | 'localstorage' | 'memory';
  readAll(): Promise<_StoredBatch[]>;
  write(b: _StoredBatch): Promise<void>;
  delete(id: string): Promise<void>;
}

const STORE = 'batches';
const LOCK_PREFIX = 'spoor-outbox-lock:';
/** How long a storage lease holds without renewal: a tab that crashed frees the lock after this. */
export const LEASE_MS = 10_000;
/** Wait between writing a lease and checking it is still ours: two tabs that both saw the lock free both
 *  write, the later write wins, and each re-reads to learn whether it was the later one. */
export const LEASE_RECHECK_MS = 30;
/** Safari can leave indexedDB.open pending forever until the page is reloaded
 *  (https://bugs.webkit.org/show_bug.cgi?id=226547); past this we fall back instead of waiting. */
const IDB_OPEN_TIMEOUT_MS = 3_000;

/** Batches kept in memory per namespace, for the page's life, when no storage accepts them. Module-level
 *  so that a second outbox for the same namespace in this page (a re-init) still sees them. */
const memoryStores = new Map<string, Map<string, _StoredBatch>>();
/** Lock names held in this page when neither Web Locks nor localStorage can hold them. */
const pageLocks = new Set<string>();

/** Creates the outbox for a namespace, on the best storage this browser lets us use. */
export function createOutbox(opts: OutboxOptions): Outbox {
  const backends: _Backend[] = [];
  const idb = globalIndexedDB();
  if (idb) backends.push(_indexedDbBackend(idb, opts.namespace));
  const storage = globalLocalStorage();
  if (storage) backends.push(_localStorageBackend(storage, opts.namespace));
  backends.push(_memoryBackend(opts.namespace));
  return _createOutboxOn(backends, storage, opts);
}

/**
 * The outbox over an ordered list of backends, best first; the last must never fail (memory).
 * Writes go to the first backend that has not failed a write yet; once one fails, later writes skip it
 * for the page's life, so a later backend always holds the newer copy of a batch. Reads merge every
 * backend, so batches written by an earlier page load on another backend are still delivered.
 */
export function _createOutboxOn(
  backends: _Backend[],
  lockStorage: Storage | undefined,
  opts: OutboxOptions,
): Outbox {
  /** Index of the backend that takes writes; grows when one fails. */
  let writeTo = 0;
  /** Serialises this instance's operations so a put's read-evict-write is not interleaved. */
  let tail: Promise<unknown> = Promise.resolve();

  const run = <T>(op: () => Promise<T>): Promise<T> => {
    const result = tail.then(op);
    tail = result.then(noop, noop);
    return result;
  };

  const readAll = async (): Promise<_StoredBatch[]> => {
    const byId = new Map<string, _StoredBatch>();
    for (const backend of backends) {
      let batches: _StoredBatch[];
      try {
        batches = await backend.readAll();
      } catch {
        continue; // unreadable now; whatever it holds stays there for a later read
      }
      for (const b of batches) byId.set(b.id, b); // a later backend holds the newer copy
    }
    return [...byId.values()].sort(
      (a, b) => a.createdAt - b.createdAt || a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  };

  const deleteEverywhere = async (id: string, except?: _Backend): Promise<void> => {
    for (const backend of backends) {
      if (backend === except) continue;
      try {
        await backend.delete(id);
      } catch {
        // left behind; a copy that reappears is sent again and stored once by the collector
      }
    }
  };

  const write = async (b: _StoredBatch): Promise<void> => {
    while (writeTo < backends.length) {
      const backend = backends[writeTo] as _Backend;
      try {
        await backend.write(b);
        await deleteEverywhere(b.id, backend);
        return;
      } catch (error) {
        if (writeTo === backends.length - 1) return; // memory cannot fail; nothing further to try
        writeTo += 1;
        try {
          opts.onFallback?.(backend.kind, (backends[writeTo] as _Backend).kind, error);
        } catch {
          // the caller's callback must not break the outbox
        }
      }
    }
  };

  const drop = (count: number, bytes: number): void => {
    if (count === 0) return;
    try {
      opts.onDrop(count, bytes);
    } catch {
      // the caller's callback must not break the outbox
    }
  };

  return {
    put: (batch) =>
      run(async () => {
        const kept = await readAll();
        const same = kept.find((b) => b.id === batch.id);
        if (batch.bytes > opts.maxBytes) {
          // It can never fit: keeping it would evict everything else and still overflow.
          if (same) await deleteEverywhere(batch.id);
          drop(1, batch.bytes);
          return;
        }
        const others = kept.filter((b) => b.id !== batch.id);
        let total = others.reduce((sum, b) => sum + b.bytes, batch.bytes);
        let count = 0;
        let dropped = 0;
        for (const oldest of others) {
          if (total <= opts.maxBytes) break;
          await deleteEverywhere(oldest.id);
          total -= oldest.bytes;
          count += 1;
          dropped += oldest.bytes;
        }
        const seq = same ? same.seq : kept.reduce((max, b) => Math.max(max, b.seq), 0) + 1;
        await write({
          id: batch.id,
          body: batch.body,
          createdAt: batch.createdAt,
          bytes: batch.bytes,
          seq,
        });
        drop(count, dropped);
      }),
    list: () =>
      run(async () =>
        (await readAll()).map(({ id, body, createdAt, bytes }) => ({ id, body, createdAt, bytes })),
      ),
    remove: (id) => run(() => deleteEverywhere(id)),
    size: () =>
      run(async () => {
        const kept = await readAll();
        return { batches: kept.length, bytes: kept.reduce((sum, b) => sum + b.bytes, 0) };
      }),
    keepNow: (batch) => {
      const sync = backends.find((backend) => backend.kind === 'localstorage');
      // Its write stores synchronously, before its first await; a later put replaces this copy. Seq 0:
      // createdAt orders it, and a put that finds it keeps its seq.
      sync?.write({ ...batch, seq: 0 }).catch(noop);
    },
    withLock: (fn) => withLock(opts.namespace, lockStorage, fn),
  };
}

/** Batches in memory only: never fails, gone at the next page load. */
export function _memoryBackend(namespace: string): _Backend {
  let store = memoryStores.get(namespace);
  if (!store) {
    store = new Map();
    memoryStores.set(namespace, store);
  }
  const batches = store;
  return {
    kind: 'memory',
    readAll: async () => [...batches.values()],
    write: async (b) => {
      batches.set(b.id, b);
    },
    delete: async (id) => {
      batches.delete(id);
    },
  };
}

/** One localStorage key per batch, so two tabs writing different batches never overwrite each other.
 *  Quota is small (about 5 MB of UTF-16 per origin): a full store throws, and the outbox moves on. */
export function _localStorageBackend(storage: Storage, namespace: string): _Backend {
  // Encoded so that namespace "a" never matches the keys of namespace "a:b".
  const prefix = `${KEY_PREFIX}${encodeURIComponent(namespace)}:`;
  return {
    kind: 'localstorage',
    readAll: async () => {
      const found: _StoredBatch[] = [];
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i);
        if (key === null || !key.startsWith(prefix)) continue;
        const batch = parseBatch(storage.getItem(key));
        if (batch) found.push(batch);
      }
      return found;
    },
    write: async (b) => {
      storage.setItem(prefix + b.id, JSON.stringify(b));
    },
    delete: async (id) => {
      storage.removeItem(prefix + id);
    },
  };
}

/** One database `spoor-outbox` with one store keyed by [namespace, id] and indexed by namespace, so a
 *  new namespace needs no schema upgrade (which would block on every other open tab). */
export function _indexedDbBackend(factory: IDBFactory, namespace: string): _Backend {
  let opened: Promise<IDBDatabase> | undefined;
  const db = (): Promise<IDBDatabase> => {
    // Reopened after the browser or another tab closed the connection.
    opened ??= openDatabase(factory, () => {
      opened = undefined;
    });
    return opened;
  };
  const transact = async <T>(
    mode: IDBTransactionMode,
    act: (store: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> => {
    const tx = (await db()).transaction(STORE, mode);
    const request = act(tx.objectStore(STORE));
    // Resolved on complete, not on the request's success: only then is the write durable.
    return new Promise<T>((resolve, reject) => {
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error ?? request.error);
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  };
  return {
    kind: 'indexeddb',
    readAll: async () => {
      const rows = await transact('readonly', (store) => store.index('ns').getAll(namespace));
      const found: _StoredBatch[] = [];
      for (const row of rows as unknown[]) {
        const batch = toBatch(row);
        if (batch) found.push(batch);
      }
      return found;
    },
    write: async (b) => {
      await transact('readwrite', (store) => store.put({ ns: namespace, ...b }));
    },
    delete: async (id) => {
      await transact('readwrite', (store) => store.delete([namespace, id]));
    },
  };
}

function openDatabase(factory: IDBFactory, onClose: () => void): Promise<IDBDatabase> {
  return new Promise<IDBDatabase>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('IndexedDB open timed out')), IDB_OPEN_TIMEOUT_MS);
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(DB_NAME, 1);
    } catch (error) {
      // Firefox throws SecurityError here in some private and sandboxed contexts.
      clearTimeout(timer);
      reject(error);
      return;
    }
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(STORE, { keyPath: ['ns', 'id'] });
      store.createIndex('ns', 'ns');
    };
    request.onsuccess = () => {
      clearTimeout(timer);
      const database = request.result;
      // A future version opened in another tab waits for us to close; let it.
      database.onversionchange = () => {
        database.close();
        onClose();
      };
      // Fired when the browser closes it (storage cleared, disk error).
      database.onclose = onClose;
      resolve(database);
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(request.error);
    };
  });
}

/** Runs fn under the named lock: Web Locks where present, else a localStorage lease, else a page lock. */
async function withLock<T>(
  namespace: string,
  storage: Storage | undefined,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  const name = KEY_PREFIX + namespace;
  const locks = globalLocks();
  if (locks) {
    let started = false;
    try {
      const result = await locks.request(name, { ifAvailable: true }, async (lock) => {
        if (!lock) return { held: false as const };
        started = true;
        return { held: true as const, value: await fn() };
      });
      return result.held ? result.value : undefined;
    } catch (error) {
      if (started) throw error;
      // Web Locks refused us (e.g. SecurityError in an opaque origin): use the lease below.
    }
  }
  if (storage) {
    const lease = await acquireLease(storage, LOCK_PREFIX + encodeURIComponent(namespace));
    if (lease === 'taken') return undefined;
    if (lease !== 'unavailable') {
      try {
        return await fn();
      } finally {
        lease.release();
      }
    }
  }
  if (pageLocks.has(name)) return undefined;
  pageLocks.add(name);
  try {
    return await fn();
  } finally {
    pageLocks.delete(name);
  }
}

interface Lease {
  owner: string;
  expires: number;
}

/** A localStorage mutex for pages without Web Locks (plain HTTP): a lease with an owner and an expiry,
 *  renewed while held, so a tab that dies mid-drain frees the lock after LEASE_MS. */
async function acquireLease(
  storage: Storage,
  key: string,
): Promise<{ release: () => void } | 'taken' | 'unavailable'> {
  const owner = randomId();
  const read = (): Lease | undefined => parseLease(storage.getItem(key));
  const claim = (): void => storage.setItem(key, JSON.stringify({ owner, expires: Date.now() + LEASE_MS }));
  try {
    const current = read();
    if (current && current.expires > Date.now()) return 'taken';
    claim();
  } catch {
    return 'unavailable';
  }
  await new Promise((resolve) => setTimeout(resolve, LEASE_RECHECK_MS));
  try {
    if (read()?.owner !== owner) return 'taken';
  } catch {
    return 'unavailable';
  }
  const renew = setInterval(() => {
    try {
      if (read()?.owner === owner) claim();
    } catch {
      // cannot renew; the lease lapses and another tab may take over, which costs duplicates only
    }
  }, LEASE_MS / 2);
  return {
    release: () => {
      clearInterval(renew);
      try {
        if (read()?.owner === owner) storage.removeItem(key);
      } catch {
        // the lease lapses by itself after LEASE_MS
      }
    },
  };
}

function parseLease(text: string | null): Lease | undefined {
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { owner, expires } = value as Record<string, unknown>;
    return typeof owner === 'string' && typeof expires === 'number' ? { owner, expires } : undefined;
  } catch {
    return undefined;
  }
}

function parseBatch(text: string | null): _StoredBatch | undefined {
  if (text === null) return undefined;
  try {
    return toBatch(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function toBatch(value: unknown): _StoredBatch | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, body, createdAt, bytes, seq } = value as Record<string, unknown>;
  if (typeof id !== 'string' || typeof body !== 'string') return undefined;
  if (typeof createdAt !== 'number' || typeof bytes !== 'number') return undefined;
  return { id, body, createdAt, bytes, seq: typeof seq === 'number' ? seq : 0 };
}

// Reading these globals can itself throw: localStorage is a SecurityError when the user blocks site data.
function globalIndexedDB(): IDBFactory | undefined {
  try {
    return typeof indexedDB === 'undefined' || !indexedDB ? undefined : indexedDB;
  } catch {
    return undefined;
  }
}

function globalLocalStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' || !localStorage ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

/** Missing outside secure contexts (plain-HTTP sites) and null in happy-dom. */
function globalLocks(): LockManager | undefined {
  try {
    const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
    return locks && typeof locks.request === 'function' ? locks : undefined;
  } catch {
    return undefined;
  }
}

function noop(): void {}
