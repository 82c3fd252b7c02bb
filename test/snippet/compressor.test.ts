// The compressor's choice of thread: a worker when one can be had, the main thread when it cannot or
// when the worker fails, with no body lost on the way. happy-dom runs no workers: a fake Worker stands in,
// answering with the main-thread gzip or failing as the test says.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gzipHere, startCompressor, WORKER_TIMEOUT_MS } from '../../src/deliver/compressor';
import { bodyText } from './fake-network';

type Behaviour = 'answer' | 'error' | 'silent' | 'throw';

/** A Worker class whose instances answer like the real worker, fail, or never answer. */
function fakeWorker(behaviour: Behaviour) {
  const made: string[] = [];
  class FakeWorker {
    onmessage: ((event: MessageEvent) => void) | null = null;
    onerror: (() => void) | null = null;
    onmessageerror: (() => void) | null = null;
    terminated = false;
    constructor(url: string) {
      if (behaviour === 'throw') throw new DOMException('refused by the CSP', 'SecurityError');
      made.push(url);
    }
    postMessage({ id, text }: { id: number; text: string }) {
      if (behaviour === 'error') setTimeout(() => this.onerror?.(), 0);
      if (behaviour !== 'answer') return;
      void gzipHere(text).then((zipped) =>
        this.onmessage?.(new MessageEvent('message', { data: { id, ...zipped } })),
      );
    }
    terminate() {
      this.terminated = true;
    }
  }
  return { FakeWorker, made };
}

const cdn = 'https://cdn.example/spoor.worker.min.js';
const text = JSON.stringify({ events: Array.from({ length: 300 }, (_, i) => ({ i, t: 'é😀' })) });

describe('compressor', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('compresses in a same-origin worker file when the snippet is served from the page origin', async () => {
    const { FakeWorker, made } = fakeWorker('answer');
    vi.stubGlobal('Worker', FakeWorker);
    const modes: string[] = [];
    const file = `${location.origin}/js/spoor.worker.min.js`;
    const compressor = startCompressor(file, true, (mode) => modes.push(mode));
    const zipped = await compressor.gzip(text);
    expect(made).toEqual([file]);
    expect(modes).toEqual(['worker']);
    expect(await bodyText(zipped?.bytes as BodyInit)).toEqual({ text, gzipped: true });
    expect(zipped?.rawBytes).toBe(new TextEncoder().encode(text).length);
  });

  it('makes a blob: worker when the snippet comes from another origin', () => {
    const { FakeWorker, made } = fakeWorker('answer');
    vi.stubGlobal('Worker', FakeWorker);
    startCompressor(cdn);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^blob:/);
  });

  it('compresses on the main thread when the page refuses the worker (a CSP without blob:)', async () => {
    const { FakeWorker } = fakeWorker('throw');
    vi.stubGlobal('Worker', FakeWorker);
    const modes: string[] = [];
    const compressor = startCompressor(cdn, true, (mode) => modes.push(mode));
    expect(modes).toEqual(['main']);
    expect(await bodyText((await compressor.gzip(text))?.bytes as BodyInit)).toEqual({ text, gzipped: true });
  });

  it('gives up a worker that fails and compresses the body it held on the main thread', async () => {
    const { FakeWorker } = fakeWorker('error');
    vi.stubGlobal('Worker', FakeWorker);
    const modes: string[] = [];
    const compressor = startCompressor(cdn, true, (mode) => modes.push(mode));
    const zipped = await compressor.gzip(text);
    expect(modes).toEqual(['worker', 'main']);
    expect(await bodyText(zipped?.bytes as BodyInit)).toEqual({ text, gzipped: true });
  });

  it(`gives up a worker that does not answer within ${WORKER_TIMEOUT_MS / 1000} s`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { FakeWorker } = fakeWorker('silent');
    vi.stubGlobal('Worker', FakeWorker);
    const compressor = startCompressor(cdn);
    const pending = compressor.gzip(text);
    await vi.advanceTimersByTimeAsync(WORKER_TIMEOUT_MS);
    vi.useRealTimers();
    expect(await bodyText((await pending)?.bytes as BodyInit)).toEqual({ text, gzipped: true });
  });

  it('never tries a worker without a worker file (the npm build), nor with worker: false', async () => {
    const { FakeWorker, made } = fakeWorker('answer');
    vi.stubGlobal('Worker', FakeWorker);
    const modes: string[] = [];
    await startCompressor(undefined, true, (mode) => modes.push(mode)).gzip(text);
    expect(made).toHaveLength(0);
    expect(modes).toEqual(['main']);
  });

  it('never tries a worker with worker: false', async () => {
    const { FakeWorker, made } = fakeWorker('answer');
    vi.stubGlobal('Worker', FakeWorker);
    const compressor = startCompressor(`${location.origin}/spoor.worker.min.js`, false);
    await compressor.gzip(text);
    expect(made).toHaveLength(0);
  });
});
