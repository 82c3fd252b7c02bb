import { afterEach, describe, expect, it, vi } from 'vitest';
import { gzipHere } from '../../src/deliver/compressor';

const gzip = async (text: string) => (await gzipHere(text))?.bytes ?? null;

import { bodyText } from './fake-network';

interface NodeEvents {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): void;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): void;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('gzip', () => {
  it('gives gzip bytes that decompress to the same text, non-ASCII included', async () => {
    const text = JSON.stringify({
      events: Array.from({ length: 200 }, (_, i) => ({ i, t: `naïve 東京 😀 ${i}` })),
    });
    const zipped = await gzip(text);
    expect(zipped).toBeInstanceOf(Uint8Array);
    expect([zipped?.[0], zipped?.[1]]).toEqual([0x1f, 0x8b]);
    expect((zipped?.length ?? 0) * 4).toBeLessThan(new TextEncoder().encode(text).length);
    expect(await bodyText(zipped as BodyInit)).toEqual({ text, gzipped: true });
  });

  it('answers null when the browser has no CompressionStream', async () => {
    vi.stubGlobal('CompressionStream', undefined);
    expect(await gzip('x'.repeat(5000))).toBeNull();
  });

  it('answers null, without an unhandled rejection, when the compressor fails', async () => {
    class Failing {
      readonly writable = new WritableStream({
        write() {
          throw new Error('compressor broke');
        },
      });
      readonly readable = new ReadableStream({
        start(controller) {
          controller.error(new Error('compressor broke'));
        },
      });
    }
    vi.stubGlobal('CompressionStream', Failing);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    // Node's process (vitest runs happy-dom in Node); not in the browser type program.
    const node = (globalThis as unknown as { process: NodeEvents }).process;
    node.on('unhandledRejection', onUnhandled);
    try {
      expect(await gzip('x'.repeat(5000))).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      node.off('unhandledRejection', onUnhandled);
    }
  });
});
