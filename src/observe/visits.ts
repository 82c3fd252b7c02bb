import type { ReportError, Stop } from '../types';

/** The payload of a `visit` custom event (docs/contract.md, "Events"). */
export interface VisitPayload {
  url: string;
  referrer: string;
  title: string;
  navigation: 'load' | 'push' | 'replace' | 'pop' | 'hash' | 'restore';
}

type InPage = 'push' | 'replace' | 'pop' | 'hash';

/**
 * The page as it was when the bootstrap decided to load the core. The core arrives a moment later (a
 * second file, or a dynamic import), and a single-page app may have navigated by then: the landing is
 * what the 'load' visit and the session's entry URL report, so that they name the page the visitor
 * landed on rather than wherever the app was when the core arrived.
 */
export interface Landing {
  url: string;
  referrer: string;
  title: string;
}

/**
 * Detects page views. Calls onVisit once at start (or when a prerendered page becomes visible) and at
 * each navigation that changes path or query (hash too when hashRoutes). It does NOT enqueue: the
 * core flushes the previous batch, restarts the timer, enqueues customEvent('visit', payload), then
 * calls goals.checkUrl(url).
 *
 * - The 'load' visit is reported synchronously inside this call, so the core must be ready for it. With
 *   a `landing`, it reports the landing, followed by a 'push' visit if the URL has moved since.
 * - `url` leaves out the fragment unless `hashRoutes` is on: fragments carry OAuth tokens
 *   (`#access_token=...`) and in-page anchors that are not page views.
 * - `referrer` is `document.referrer` for 'load', the previous visit's URL for in-page navigations,
 *   and '' for 'restore' (the page the visitor came back from is not exposed to this one).
 * - In-page visits are reported in a microtask after the navigation, in order: routers often set
 *   `document.title` right after `pushState`, and the visit should carry the new page's title. The URL
 *   is read at once, so several navigations in one task each keep their own URL.
 */
export function startVisits(opts: {
  hashRoutes: boolean;
  onVisit: (visit: VisitPayload) => void;
  report: ReportError;
  landing?: Landing | undefined;
}): Stop {
  const { hashRoutes, onVisit, report, landing } = opts;
  /** The URL of the latest visit, as reported: navigations are compared against it. */
  let lastUrl = '';
  /** False while the page is still prerendering and after stop: no visits then. */
  let active = false;
  /** Set by stop; a wrapper that could not be removed checks it and passes calls straight through. */
  let stopped = false;

  const clean = (url: string): string => (hashRoutes ? url : withoutHash(url));
  const currentUrl = (): string => clean(location.href);

  const emit = (
    navigation: VisitPayload['navigation'],
    url: string,
    referrer: string,
    title = document.title,
  ): void => {
    try {
      onVisit({ url, referrer, title, navigation });
    } catch (error) {
      report(error);
    }
  };

  const navigated = (navigation: InPage): void => {
    if (!active) return;
    const url = currentUrl();
    if (url === lastUrl) return;
    const referrer = lastUrl;
    lastUrl = url;
    queueMicrotask(() => {
      if (active) emit(navigation, url, referrer);
    });
  };

  const guarded =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (error) {
        report(error);
      }
    };

  const onPopState = guarded((): void => {
    // A fragment-only change fires popstate and then hashchange; let hashchange label it 'hash'.
    if (hashRoutes && withoutHash(location.href) === withoutHash(lastUrl)) return;
    navigated('pop');
  });
  const onHashChange = guarded((): void => navigated('hash'));
  const onPageShow = guarded((event: PageTransitionEvent): void => {
    // A page restored from the back/forward cache is a new page view even at the same URL.
    if (!event.persisted || !active) return;
    lastUrl = currentUrl();
    emit('restore', lastUrl, '');
  });
  const activate = guarded((): void => {
    if (active || stopped) return;
    active = true;
    const first = landing ?? { url: location.href, referrer: document.referrer, title: document.title };
    lastUrl = clean(first.url);
    emit('load', lastUrl, first.referrer, first.title);
    // Where the app went while the core was loading, if anywhere.
    if (landing) navigated('push');
  });
  const onPrerenderingChange = guarded((): void => {
    document.removeEventListener('prerenderingchange', onPrerenderingChange);
    activate();
  });

  const unpatchPush = patchHistory('pushState', () => !stopped && navigated('push'), report);
  const unpatchReplace = patchHistory('replaceState', () => !stopped && navigated('replace'), report);
  addEventListener('popstate', onPopState);
  addEventListener('pageshow', onPageShow);
  if (hashRoutes) addEventListener('hashchange', onHashChange);

  // A prerendered page has not been seen yet: its visit counts when the visitor activates it.
  if ((document as Document & { prerendering?: boolean }).prerendering === true) {
    document.addEventListener('prerenderingchange', onPrerenderingChange);
  } else {
    activate();
  }

  return () => {
    if (stopped) return;
    stopped = true;
    active = false;
    unpatchPush();
    unpatchReplace();
    removeEventListener('popstate', onPopState);
    removeEventListener('pageshow', onPageShow);
    removeEventListener('hashchange', onHashChange);
    document.removeEventListener('prerenderingchange', onPrerenderingChange);
  };
}

/**
 * Wraps `history[method]` so that `after` runs once the original has changed the URL. The original runs
 * first and its exceptions reach the caller unchanged, exactly as without us. Returns the unpatch
 * function: it restores the original only if nobody wrapped the method after us; otherwise removing our
 * wrapper would also remove theirs, so ours stays as a pass-through (`after` checks the stop flag).
 */
function patchHistory(method: 'pushState' | 'replaceState', after: () => void, report: ReportError): Stop {
  const original = history[method];
  const hadOwn = Object.hasOwn(history, method);
  const wrapper = function (this: History, ...args: Parameters<History['pushState']>): void {
    original.apply(this, args);
    try {
      after();
    } catch (error) {
      report(error);
    }
  };
  history[method] = wrapper;
  return () => {
    if (history[method] !== wrapper) return;
    if (hadOwn) history[method] = original;
    else delete (history as Partial<History>)[method];
  };
}

function withoutHash(url: string): string {
  // A serialized URL has '#' only as the fragment delimiter.
  const i = url.indexOf('#');
  return i === -1 ? url : url.slice(0, i);
}
