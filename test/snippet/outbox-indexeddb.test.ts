// The outbox on IndexedDB, the storage it prefers. happy-dom has no IndexedDB: fake-indexeddb stands in,
// a full implementation of the API that completes each transaction in a later task, as browsers do. A
// fresh factory per test is a fresh browser profile.
import { forceCloseDatabase, IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { _indexedDbBackend, _localStorageBackend, createOutbox } from '../../src/deliver/outbox';
import { OUTBOX_DB, OUTBOX_KEY_PREFIX } from '../../src/state/keys';
import { batch, freshNamespace } from './outbox-fixtures';

/** How long the outbox waits for indexedDB.open before it gives up on it (outbox.ts, for Safari). */
const OPEN_TIMEOUT_MS = 3_000;

/** The outbox as the tracker makes it, on whatever `indexedDB` the page has now. */
const outbox = (namespace: string, maxBytes = 1_000) =>
  createOutbox({ namespace, maxBytes, onDrop: () => {} });

const ids = (batches: { id: string }[]) => batches.map((b) => b.id);

/** Outbox batches kept in localStorage, any namespace. */
const inLocalStorage = () =>
  Object.keys(localStorage).filter((key) => key.startsWith(OUTBOX_KEY_PREFIX)).length;

/** A factory over `real` that hands out each opened connection, so a test can break or close it. */
function watched(real: IDBFactory) {
  const connections: IDBDatabase[] = [];
  const factory = {
    open(name: string, version?: number) {
      const request = real.open(name, version);
      request.addEventListener('success', () => connections.push(request.result));
      return request;
    },
    deleteDatabase: (name: string) => real.deleteDatabase(name),
    databases: () => real.databases(),
    cmp: (a: unknown, b: unknown) => real.cmp(a, b),
  } as IDBFactory;
  return { factory, connections };
}

let idb: IDBFactory;

/** An outbox over a watched factory, holding one batch in IndexedDB over its one connection. */
async function outboxHolding(id: string) {
  const { factory, connections } = watched(idb);
  vi.stubGlobal('indexedDB', factory);
  const namespace = freshNamespace();
  const box = outbox(namespace);
  await box.put(batch(id, 1));
  expect(connections).toHaveLength(1);
  return { box, namespace, connections };
}

/** Opens the outbox's database at `version` as another tab would, and closes it; its version once open.
 *  Rejects when the outbox's own connection blocks it. */
function openOutboxDatabase(version: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = idb.open(OUTBOX_DB, version);
    request.onsuccess = () => {
      request.result.close();
      resolve(request.result.version);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('blocked by the outbox connection'));
  });
}

beforeEach(() => {
  localStorage.clear();
  idb = new IDBFactory();
  vi.stubGlobal('indexedDB', idb);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('the outbox on IndexedDB', () => {
  it('keeps batches in IndexedDB, not localStorage, and lists, replaces, removes and sizes them', async () => {
    const namespace = freshNamespace();
    const box = outbox(namespace);
    await box.put(batch('b', 2, 20));
    await box.put(batch('a', 1, 10));
    await box.put(batch('c', 3, 30, '{"id":"c","v":1}'));
    await box.put(batch('c', 3, 35, '{"id":"c","v":2}'));
    expect(await box.list()).toEqual([
      batch('a', 1, 10),
      batch('b', 2, 20),
      batch('c', 3, 35, '{"id":"c","v":2}'),
    ]);
    expect(await box.size()).toEqual({ batches: 3, bytes: 65 });

    await box.remove('b');
    expect(ids(await box.list())).toEqual(['a', 'c']);
    expect(await box.size()).toEqual({ batches: 2, bytes: 45 });
    expect(ids(await _indexedDbBackend(idb, namespace).readAll()).sort()).toEqual(['a', 'c']);
    expect(inLocalStorage()).toBe(0);
  });

  it('gives back the exact body text, byte for byte, so that a resent batch is recognised as a repeat', async () => {
    const body = '{"sessionIdentifier":"s","events":[{"t":"\\u00e9\u{1F600}","n":1.0}]}';
    const box = outbox(freshNamespace());
    await box.put(batch('exact', 1, body.length, body));
    expect((await box.list())[0]?.body).toBe(body);
  });

  it('keeps namespaces apart in its one database, even when one name is a prefix of another', async () => {
    const short = outbox('shop');
    const long = outbox('shop:checkout');
    await short.put(batch('s1', 1));
    await long.put(batch('l1', 2));
    await long.put(batch('l2', 3));
    expect(ids(await short.list())).toEqual(['s1']);
    expect(ids(await long.list())).toEqual(['l1', 'l2']);
    await short.remove('l1');
    expect(ids(await long.list())).toEqual(['l1', 'l2']);
    expect((await idb.databases()).map((d) => d.name)).toEqual([OUTBOX_DB]);
  });

  it('finds what an earlier page load kept, over a new connection to the same database', async () => {
    const namespace = freshNamespace();
    await outbox(namespace).put(batch('left', 1));
    const next = outbox(namespace);
    expect(ids(await next.list())).toEqual(['left']);
    await next.remove('left');
    expect(await outbox(namespace).size()).toEqual({ batches: 0, bytes: 0 });
  });

  it('opens the database again after the browser closes the connection (site data cleared)', async () => {
    const { box, namespace, connections } = await outboxHolding('a');
    // fake-indexeddb types its argument as the class; it takes a connection, as its README shows.
    forceCloseDatabase(connections[0] as unknown as Parameters<typeof forceCloseDatabase>[0]);
    await box.put(batch('b', 2));
    expect(connections).toHaveLength(2);
    expect(ids(await _indexedDbBackend(idb, namespace).readAll()).sort()).toEqual(['a', 'b']);
    expect(inLocalStorage()).toBe(0);
  });

  it('lets a newer version opened in another tab upgrade the database instead of blocking it', async () => {
    const box = outbox(freshNamespace());
    await box.put(batch('a', 1));
    // Another tab runs a newer snippet whose database is version 2: it waits until ours closes.
    expect(await openOutboxDatabase(2)).toBe(2);
  });
});

describe('the outbox when IndexedDB fails', () => {
  it('moves on to localStorage when IndexedDB refuses a write, and still lists what IndexedDB holds', async () => {
    const { box, namespace, connections } = await outboxHolding('a');
    // The disk is full: every read-write transaction is refused from now on.
    const connection = connections[0] as IDBDatabase;
    const transaction = connection.transaction.bind(connection);
    connection.transaction = ((stores: string | string[], mode?: IDBTransactionMode) => {
      if (mode === 'readwrite') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return transaction(stores, mode);
    }) as IDBDatabase['transaction'];

    await box.put(batch('b', 2));
    await box.put(batch('c', 3));
    expect(ids(await box.list())).toEqual(['a', 'b', 'c']);
    expect(ids(await _indexedDbBackend(idb, namespace).readAll())).toEqual(['a']);
    expect(ids(await _localStorageBackend(localStorage, namespace).readAll()).sort()).toEqual(['b', 'c']);
  });

  it('keeps batches in localStorage when the database cannot be opened (a newer version exists)', async () => {
    await openOutboxDatabase(5);
    const namespace = freshNamespace();
    const box = outbox(namespace);
    await box.put(batch('a', 1));
    await box.put(batch('b', 2));
    expect(ids(await box.list())).toEqual(['a', 'b']);
    expect(ids(await _localStorageBackend(localStorage, namespace).readAll()).sort()).toEqual(['a', 'b']);
  });

  it('says once, with the error, that it moved on from IndexedDB, so a broken IndexedDB shows in the debug log', async () => {
    await openOutboxDatabase(5);
    const namespace = freshNamespace();
    const fallbacks: [string, string, unknown][] = [];
    const box = createOutbox({
      namespace,
      maxBytes: 1_000,
      onDrop: () => {},
      onFallback: (from, to, error) => fallbacks.push([from, to, error]),
    });
    await box.put(batch('a', 1));
    await box.put(batch('b', 2));
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]?.slice(0, 2)).toEqual(['indexeddb', 'localstorage']);
    expect(fallbacks[0]?.[2]).toBeTruthy();
  });

  it(`stops waiting for an indexedDB.open that never answers (Safari) after ${OPEN_TIMEOUT_MS} ms and keeps the batch in localStorage`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const opened: string[] = [];
    vi.stubGlobal('indexedDB', {
      // A request whose success, error and blocked events never fire.
      open: (name: string) => {
        opened.push(name);
        return {} as IDBOpenDBRequest;
      },
    });
    const namespace = freshNamespace();
    const box = outbox(namespace);
    let settled = false;
    const put = box.put(batch('a', 1)).then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(OPEN_TIMEOUT_MS - 1);
    expect(opened).toEqual([OUTBOX_DB]);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await put;
    expect(ids(await _localStorageBackend(localStorage, namespace).readAll())).toEqual(['a']);
    // Later calls do not wait again: the outbox answers at once.
    let listed: string[] | undefined;
    void box.list().then((batches) => {
      listed = ids(batches);
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(listed).toEqual(['a']);
  });
});
