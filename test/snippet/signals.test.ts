// The frustration and failure detectors (src/observe/signals/): what triggers each, and what must not.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDeadClicks } from '../../src/observe/signals/dead';
import { isSpoorError, STACK_MAX, startErrors } from '../../src/observe/signals/errors';
import { startRageClicks } from '../../src/observe/signals/rage';
import { startFailedRequests } from '../../src/observe/signals/requests';
import { capped, cleanUrl, MAX_PER_TAG, selectorOf } from '../../src/observe/signals/shared';
import { startSignals } from '../../src/observe/signals/signals';
import type { Stop, WireEvent } from '../../src/types';

let events: WireEvent[];
let stops: Stop[];
const emit = () => capped((event) => events.push(event));
const tags = () => events.map((e) => (e.data as { tag: string }).tag);
const payloads = () => events.map((e) => (e.data as { payload: Record<string, unknown> }).payload);

function click(el: Element, x = 10, y = 10): void {
  el.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, clientX: x, clientY: y }));
}

beforeEach(() => {
  document.body.innerHTML = '';
  events = [];
  stops = [];
});

afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  vi.useRealTimers();
});

describe('rage_click', () => {
  let t = 0;
  const now = () => t;
  beforeEach(() => {
    t = 1_000_000;
    document.body.innerHTML = '<div class="qa"><button id="broken" class="btn">Pay</button></div>';
    stops.push(startRageClicks(document, emit(), now));
  });
  const button = () => document.getElementById('broken') as Element;

  it('reports three clicks within a second on the same spot, once, with the element selector', () => {
    for (let i = 0; i < 5; i++) {
      click(button(), 100 + i, 50);
      t += 150;
    }
    expect(tags()).toEqual(['rage_click']);
    expect(payloads()[0]).toEqual({ selector: 'button#broken', x: 102, y: 50, clicks: 3 });
  });

  it('does not report a double-click', () => {
    click(button());
    t += 120;
    click(button());
    expect(events).toEqual([]);
  });

  it('does not report three clicks spread over more than a second', () => {
    for (let i = 0; i < 3; i++) {
      click(button());
      t += 600;
    }
    expect(events).toEqual([]);
  });

  it('does not report three quick clicks on different spots', () => {
    click(button(), 10, 10);
    t += 100;
    click(button(), 200, 10);
    t += 100;
    click(button(), 400, 10);
    expect(events).toEqual([]);
  });

  it('reports a second burst after a pause', () => {
    for (let i = 0; i < 3; i++) {
      click(button());
      t += 100;
    }
    t += 2000;
    for (let i = 0; i < 3; i++) {
      click(button());
      t += 100;
    }
    expect(tags()).toEqual(['rage_click', 'rage_click']);
  });
});

describe('dead_click', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    stops.push(startDeadClicks(window, emit()));
  });

  it('reports a click on a button after which nothing changed within a second', async () => {
    document.body.innerHTML = '<button class="btn broken">Pay</button>';
    click(document.querySelector('button') as Element);
    await vi.advanceTimersByTimeAsync(1100);
    expect(tags()).toEqual(['dead_click']);
    expect(payloads()[0]).toEqual({ selector: 'button.btn.broken' });
  });

  it('reports a link to nowhere ("#") once however often it is clicked within the second', async () => {
    document.body.innerHTML = '<a id="dead" href="#"><span>Track order</span></a>';
    const span = document.querySelector('span') as Element;
    click(span);
    click(span);
    await vi.advanceTimersByTimeAsync(1100);
    expect(payloads()).toEqual([{ selector: 'a#dead' }]);
  });

  it('does not report a click that opens a menu (the DOM changes)', async () => {
    document.body.innerHTML = '<button aria-expanded="false">Menu</button><ul hidden></ul>';
    const button = document.querySelector('button') as HTMLButtonElement;
    button.addEventListener('click', () => {
      button.setAttribute('aria-expanded', 'true');
      (document.querySelector('ul') as HTMLElement).hidden = false;
    });
    click(button);
    await vi.advanceTimersByTimeAsync(1100);
    expect(events).toEqual([]);
  });

  it('does not report a change that comes late but within the second (a slow answer)', async () => {
    document.body.innerHTML = '<button>Load more</button><ol></ol>';
    const button = document.querySelector('button') as HTMLButtonElement;
    button.addEventListener('click', () => {
      setTimeout(() => document.querySelector('ol')?.append(document.createElement('li')), 700);
    });
    click(button);
    await vi.advanceTimersByTimeAsync(1100);
    expect(events).toEqual([]);
  });

  it('does not report a link that leaves the page, nor a click on plain text', async () => {
    document.body.innerHTML = '<a href="/elsewhere">Next</a><p>Just text</p>';
    click(document.querySelector('a') as Element);
    click(document.querySelector('p') as Element);
    await vi.advanceTimersByTimeAsync(1100);
    expect(events).toEqual([]);
  });

  it('does not report a click on a checkbox whose value changed', async () => {
    document.body.innerHTML = '<label><input type="checkbox" onclick=""> Agree</label>';
    const box = document.querySelector('input') as HTMLInputElement;
    click(box);
    box.dispatchEvent(new Event('change', { bubbles: true }));
    await vi.advanceTimersByTimeAsync(1100);
    expect(events).toEqual([]);
  });
});

describe('error', () => {
  beforeEach(() => {
    stops.push(startErrors(window, emit(), false));
  });

  function fire(error: Error, filename = 'https://shop.test/app.js?v=3', line = 12, column = 5): void {
    window.dispatchEvent(
      new ErrorEvent('error', {
        message: `Uncaught ${error.name}: ${error.message}`,
        error,
        filename,
        lineno: line,
        colno: column,
      }),
    );
  }

  it('reports an uncaught error with its source (no query string), line, column and stack', () => {
    const error = new TypeError('x is undefined');
    error.stack = 'TypeError: x is undefined\n    at pay (https://shop.test/app.js?v=3:12:5)';
    fire(error);
    expect(tags()).toEqual(['error']);
    expect(payloads()[0]).toEqual({
      kind: 'error',
      message: 'Uncaught TypeError: x is undefined',
      source: 'https://shop.test/app.js',
      line: 12,
      column: 5,
      stack: 'TypeError: x is undefined\n    at pay (https://shop.test/app.js:12:5)',
    });
  });

  it('reports the same error once per visit, and again on another page', () => {
    fire(new Error('boom'));
    fire(new Error('boom'));
    fire(new Error('boom'), 'https://shop.test/app.js', 13, 1);
    expect(events).toHaveLength(2);
    history.pushState({}, '', '/other-page');
    fire(new Error('boom'));
    expect(events).toHaveLength(3);
    history.pushState({}, '', '/');
  });

  it('trims the stack to a few KB', () => {
    const error = new Error('deep');
    error.stack = `Error: deep\n${'    at f (https://shop.test/app.js:1:1)\n'.repeat(1000)}`;
    fire(error);
    expect(String(payloads()[0]?.stack).length).toBe(STACK_MAX);
  });

  it('reports an unhandled rejection, naming a non-Error reason by its kind only', () => {
    const reject = (reason: unknown) => {
      const event = new Event('unhandledrejection') as Event & { reason?: unknown };
      event.reason = reason;
      window.dispatchEvent(event);
    };
    reject(new RangeError('too far'));
    reject({ password: 'hunter2' });
    expect(payloads().map((p) => p.message)).toEqual([
      'RangeError: too far',
      'Unhandled rejection: [object Object]',
    ]);
    expect(payloads()[0]?.kind).toBe('rejection');
  });

  it('does not report an error thrown by Spoor itself, nor a cross-origin "Script error."', () => {
    fire(new Error('spoor: could not load spoor.recorder.min.js'), 'https://shop.test/app.js');
    fire(new Error('bad'), 'https://cdn.test/spoor.core.min.js');
    window.dispatchEvent(
      new ErrorEvent('error', { message: 'Script error.', filename: '', lineno: 0, colno: 0 }),
    );
    expect(events).toEqual([]);
    expect(isSpoorError('x', '', 'Error: x\n    at a (https://cdn.test/spoor.recorder.min.js:1:2)')).toBe(
      true,
    );
  });
});

describe('request_failed', () => {
  let answer: () => Promise<Response>;
  let original: typeof fetch;
  let t = 0;
  beforeEach(() => {
    original = window.fetch;
    t = 5000;
    answer = () => Promise.resolve(new Response('', { status: 200 }));
    window.fetch = vi.fn((() => {
      t += 42;
      return answer();
    }) as typeof fetch);
  });
  afterEach(() => {
    window.fetch = original;
  });
  const start = (keepQuery = false) =>
    stops.push(
      startFailedRequests(
        window,
        emit(),
        { keepQuery, own: ['https://collector.test/api', 'https://api.flameup.ai/api/v1/track'] },
        () => t,
      ),
    );
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('reports a 5xx answer: method, URL without query string, status, duration; never a body or header', async () => {
    start();
    answer = () => Promise.resolve(new Response('secret body', { status: 503, headers: { 'X-Token': 't' } }));
    const response = await window.fetch('https://shop.test/api/stock?user=ann#x', {
      method: 'post',
      body: 'card=4111',
      headers: { Authorization: 'Bearer abc' },
    });
    expect(response.status).toBe(503);
    await settle();
    expect(payloads()).toEqual([
      { method: 'POST', url: 'https://shop.test/api/stock', status: 503, duration: 42 },
    ]);
    expect(JSON.stringify(events)).not.toMatch(/secret|4111|abc|X-Token|ann/);
  });

  it('keeps the query string with requestQueries', async () => {
    start(true);
    answer = () => Promise.resolve(new Response('', { status: 500 }));
    await window.fetch('/api/stock?sku=7');
    await settle();
    expect(payloads()[0]?.url).toBe(`${location.origin}/api/stock?sku=7`);
  });

  it('reports a network error as status 0 and still rejects the page`s call', async () => {
    start();
    answer = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(window.fetch('https://down.test/x')).rejects.toThrow('Failed to fetch');
    await settle();
    expect(payloads()[0]).toMatchObject({ method: 'GET', url: 'https://down.test/x', status: 0 });
  });

  it('does not report a 404, a 200, an aborted request, or the snippet`s own requests (collector, Flameup)', async () => {
    start();
    answer = () => Promise.resolve(new Response('', { status: 404 }));
    await window.fetch('https://shop.test/missing');
    answer = () => Promise.resolve(new Response('', { status: 200 }));
    await window.fetch('https://shop.test/ok');
    answer = () => Promise.reject(new DOMException('aborted', 'AbortError'));
    await window.fetch('https://shop.test/slow').catch(() => undefined);
    answer = () => Promise.resolve(new Response('', { status: 503 }));
    await window.fetch('https://collector.test/api/services/analytics/v1/track');
    await window.fetch('https://api.flameup.ai/api/v1/track');
    await settle();
    expect(events).toEqual([]);
  });

  it('puts fetch back when stopped', () => {
    const before = window.fetch;
    start();
    expect(window.fetch).not.toBe(before);
    stops.pop()?.();
    expect(window.fetch).toBe(before);
  });

  it('reports an XMLHttpRequest answered 500, not one answered 404', () => {
    // No network in unit tests: the browser's own send is replaced, and its answer is the event it fires.
    const proto = XMLHttpRequest.prototype;
    const realSend = proto.send;
    proto.send = vi.fn();
    try {
      start();
      const send = (status: number) => {
        const xhr = new XMLHttpRequest();
        xhr.open('GET', `https://shop.test/xhr/${status}?q=1`);
        Object.defineProperty(xhr, 'status', { value: status });
        xhr.send();
        xhr.dispatchEvent(new Event('loadend'));
      };
      send(500);
      send(404);
      expect(payloads()).toEqual([
        expect.objectContaining({ method: 'GET', url: 'https://shop.test/xhr/500', status: 500 }),
      ]);
      stops.pop()?.();
    } finally {
      proto.send = realSend;
    }
  });
});

describe('shared', () => {
  it('names an element by tags, ids and classes, never by text', () => {
    document.body.innerHTML =
      '<main><ul class="menu top"><li><a class="x y z w">Ann Smith</a></li></ul></main>';
    expect(selectorOf(document.querySelector('a'))).toBe('main > ul.menu.top > li > a.x.y.z');
  });

  it('cleans URLs', () => {
    expect(cleanUrl('/a?b=1#c', 'https://s.test/x', false)).toBe('https://s.test/a');
    expect(cleanUrl('/a?b=1#c', 'https://s.test/x', true)).toBe('https://s.test/a?b=1');
  });

  it('caps each tag per page', () => {
    const send = capped((event) => events.push(event));
    for (let i = 0; i < MAX_PER_TAG + 5; i++) send('dead_click', { selector: 'a' });
    send('rage_click', { selector: 'b', x: 0, y: 0, clicks: 3 });
    expect(events).toHaveLength(MAX_PER_TAG + 1);
  });

  it('starts only the detectors switched on', () => {
    const before = window.fetch;
    const stop = startSignals(window, (e) => events.push(e), vi.fn(), {
      rageClicks: true,
      deadClicks: false,
      errors: false,
      failedRequests: false,
      requestQueries: false,
      endpoint: '',
    });
    expect(window.fetch).toBe(before);
    window.dispatchEvent(new ErrorEvent('error', { message: 'boom', filename: 'https://s.test/a.js' }));
    expect(events).toEqual([]);
    stop();
  });
});
