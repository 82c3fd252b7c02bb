// dead_click: a click on something clickable after which nothing changed within a second: no DOM
// mutation, no navigation, no focus leaving the window, no form value changing (docs/contract.md,
// "Events"). A click that opens a menu mutates the DOM; a link that leaves the page hides it.

import type { Stop } from '../../types';
import { type Emit, selectorOf } from './shared';

export const DEAD_WINDOW_MS = 1000;

/** What a visitor expects to react to a click. Text fields, selects and the like are left out: a click
 *  into them is how typing starts, not a command. */
const CLICKABLE =
  'a[href],button,[role="button"],[role="link"],[role="menuitem"],[role="tab"],input[type="button"],input[type="submit"],input[type="reset"],input[type="image"],summary,[onclick]';

/** Whether following this link loads another document (not a fragment of this one, not script). */
function leaves(element: Element, current: string): boolean {
  if (!(element instanceof HTMLAnchorElement) || !element.getAttribute('href')) return false;
  if (element.protocol !== 'http:' && element.protocol !== 'https:') return false;
  const strip = (url: string) => url.split('#')[0];
  return strip(element.href) !== strip(current) || element.target === '_blank';
}

export function startDeadClicks(win: Window, emit: Emit): Stop {
  const doc = win.document;
  let pending: { element: Element; timer: ReturnType<typeof setTimeout> } | null = null;
  let observer: MutationObserver | null = null;

  const settle = (): void => {
    if (!pending) return;
    clearTimeout(pending.timer);
    pending = null;
    observer?.disconnect();
  };
  // The fragment is left out: a link to "#" only adds one, which is no answer to the click.
  const href = (): string => win.location.href.split('#')[0] as string;
  // A fragment that scrolls to an element of the page is an answer; "#" or "#top" alone is not.
  const onHash = (): void => {
    const id = decodeURIComponent(win.location.hash.slice(1));
    if (id && doc.getElementById(id)) settle();
  };

  const onClick = (event: MouseEvent): void => {
    const target = event.target instanceof Element ? event.target.closest(CLICKABLE) : null;
    // One watch at a time: clicks on the same element while it is watched are the same dead click.
    if (!target || pending) return;
    const before = href();
    const element = target;
    // A link to another document answers by navigating, which may take longer than the window.
    if (leaves(element, before)) return;
    observer ??= new MutationObserver(settle);
    observer.observe(doc, { subtree: true, childList: true, attributes: true, characterData: true });
    pending = {
      element,
      timer: setTimeout(() => {
        const changed = href() !== before;
        settle();
        if (!changed && element.isConnected) emit('dead_click', { selector: selectorOf(element) });
      }, DEAD_WINDOW_MS),
    };
  };
  const listeners: [EventTarget, string, EventListener, boolean][] = [
    [doc, 'click', onClick as EventListener, true],
    // Any of these is an answer to the click.
    [win, 'pagehide', settle, false],
    [win, 'hashchange', onHash, false],
    [win, 'popstate', settle, false],
    [win, 'blur', settle, false],
    [doc, 'input', settle, true],
    [doc, 'change', settle, true],
    [doc, 'submit', settle, true],
  ];
  for (const [target, type, fn, capture] of listeners) target.addEventListener(type, fn, capture);
  return () => {
    settle();
    for (const [target, type, fn, capture] of listeners) target.removeEventListener(type, fn, capture);
  };
}
