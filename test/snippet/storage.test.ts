import { describe, expect, it } from 'vitest';
import { createStorage } from '../../src/state/storage';
import { memoryStorage } from './fake-page';

/** A storage that records every call made to it, and refuses writes when told to. */
function recording(refuseWrites = false) {
  const backing = memoryStorage();
  const calls: string[] = [];
  const storage = {
    getItem: (key: string) => {
      calls.push(`get ${key}`);
      return backing.getItem(key);
    },
    setItem: (key: string, value: string) => {
      calls.push(`set ${key}`);
      if (refuseWrites) throw new DOMException('quota', 'QuotaExceededError');
      backing.setItem(key, value);
    },
    removeItem: (key: string) => {
      calls.push(`remove ${key}`);
      backing.removeItem(key);
    },
  } as unknown as Storage;
  return { storage, calls, backing };
}

describe('createStorage', () => {
  it('touches the storage only for what it is asked: no probe write, which other tabs would see', () => {
    const { storage, calls } = recording();
    const kv = createStorage(() => storage);
    expect(calls).toEqual([]);
    kv.set('a', '1');
    expect(kv.get('a')).toBe('1');
    kv.remove('a');
    expect(calls).toEqual(['set a', 'get a', 'remove a']);
  });

  it('keeps in memory what a storage refuses, and reads it back until it is removed', () => {
    const { storage, backing } = recording(true);
    const kv = createStorage(() => storage);
    kv.set('a', '1');
    expect(backing.getItem('a')).toBeNull();
    expect(kv.get('a')).toBe('1');
    kv.remove('a');
    expect(kv.get('a')).toBeNull();
  });

  it('works from memory alone when the storage cannot even be reached', () => {
    const kv = createStorage(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    expect(kv.get('a')).toBeNull();
    kv.set('a', '1');
    expect(kv.get('a')).toBe('1');
  });
});
