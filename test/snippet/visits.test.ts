import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { type Landing, startVisits, type VisitPayload } from '../../src/observe/visits';
import type { Stop } from '../../src/types';

// The untouched methods, to put the URL back between tests without going through a wrapper.
const nativePush = history.pushState;
const nativeReplace = history.replaceState;

let stop: Stop | undefined;
let visits: VisitPayload[];
let report: Mock<(error: unknown) => void>;

function start(hashRoutes = false, onVisit?: (visit: VisitPayload) => void, landing?: Landing): void {
  stop = startVisits({ hashRoutes, onVisit: onVisit ?? ((visit) => visits.push(visit)), report, landing });
}

/** Lets the microtask that reports in-page visits run. */
const settle = () => Promise.resolve();

function pageShow(persisted: boolean): void {
  // happy-dom's PageTransitionEvent ignores its init dictionary.
  const event = new Event('pageshow');
  Object.defineProperty(event, 'persisted', { value: persisted });
  dispatchEvent(event);
}

beforeEach(() => {
  nativeReplace.call(history, null, '', '/start?tab=1');
  document.title = 'Start';
  visits = [];
  report = vi.fn<(error: unknown) => void>();
});

afterEach(() => {
  stop?.();
  stop = undefined;
  Reflect.deleteProperty(document, 'prerendering');
});

describe('startVisits', () => {
  it('reports a load visit at start with the document referrer and title', () => {
    start();
    expect(visits).toEqual([
      {
        url: `${location.origin}/start?tab=1`,
        referrer: document.referrer,
        title: 'Start',
        navigation: 'load',
      },
    ]);
  });

  it('reports the landing as the load visit, then a push visit to where the app went while the core loaded', async () => {
    const landing = {
      url: `${location.origin}/#token=secret`,
      referrer: 'https://search.example/',
      title: 'Home',
    };
    start(false, undefined, landing);
    await settle();
    expect(visits).toEqual([
      { url: `${location.origin}/`, referrer: 'https://search.example/', title: 'Home', navigation: 'load' },
      {
        url: `${location.origin}/start?tab=1`,
        referrer: `${location.origin}/`,
        title: 'Start',
        navigation: 'push',
      },
    ]);
  });

  it('makes one load visit when the page is still at its landing URL', async () => {
    start(false, undefined, { url: `${location.href}#top`, referrer: '', title: 'Start' });
    await settle();
    expect(visits.map((v) => [v.navigation, v.url])).toEqual([['load', `${location.origin}/start?tab=1`]]);
  });

  it('makes no visit when a router calls replaceState with the same URL', async () => {
    start();
    history.replaceState({ scroll: 10 }, '', location.href);
    history.replaceState({ scroll: 20 }, '');
    await settle();
    expect(visits.map((v) => v.navigation)).toEqual(['load']);
  });

  it('makes a push visit when pushState goes to a new path, with the previous URL as referrer', async () => {
    start();
    history.pushState(null, '', '/products');
    await settle();
    expect(visits[1]).toEqual({
      url: `${location.origin}/products`,
      referrer: `${location.origin}/start?tab=1`,
      title: 'Start',
      navigation: 'push',
    });
  });

  it('makes a replace visit when replaceState changes the path', async () => {
    start();
    history.replaceState(null, '', '/login');
    await settle();
    expect(visits.map((v) => [v.navigation, v.url])).toEqual([
      ['load', `${location.origin}/start?tab=1`],
      ['replace', `${location.origin}/login`],
    ]);
  });

  it('counts a change of the query alone as a visit', async () => {
    start();
    history.pushState(null, '', '/start?tab=2');
    await settle();
    expect(visits.map((v) => v.url)).toEqual([
      `${location.origin}/start?tab=1`,
      `${location.origin}/start?tab=2`,
    ]);
  });

  it('ignores a change of the fragment alone and leaves the fragment out of the URL without hashRoutes', async () => {
    nativeReplace.call(history, null, '', '/start?tab=1#access_token=secret');
    start();
    history.pushState(null, '', '#section-2');
    location.hash = '#section-3';
    dispatchEvent(new PopStateEvent('popstate'));
    await settle();
    expect(visits).toHaveLength(1);
    expect(visits[0]?.url).toBe(`${location.origin}/start?tab=1`);
  });

  it('counts fragment changes as visits with hashRoutes: hashchange as hash, pushState as push', async () => {
    start(true);
    location.hash = '#/cart';
    await new Promise((resolve) => setTimeout(resolve, 0)); // hashchange is dispatched as a task
    history.pushState(null, '', '#/checkout');
    await settle();
    expect(visits.map((v) => [v.navigation, v.url])).toEqual([
      ['load', `${location.origin}/start?tab=1`],
      ['hash', `${location.origin}/start?tab=1#/cart`],
      ['push', `${location.origin}/start?tab=1#/checkout`],
    ]);
  });

  it('leaves a fragment-only popstate to the hashchange that follows, so it counts once as hash', async () => {
    start(true);
    nativePush.call(history, null, '', '#/orders');
    dispatchEvent(new PopStateEvent('popstate'));
    dispatchEvent(new HashChangeEvent('hashchange'));
    await settle();
    expect(visits.map((v) => v.navigation)).toEqual(['load', 'hash']);
  });

  it('makes a pop visit when the visitor goes back to another path', async () => {
    start();
    history.pushState(null, '', '/a');
    await settle();
    history.back();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(visits.map((v) => [v.navigation, v.url])).toEqual([
      ['load', `${location.origin}/start?tab=1`],
      ['push', `${location.origin}/a`],
      ['pop', `${location.origin}/start?tab=1`],
    ]);
    expect(visits[2]?.referrer).toBe(`${location.origin}/a`);
  });

  it('reads the title after the router has set it in the same task', async () => {
    start();
    history.pushState(null, '', '/pricing');
    document.title = 'Pricing';
    await settle();
    expect(visits[1]?.title).toBe('Pricing');
  });

  it('keeps each URL and the order when several navigations happen in one task', async () => {
    start();
    history.pushState(null, '', '/old-route');
    history.replaceState(null, '', '/new-route');
    await settle();
    expect(visits.map((v) => [v.navigation, v.url, v.referrer])).toEqual([
      ['load', `${location.origin}/start?tab=1`, document.referrer],
      ['push', `${location.origin}/old-route`, `${location.origin}/start?tab=1`],
      ['replace', `${location.origin}/new-route`, `${location.origin}/old-route`],
    ]);
  });

  it('makes a restore visit when the page comes back from the back/forward cache, even at the same URL', () => {
    start();
    pageShow(false);
    pageShow(true);
    expect(visits.map((v) => [v.navigation, v.url, v.referrer])).toEqual([
      ['load', `${location.origin}/start?tab=1`, document.referrer],
      ['restore', `${location.origin}/start?tab=1`, ''],
    ]);
  });

  it('counts the visit of a prerendered page only when it becomes visible', async () => {
    Object.defineProperty(document, 'prerendering', { configurable: true, get: () => true });
    start();
    history.replaceState(null, '', '/landing');
    await settle();
    expect(visits).toEqual([]);
    Object.defineProperty(document, 'prerendering', { configurable: true, get: () => false });
    document.dispatchEvent(new Event('prerenderingchange'));
    document.dispatchEvent(new Event('prerenderingchange'));
    expect(visits).toEqual([
      { url: `${location.origin}/landing`, referrer: document.referrer, title: 'Start', navigation: 'load' },
    ]);
  });

  it('restores the original history methods and reports nothing more after stop', async () => {
    start();
    expect(history.pushState).not.toBe(nativePush);
    stop?.();
    expect(history.pushState).toBe(nativePush);
    expect(history.replaceState).toBe(nativeReplace);
    expect(Object.hasOwn(history, 'pushState')).toBe(false);
    history.pushState(null, '', '/after-stop');
    pageShow(true);
    await settle();
    expect(visits).toHaveLength(1);
  });

  it('stays as a pass-through after stop when another script wrapped pushState after us', async () => {
    start();
    const ours = history.pushState;
    const theirCalls: unknown[] = [];
    history.pushState = function (this: History, ...args: Parameters<History['pushState']>) {
      theirCalls.push(args[2]);
      ours.apply(this, args);
    };
    const theirs = history.pushState;
    stop?.();
    expect(history.pushState).toBe(theirs);
    history.pushState(null, '', '/still-works');
    await settle();
    expect(theirCalls).toEqual(['/still-works']);
    expect(location.pathname).toBe('/still-works');
    expect(visits).toHaveLength(1);
    Reflect.deleteProperty(history, 'pushState');
  });

  it('drops a visit queued in the same task as stop', async () => {
    start();
    history.pushState(null, '', '/leaving');
    stop?.();
    await settle();
    expect(visits).toHaveLength(1);
  });

  it('reports an error thrown by onVisit instead of throwing into the page', async () => {
    start(false, () => {
      throw new Error('core failed');
    });
    expect(report).toHaveBeenCalledTimes(1);
    expect(() => history.pushState(null, '', '/next')).not.toThrow();
    await settle();
    expect(location.pathname).toBe('/next');
    expect(report).toHaveBeenCalledTimes(2);
  });

  it('lets an error of the original pushState reach its caller and makes no visit', async () => {
    history.pushState = () => {
      throw new DOMException('not allowed', 'SecurityError');
    };
    const own = history.pushState;
    start();
    expect(() => history.pushState(null, '', 'https://elsewhere.example/')).toThrow('not allowed');
    await settle();
    expect(visits).toHaveLength(1);
    stop?.();
    expect(history.pushState).toBe(own);
    Reflect.deleteProperty(history, 'pushState');
  });
});
