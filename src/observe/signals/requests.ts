// request_failed: fetch and XMLHttpRequest calls answered with a status of 500 or more, or failing on
// the network (status 0) (docs/contract.md, "Events"). Only the method, the URL (without its query
// string unless kept), the status and the duration: never a body or a header. A 404 is an answer, not
// a failure; an aborted request is the page's choice; the snippet's own requests are never reported.

import type { Stop } from '../../types';
import { cleanUrl, type Emit } from './shared';

type Fetch = typeof fetch;

interface XhrInfo {
  method: string;
  url: string;
  start: number;
  aborted: boolean;
}

export function startFailedRequests(
  win: Window,
  emit: Emit,
  /** `own`: URL prefixes of the snippet's own requests (the collector, the Flameup direct mode). */
  opts: { keepQuery: boolean; own: string[] },
  now: () => number = Date.now,
): Stop {
  const own = (url: string): boolean => opts.own.some((prefix) => prefix !== '' && url.startsWith(prefix));
  const report = (method: string, rawUrl: string, status: number, start: number): void => {
    const full = cleanUrl(rawUrl, win.location.href, true);
    if (!full || own(full)) return;
    emit('request_failed', {
      method: method.toUpperCase().slice(0, 16),
      url: opts.keepQuery ? full : cleanUrl(full, full, false),
      status,
      duration: Math.max(0, Math.round(now() - start)),
    });
  };

  const original = win.fetch as Fetch | undefined;
  let wrapped: Fetch | undefined;
  if (typeof original === 'function') {
    wrapped = function spoorFetch(this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      const start = now();
      const request = typeof Request === 'function' && input instanceof Request ? input : null;
      const method = init?.method ?? request?.method ?? 'GET';
      const url = request ? request.url : String(input);
      const promise = original.call(this === undefined ? win : this, input, init);
      promise.then(
        (response) => {
          if (response.status >= 500) report(method, url, response.status, start);
        },
        (error: unknown) => {
          // AbortError: the page cancelled it.
          if (!(error instanceof Error && error.name === 'AbortError')) report(method, url, 0, start);
        },
      );
      return promise;
    } as Fetch;
    win.fetch = wrapped;
  }

  const proto = (win as Window & { XMLHttpRequest?: typeof XMLHttpRequest }).XMLHttpRequest?.prototype;
  const info = new WeakMap<XMLHttpRequest, XhrInfo>();
  const open = proto?.open;
  const send = proto?.send;
  if (proto && open && send) {
    proto.open = function spoorOpen(
      this: XMLHttpRequest,
      method: string,
      url: string | URL,
      ...rest: unknown[]
    ) {
      info.set(this, { method: String(method), url: String(url), start: 0, aborted: false });
      return (open as (...args: unknown[]) => void).call(this, method, url, ...rest);
    } as typeof proto.open;
    proto.send = function spoorSend(this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      const entry = info.get(this);
      if (entry) {
        entry.start = now();
        this.addEventListener('abort', () => {
          entry.aborted = true;
        });
        this.addEventListener('loadend', () => {
          if (!entry.aborted && (this.status === 0 || this.status >= 500)) {
            report(entry.method, entry.url, this.status, entry.start);
          }
        });
      }
      return send.call(this, body);
    };
  }

  return () => {
    // Put the originals back only where ours are still in place: a wrapper added on top of ours
    // keeps calling ours, which still passes every call through.
    if (wrapped && win.fetch === wrapped && original) win.fetch = original;
    if (proto && open && send) {
      proto.open = open;
      proto.send = send;
    }
  };
}
