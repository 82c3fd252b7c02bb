// The QA panel: a corner toggle on every demo page that shows, live, what the snippet is doing, fed by
// its own debug hooks (`spoor('debug', listener)` for the script tag, `tracker.onDebug` for npm).
import type { DebugEvent, DebugListener, Unsubscribe } from './debug-event';
import { h } from './dom';
import css from './qa/panel.css';
import { applyDebugEvent, emptyState } from './qa/state';
import { dotClass, renderBody, renderHeader } from './qa/view';

declare global {
  interface Window {
    /** Set by a page that installs Spoor from npm (esm.html): hands the panel `tracker.onDebug`. */
    spoorDebugSubscribe?: (listener: DebugListener) => Unsubscribe;
    spoor?: ((...args: unknown[]) => unknown) & { q?: unknown[] };
  }
}

const OPEN_KEY = 'spoor-qa-open';

function readOpen(): boolean {
  if (new URLSearchParams(location.search).has('spoor-debug')) return true;
  try {
    return sessionStorage.getItem(OPEN_KEY) === '1';
  } catch {
    return false;
  }
}

function writeOpen(open: boolean): void {
  try {
    sessionStorage.setItem(OPEN_KEY, open ? '1' : '0');
  } catch {
    // Storage refused: the panel just forgets across pages.
  }
}

function mount(): void {
  const state = emptyState();
  // spoor-block keeps the panel out of the recording: recording its own live numbers would make
  // events that change the numbers that make events.
  const host = h('div', { id: 'spoor-qa', class: 'spoor-block', 'data-spoor-qa': '' });
  const root = host.attachShadow({ mode: 'open' });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  root.adoptedStyleSheets = [sheet];

  const header = h('header');
  const close = h('button', { class: 'close', type: 'button', 'aria-label': 'Close the QA panel' }, ['×']);
  const headerSlot = h('div', { class: 'header-slot' });
  header.append(headerSlot, close);
  const body = h('div', { class: 'body' });
  const panel = h('section', { class: 'panel', 'aria-label': 'Spoor QA panel' }, [header, body]);
  const dot = h('span', { class: 'dot' });
  const count = h('span', {}, ['0']);
  const toggle = h('button', { class: 'toggle', type: 'button', 'aria-expanded': 'false' }, [
    dot,
    'Spoor QA · ',
    count,
  ]);
  root.append(panel, toggle);

  let open = readOpen();
  let scheduled = false;

  const copy = (text: string): void => {
    navigator.clipboard?.writeText(text).catch(() => undefined);
  };

  const render = (): void => {
    scheduled = false;
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    dot.className = dotClass(state);
    count.textContent = `${state.totals.ok} sent`;
    if (!open) return;
    headerSlot.replaceChildren(...renderHeader(state));
    body.replaceChildren(...renderBody(state, copy));
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(render);
  };

  const setOpen = (next: boolean): void => {
    open = next;
    writeOpen(open);
    render();
  };
  toggle.addEventListener('click', () => setOpen(!open));
  close.addEventListener('click', () => setOpen(false));

  const listener: DebugListener = (event: DebugEvent) => {
    applyDebugEvent(state, event);
    schedule();
  };
  subscribe(listener);

  document.body.append(host);
  render();
}

/** Finds the snippet's debug hook, whichever way the page installed it and whichever loaded first. */
function subscribe(listener: DebugListener): void {
  let subscribed = false;
  const attach = (): void => {
    if (subscribed) return;
    if (typeof window.spoorDebugSubscribe === 'function') {
      subscribed = true;
      window.spoorDebugSubscribe(listener);
    } else if (typeof window.spoor === 'function') {
      // Before spoor.min.js loads this lands in the stub's queue, which the snippet replays.
      subscribed = true;
      window.spoor('debug', listener);
    }
  };
  attach();
  if (!subscribed) window.addEventListener('spoor:debug-source', attach, { once: true });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount, { once: true });
else mount();
