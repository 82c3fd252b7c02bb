// Web storage that never throws. Private modes, blocked cookies and full quotas make
// localStorage/sessionStorage throw on access or on write; then the value lives in memory for this page.

export interface KeyValue {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/**
 * `which` is read lazily inside a try: merely reading `window.localStorage` throws in some browsers.
 * No probe write: a storage that refuses writes (a full quota, an old private mode) is found out by the
 * first real write, which then lives in memory; and every write to localStorage costs a message to the
 * browser and a `storage` event in each of the origin's other tabs.
 */
export function createStorage(which: () => Storage | undefined): KeyValue {
  // Values that the browser's storage refused, so that reads still see them.
  const memory = new Map<string, string>();
  let store: Storage | undefined;
  try {
    store = which();
  } catch {
    store = undefined;
  }
  return {
    get(key) {
      if (memory.has(key)) return memory.get(key) as string;
      try {
        return store ? store.getItem(key) : null;
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        if (!store) throw 0;
        store.setItem(key, value);
        memory.delete(key);
      } catch {
        memory.set(key, value);
      }
    },
    remove(key) {
      memory.delete(key);
      try {
        store?.removeItem(key);
      } catch {
        // Nothing to clean when the storage is unusable.
      }
    },
  };
}

/** Reads a JSON value, or undefined when it is missing or not JSON. */
export function readJson<T>(kv: KeyValue, key: string): T | undefined {
  const text = kv.get(key);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
