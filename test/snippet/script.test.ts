import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DebugEvent } from '../../src/lib/debug';
import { createTracker } from '../../src/tracker';
import { fakeFetch } from './fake-network';
import { names } from './fake-page';

type Spoor = ((...args: unknown[]) => unknown) & { q?: unknown[][] };
const slots = window as unknown as Record<string, unknown> & { spoor?: Spoor };

/** Installs the script tag as a site owner writes it, with the stub's queue, then runs spoor.min.js. */
async function install(data: Record<string, string>, queued: unknown[][] = [], nonce = '') {
  const script = document.createElement('script');
  // Not a JavaScript type only so that happy-dom does not try to fetch it; the snippet finds its
  // element by src either way.
  script.type = 'text/plain';
  script.setAttribute('src', 'https://cdn.example/spoor/spoor.min.js');
  if (nonce) script.setAttribute('nonce', nonce);
  for (const [key, value] of Object.entries(data)) script.dataset[key] = value;
  document.head.appendChild(script);
  slots.spoor = Object.assign(() => {}, { q: queued });
  vi.resetModules();
  await import('../../src/entry/script');
  return slots.spoor as Spoor;
}

describe('script tag', () => {
  // Script elements the snippet asked the browser to load (kept out of the document: happy-dom
  // does not load scripts, and a test decides when a file "arrives").
  let loads: HTMLScriptElement[];
  let net: ReturnType<typeof fakeFetch>;

  beforeEach(() => {
    loads = [];
    const append = HTMLElement.prototype.appendChild;
    vi.spyOn(HTMLHeadElement.prototype, 'appendChild').mockImplementation(function (this: HTMLElement, node) {
      if (node instanceof HTMLScriptElement && /spoor\.(core|recorder|vitals)\.min\.js$/.test(node.src)) {
        loads.push(node);
        return node;
      }
      return append.call(this, node) as typeof node;
    });
    net = fakeFetch((url) =>
      url.endsWith('/session')
        ? { status: 200, body: '{"status":true,"sessionIdentifier":"sid-script","tab":1}' }
        : { status: 200 },
    );
    vi.stubGlobal('fetch', net.fetch);
  });
  afterEach(() => {
    (slots.spoor as Spoor | undefined)?.('stop');
    for (const name of ['spoor', 'spoorCore', 'spoorRecorder', 'spoorVitals']) delete slots[name];
    for (const script of document.querySelectorAll('script')) script.remove();
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
    localStorage.clear();
    sessionStorage.clear();
  });

  /** The core file "arrives": it registers itself and its script element fires load. */
  const arrive = (element: HTMLScriptElement | undefined) => {
    slots.spoorCore = createTracker;
    element?.onload?.(new Event('load'));
  };

  it('reads data-* attributes, replays the stub queue in order and answers spoor("debug", listener)', async () => {
    const spoor = await install(
      { endpoint: 'https://c.example/api', project: 'pk', consent: 'pending', allowAutomation: 'true' },
      [['track', 'queued before load', { a: 1 }]],
    );
    const seen: DebugEvent[] = [];
    expect(() => spoor('debug', (event: DebugEvent) => seen.push(event))).not.toThrow();
    expect(seen[0]).toMatchObject({ kind: 'state', tracking: false, reason: 'consent-pending' });
    // The queued track call was replayed, and dropped because consent is pending.
    expect(seen).toContainEqual(
      expect.objectContaining({ kind: 'drop', reason: 'consent-pending', count: 1 }),
    );
    expect(() => spoor('no-such-command')).not.toThrow();
    expect(() => spoor('toString')).not.toThrow();
  });

  it('does not load the core while consent is pending, then loads spoor.core.min.js from its own directory with its nonce', async () => {
    const spoor = await install(
      { endpoint: 'https://c.example/api', project: 'pk', consent: 'pending', allowAutomation: 'true' },
      [],
      'n0nce',
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(loads).toHaveLength(0);
    expect(net.requests).toHaveLength(0);

    spoor('consent', true);
    expect(loads.map((element) => element.src)).toEqual(['https://cdn.example/spoor/spoor.core.min.js']);
    expect(loads[0]?.nonce).toBe('n0nce');
  });

  it('replays the calls made before the core arrived, in order, once it has', async () => {
    const spoor = await install(
      { endpoint: 'https://c.example/api', project: 'pk', allowAutomation: 'true' },
      [['track', 'from the stub']],
    );
    spoor('track', 'before the core');
    spoor('identify', 'visitor-9');
    const seen: DebugEvent[] = [];
    spoor('debug', (event: DebugEvent) => seen.push(event));
    expect(net.requests).toHaveLength(0);

    arrive(loads[0]);
    await spoor('flush');
    expect(net.tracks().flatMap(names)).toEqual(['visit', 'from the stub', 'before the core', 'identify']);
    expect(seen.map((event) => event.kind)).toEqual(expect.arrayContaining(['state', 'session', 'batch']));
    // Then the core asks for the recorder and vitals files, from the same directory.
    expect(loads.map((element) => element.src.replace(/.*\//, ''))).toEqual([
      'spoor.core.min.js',
      'spoor.recorder.min.js',
      'spoor.vitals.min.js',
    ]);
  });

  it('never asks for the recorder file under Global Privacy Control, while analytics are sent', async () => {
    Object.defineProperty(navigator, 'globalPrivacyControl', { configurable: true, value: true });
    try {
      const spoor = await install({
        endpoint: 'https://c.example/api',
        project: 'pk',
        allowAutomation: 'true',
      });
      spoor('track', 'analytics only');
      arrive(loads[0]);
      await spoor('flush');
      expect(net.tracks().flatMap(names)).toEqual(['visit', 'analytics only']);
      expect(loads.map((element) => element.src.replace(/.*\//, ''))).toEqual([
        'spoor.core.min.js',
        'spoor.vitals.min.js',
      ]);
    } finally {
      delete (navigator as unknown as Record<string, unknown>).globalPrivacyControl;
    }
  });

  it('loads no file at all in an automated browser or under a respected Do Not Track', async () => {
    // happy-dom reports navigator.webdriver = true.
    const spoor = await install({ endpoint: 'https://c.example/api', project: 'pk' });
    spoor('track', 'ignored');
    await spoor('flush');
    expect(loads).toHaveLength(0);
    spoor('stop');
    delete slots.spoor;

    Object.defineProperty(navigator, 'doNotTrack', { configurable: true, value: '1' });
    try {
      const again = await install({
        endpoint: 'https://c.example/api',
        project: 'pk',
        allowAutomation: 'true',
        respectDoNotTrack: 'true',
      });
      again('track', 'ignored');
      await again('flush');
      expect(loads).toHaveLength(0);
      expect(net.requests).toHaveLength(0);
    } finally {
      delete (navigator as unknown as Record<string, unknown>).doNotTrack;
    }
  });
});
