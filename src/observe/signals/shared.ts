// What the four detectors share: how an element is named, how a URL is cleaned, and the cap that
// bounds what one page can send (docs/contract.md, "Events": the frustration and failure tags).

import { customEvent, type Enqueue } from '../../types';
import type { SignalPayloads } from '../../wire';

/** The options the recorder hands the detectors (the `rageClicks`, `deadClicks`, `errors`,
 *  `failedRequests` and `requestQueries` options of `init`). */
export interface SignalOptions {
  rageClicks: boolean;
  deadClicks: boolean;
  errors: boolean;
  failedRequests: boolean;
  /** Keep query strings in the URLs of failed requests and error sources. */
  requestQueries: boolean;
  /** The collector's base URL: the snippet's own requests are never reported. */
  endpoint: string;
  /** The Flameup direct mode's URL, when it is on: its requests are the snippet's own too. */
  flameup?: { url?: string } | undefined;
}

/** Where the direct mode sends when its option names no URL (src/flameup/flameup.ts). */
export const FLAMEUP_URL = 'https://api.flameup.ai/api/v1/track';

/** Signals of one tag a page may emit: a page stuck in a loop of errors sends at most this many. */
export const MAX_PER_TAG = 100;

export type Emit = <Tag extends keyof SignalPayloads>(tag: Tag, payload: SignalPayloads[Tag]) => void;

/** An emitter that enqueues custom events and stops each tag at MAX_PER_TAG per page. */
export function capped(enqueue: Enqueue, now: () => number = Date.now): Emit {
  const counts = new Map<string, number>();
  return (tag, payload) => {
    const n = counts.get(tag) ?? 0;
    if (n >= MAX_PER_TAG) return;
    counts.set(tag, n + 1);
    enqueue(customEvent(tag, payload, now()));
  };
}

const CLASS_LIMIT = 3;
const DEPTH = 4;
const SELECTOR_MAX = 256;

/**
 * A short CSS selector for an element: up to four levels of `tag#id.class`, stopping at the first id.
 * It names structure only, never text or values, so it is as private as the recording's masked DOM.
 */
export function selectorOf(element: Element | null): string {
  const parts: string[] = [];
  for (
    let el = element, depth = 0;
    el && el.nodeType === 1 && depth < DEPTH;
    el = el.parentElement, depth++
  ) {
    let part = el.tagName.toLowerCase();
    if (part === 'body' || part === 'html') break;
    if (el.id) {
      parts.unshift(`${part}#${cssIdent(el.id)}`);
      break;
    }
    const classes = (el.getAttribute('class') ?? '').split(/\s+/).filter(Boolean).slice(0, CLASS_LIMIT);
    for (const name of classes) part += `.${cssIdent(name)}`;
    parts.unshift(part);
  }
  return parts.join(' > ').slice(0, SELECTOR_MAX);
}

function cssIdent(value: string): string {
  return value.replace(/[^\w-]/g, (c) => `\\${c}`);
}

/** A URL made absolute, without its fragment, and without its query string unless kept. */
export function cleanUrl(raw: string, base: string, keepQuery: boolean): string {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return '';
  }
  url.hash = '';
  if (!keepQuery) url.search = '';
  return url.href.slice(0, 2048);
}
